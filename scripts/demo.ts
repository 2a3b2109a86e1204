/**
 * `npm run demo`: the whole story on local emulators, no AWS account needed.
 *
 * Starts the Secrets Manager and Momento emulators in this process on one simulated clock, mints a 1-hour key,
 * stores it, wires rotation to the real function (src/app.ts `createHandler`, wired as src/handler.ts wires
 * it), and drives every door the way AWS would: scheduled sweeps, a forced manual rotation, the rotate-now
 * button, a Momento outage and the sweep that heals it, then a status table. Keys appear only as hash
 * fingerprints, and the run ends by checking that no piece of any key or refresh token was printed.
 *
 * `runDemo({ write })` is the whole demo, for tests (pass a string sink); the CLI is at the bottom.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  CreateSecretCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { status as grpcStatus } from '@grpc/grpc-js';
import { SdkMomentoAuth } from '../src/adapters/momento';
import { createHandler, METRICS_NAMESPACE, type RotatorHandler, SERVICE_NAME } from '../src/app';
import { loadConfig } from '../src/config';
import type { RotateResult, SecretReport, SweepSummary } from '../src/rotation/engine';
import type { RotationEvent, RotationRecord } from '../test/emulators/secrets-manager';
import { FUNCTION_ARN, LocalAws, REGION, type SeededSecret } from '../test/support/local-aws';
import { clockTime, duration, fingerprint, shortId } from './demo/format';
import { FunctionOutputTap } from './demo/function-output';
import { renderInvocation, signature } from './demo/invocations';
import { countLeaks, innerKeyOf, materialOf } from './demo/leak-check';
import { Terminal, wantsColor } from './demo/terminal';

// ------------------------------------------------------------------------------------------ the story's numbers

const SECRET_NAME = 'demo/momento-api-key';
/** Simulated start: a fixed date, so that every run tells the same story with the same times. */
const START_MS = Date.UTC(2026, 10, 23, 9, 0, 0);
const MINUTE_MS = 60_000;
/** A short-lived key, so that an hour of simulated time shows several rotations. */
const KEY_LIFETIME_S = 3600;
/** The stack accepts schedule periods from 5 minutes; 10 keeps the story short. */
const SWEEP_PERIOD_MIN = 10;
/** Default fraction: a key is due with half its lifetime left (30 minutes here). */
const ROTATE_AT_REMAINING_FRACTION = 0.5;
/** The stack's default absolute margin is two schedule periods: 20 minutes here, below the fraction's 30. */
const ROTATE_WITHIN_S = 2 * SWEEP_PERIOD_MIN * 60;
/** Whole-rotation attempts Secrets Manager makes before it gives up (the emulator's default, said explicitly). */
const SM_ROTATION_ATTEMPTS = 3;
/** The stack's function timeout: what a Lambda context counts down from. */
const FUNCTION_TIMEOUT_MS = 180_000;
/**
 * The only timing changed from the engine's defaults. A manual rotation polls DescribeSecret until the new
 * version is AWSCURRENT, once a wall-clock second by default; the emulators finish a rotation in tens of
 * milliseconds, so a 50 ms poll keeps the demo fast without changing what is polled.
 */
const POLL_INTERVAL_MS = 50;

const DEFAULT_LOG_FILE = fileURLToPath(new URL('../.demo/function.log', import.meta.url));

// ------------------------------------------------------------------------------------------ public surface

export interface DemoOptions {
  /** Where the narration goes. */
  readonly write: (text: string) => void;
  /** ANSI colours in the narration. @default false */
  readonly color?: boolean;
  /** File for the function's raw JSON logs and EMF lines; null keeps them in memory. @default .demo/function.log */
  readonly logFile?: string | null;
}

export interface DemoResult {
  /** The story went as the product promises and nothing secret was printed. */
  readonly ok: boolean;
  /** What went otherwise, one sentence each. */
  readonly problems: readonly string[];
  readonly elapsedMs: number;
  readonly logFile: string | null;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

/** One clock for both emulators and the function: simulated hours pass in an instant. */
class SimulatedClock {
  #now = START_MS;
  readonly now = (): number => this.#now;
  /** Moves to a time of the story, given in minutes after 09:00. */
  at(minutesAfterStart: number): void {
    const next = START_MS + minutesAfterStart * MINUTE_MS;
    if (next < this.#now) throw new Error('the simulated clock never goes back');
    this.#now = next;
  }
  get hhmm(): string {
    return clockTime(this.#now);
  }
}

/** A Lambda context whose remaining time counts down in wall-clock time, like the real one. */
function lambdaContext(): { getRemainingTimeInMillis(): number } {
  const started = performance.now();
  return { getRemainingTimeInMillis: () => Math.round(FUNCTION_TIMEOUT_MS - (performance.now() - started)) };
}

/** What EventBridge sends for a schedule rule. */
function scheduledEvent(nowMs: number): Record<string, unknown> {
  return {
    version: '0',
    id: `demo-sweep-${nowMs}`,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: new Date(nowMs).toISOString(),
    region: REGION,
    resources: [`arn:aws:events:${REGION}:123456789012:rule/momento-token-rotator-schedule`],
    detail: {},
  };
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const started = performance.now();
  const term = new Terminal(options.write, options.color ?? false);
  const logFile = options.logFile === undefined ? DEFAULT_LOG_FILE : options.logFile;
  const tap = new FunctionOutputTap();
  const clock = new SimulatedClock();
  const problems: string[] = [];
  const minted: string[] = [];
  let aws: LocalAws | undefined;
  let secret: SeededSecret | undefined;
  let activeStory: Story | undefined;

  term.line();
  term.line(term.paint('bold', '  momento-token-rotator · the whole story on local emulators'));
  term.line(term.paint('dim', '  keys are shown only as sha256 fingerprints · times are simulated UTC'));

  // From here on, what the function writes is caught and summarised instead of flooding the terminal.
  tap.install();
  try {
    aws = await LocalAws.start({
      clock: clock.now,
      secretsManager: { rotationRetry: { maxAttempts: SM_ROTATION_ATTEMPTS } },
    });
    const local = aws;
    const story = new Story(term, tap, clock, local, problems);
    activeStory = story;

    // ---------------------------------------------------------------------------------------- act 1
    term.act(1, 'Local AWS, local Momento, one simulated clock');
    term.line(`   Secrets Manager emulator   ${local.sm.endpoint}   (AWS JSON 1.1, the real SDK v3 client)`);
    term.line(`   Momento emulator           ${local.momento.endpoint}   (gRPC, the real @gomomento/sdk)`);

    const pair = local.momento.mintKeyPair({ lifetimeSeconds: KEY_LIFETIME_S });
    minted.push(pair.apiKey, pair.refreshToken);
    term.line();
    story.say(
      `minted a Momento key that lives ${duration(KEY_LIFETIME_S)}: key ${fingerprint(pair.apiKey)}, ` +
        `valid until ${clockTime(pair.validUntil * 1000)}Z`,
    );
    // The user's day one: the JSON downloaded from the console, put into a secret with the real API.
    const created = await local.client.send(
      new CreateSecretCommand({
        Name: SECRET_NAME,
        SecretString: JSON.stringify({
          apiKey: pair.apiKey,
          refreshToken: pair.refreshToken,
          validUntil: pair.validUntil,
        }),
      }),
    );
    const arn = created.ARN as string;
    // What the stack's RotationSchedule does: rotation enabled with this function, nothing rotated yet.
    local.sm.configureRotation(arn, FUNCTION_ARN);
    secret = { arn, name: SECRET_NAME, chain: local.momento.chainOf(pair.apiKey) };
    story.secret = secret;
    story.say(`put it into secret ${SECRET_NAME} (CreateSecret)`);
    story.say('rotation enabled with the function, as the stack does', false);

    const env = {
      ...local.env([SECRET_NAME]),
      ROTATE_AT_REMAINING_FRACTION: String(ROTATE_AT_REMAINING_FRACTION),
      ROTATE_WITHIN_SECONDS: String(ROTATE_WITHIN_S),
    };
    const config = loadConfig(env);
    // One Lambda container, wired exactly as src/handler.ts wires it (it reads the same environment).
    story.containerFactory = () => {
      const secretsManager = new SecretsManagerClient({
        endpoint: local.sm.endpoint,
        region: REGION,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        // As src/handler.ts: bounded attempts, so that the engine's own pending-write retries can work.
        requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000 },
      });
      const fn = createHandler({
        config,
        secretsManager,
        momento: new SdkMomentoAuth(config.momentoEndpointOverride),
        logger: new Logger({ serviceName: SERVICE_NAME }),
        metrics: new Metrics({ serviceName: SERVICE_NAME, namespace: METRICS_NAMESPACE }),
        clock: clock.now,
        timing: { pollIntervalMs: POLL_INTERVAL_MS },
      });
      return { fn, close: () => secretsManager.destroy() };
    };
    // Secrets Manager invokes the same function for the four steps, as RotationLambdaARN points to it.
    local.setRotationFunction((event, context) => story.step(event, context));

    term.line();
    term.line('   the function (src/app.ts createHandler, real clients pointed at the emulators):');
    term.line(`     ROTATOR_SECRET_IDS=${SECRET_NAME}`);
    term.line(
      `     ROTATE_AT_REMAINING_FRACTION=${ROTATE_AT_REMAINING_FRACTION}   ` +
        term.paint('dim', `due with ≤ ${duration(ROTATE_AT_REMAINING_FRACTION * KEY_LIFETIME_S)} left`),
    );
    term.line(
      `     ROTATE_WITHIN_SECONDS=${ROTATE_WITHIN_S}         ` +
        term.paint('dim', `or ≤ ${duration(ROTATE_WITHIN_S)} left (two sweep periods)`),
    );
    term.line(`     schedule: a sweep every ${SWEEP_PERIOD_MIN} simulated minutes`);
    story.state();

    // ---------------------------------------------------------------------------------------- act 2
    term.act(2, 'The schedule', `EventBridge invokes the function every ${SWEEP_PERIOD_MIN} minutes`);
    clock.at(10);
    story.expect((await story.sweep('full')).state === 'not-due', '09:10 sweep: the key is not due yet');
    clock.at(20);
    story.expect((await story.sweep('quiet')).state === 'not-due', '09:20 sweep: the key is not due yet');
    clock.at(30);
    const due = await story.sweep('full');
    story.expect(due.state === 'rotation-started', '09:30 sweep: the key is due and a rotation starts');
    await story.rotations({ outcome: 'succeeded', versionId: due.rotationVersionId });
    story.state();

    // ---------------------------------------------------------------------------------------- act 3
    term.act(3, 'A forced rotation', 'a person invokes the function by hand; force skips the due check');
    clock.at(33);
    const forced = await story.forceRotate();
    story.expect(forced.outcome === 'rotated', 'the forced rotation rotates a key that is not due');
    await story.rotations({ outcome: 'succeeded', versionId: forced.versionId });
    story.state();

    // ---------------------------------------------------------------------------------------- act 4
    term.act(4, 'Rotate now', 'the console button: Secrets Manager runs the four steps itself');
    clock.at(36);
    const buttonVersion = await story.rotateNow();
    await story.rotations({ outcome: 'succeeded', versionId: buttonVersion });
    story.state();

    // ---------------------------------------------------------------------------------------- act 5
    term.act(5, 'Momento has an outage', 'at 10:10 RefreshApiToken answers UNAVAILABLE, through every retry');
    term.line('   the sweeps in between find nothing due:');
    for (const minutes of [40, 50, 60]) {
      clock.at(minutes);
      const report = await story.sweep('quiet');
      story.expect(report.state === 'not-due', `${clock.hhmm} sweep: the key is not due yet`);
    }
    clock.at(70);
    const currentBefore = local.versionIdWith(arn, 'AWSCURRENT');
    const refreshesBefore = local.momento.stats.refreshes;
    // One UNAVAILABLE for each attempt Secrets Manager makes: it retries the whole rotation from createSecret.
    local.momento.faults.failNext('RefreshApiToken', SM_ROTATION_ATTEMPTS, grpcStatus.UNAVAILABLE);
    story.say(
      term.paint(
        'yellow',
        `outage starts: the next ${SM_ROTATION_ATTEMPTS} RefreshApiToken calls answer UNAVAILABLE`,
      ),
    );
    const failing = await story.sweep('full');
    story.expect(failing.state === 'rotation-started', '10:10 sweep: the key is due and a rotation starts');
    await story.rotations({ outcome: 'failed', versionId: failing.rotationVersionId });
    story.expect(
      local.versionIdWith(arn, 'AWSCURRENT') === currentBefore,
      'a failed rotation leaves AWSCURRENT where it was',
    );
    story.expect(local.momento.stats.refreshes === refreshesBefore, 'no refresh reached Momento');
    story.state();
    term.line();
    term.line(
      term.paint('dim', '   ChainAtRisk: an UNAVAILABLE refresh may have been applied with its answer lost.'),
    );
    term.line(
      term.paint(
        'dim',
        '   Here nothing was (Momento committed no refresh): the stored pair is still the live one.',
      ),
    );
    await story.rotateNowRefused();

    // ---------------------------------------------------------------------------------------- act 6
    term.act(
      6,
      'The next sweep heals',
      'the key is in its last margin, so it clears the 10-minute-old empty AWSPENDING at once, then rotates',
    );
    clock.at(80);
    const healed = await story.sweep('full');
    story.expect(healed.healed === 'cleared', '10:20 sweep: the empty pending version is cleared');
    story.expect(healed.state === 'rotation-started', '10:20 sweep: the still-due key is rotated');
    await story.rotations({ outcome: 'succeeded', versionId: healed.rotationVersionId });
    story.state();

    // ---------------------------------------------------------------------------------------- act 7
    term.act(7, 'Status', 'aws lambda invoke --payload \'{"action":"status"}\'');
    await story.status();
    story.summary();
  } catch (error) {
    // The story stops; what was shown stays, the emulators still stop, and the run still fails.
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    problems.push(`the demo stopped: ${text}`);
    term.line(term.paint(['red', 'bold'], `\n   ✗ the demo stopped: ${text}`));
  } finally {
    tap.uninstall();
    activeStory?.closeContainers();
    await aws?.stop();
  }

  // ------------------------------------------------------------------------------------------ wrap up
  const rawLog = tap.allLines.length === 0 ? '' : `${tap.allLines.join('\n')}\n`;
  let shownLogFile: string | null = null;
  if (logFile !== null) {
    await mkdir(dirname(logFile), { recursive: true });
    await writeFile(logFile, rawLog);
    shownLogFile = relative(process.cwd(), logFile) || logFile;
    term.line();
    term.line(
      `   the function's raw output (${tap.allLines.length} lines: JSON logs, EMF metrics): ${shownLogFile}`,
    );
  }

  // Every key and refresh token the story handled: the minted pair, every stored version's pair, and the
  // chain's live pair at Momento (the same as AWSCURRENT's when all went well; not if a pair got lost).
  const material = [...minted];
  if (aws !== undefined && secret !== undefined) {
    for (const version of aws.sm.inspect(secret.arn).versions) {
      material.push(...materialOf(version.secretString));
    }
    const live = aws.momento.livePair(secret.chain);
    if (live !== undefined) material.push(live.apiKey, live.refreshToken, ...innerKeyOf(live.apiKey));
  }
  const leaks = countLeaks([term.printed, rawLog], material);
  if (leaks > 0) {
    problems.push(`${leaks} key(s) or refresh token(s) appeared (8 characters or more) in the output`);
    term.line(
      term.paint(['red', 'bold'], `   ✗ leak check: ${leaks} secret value(s) appeared in the output`),
    );
  } else {
    term.line(
      `   ${term.paint('green', '✓')} leak check: not 8 characters of any of the ${new Set(material).size} keys ` +
        'and refresh tokens in the output',
    );
  }

  const elapsedMs = performance.now() - started;
  // performance.now() counts from process start: the second figure includes loading the SDKs.
  const timing = `${seconds(elapsedMs)} s for the story, ${seconds(performance.now())} s since node started`;
  term.line(
    problems.length === 0
      ? `   ${term.paint('green', '✓')} done: ${timing}`
      : term.paint(['red', 'bold'], `   ✗ ${problems.length} problem(s): ${problems.join('; ')} (${timing})`),
  );
  term.line();
  return { ok: problems.length === 0, problems, elapsedMs, logFile: shownLogFile };
}

// ------------------------------------------------------------------------------------------ the doors, narrated

/** One Lambda execution environment: the function as src/handler.ts builds it once per container. */
interface Container {
  readonly fn: RotatorHandler;
  close(): void;
}

interface Slot {
  readonly id: number;
  readonly container: Container;
  busy: boolean;
}

/** The function's four doors as AWS drives them, each narrated with what the function logged. */
class Story {
  /** Builds one Lambda container: the function with its own clients, logger and metrics. */
  containerFactory: (() => Container) | undefined;
  secret: SeededSecret | undefined;
  /**
   * Lambda runs one invocation at a time per container and starts another container when all are busy. A
   * manual rotation keeps its container busy while Secrets Manager invokes the steps, so those run in a
   * second one, as in AWS (sharing one would also mix up whose buffered metrics each flush publishes).
   */
  readonly #containers: Slot[] = [];
  readonly #rotationAttempts = new Map<string, number>();
  /** Per rotation step: the first attempt that logged a given signature. */
  readonly #said = new Map<string, { attempt: number; signature: string }>();
  #rotationsSeen = 0;
  #invocations = 0;

  constructor(
    private readonly term: Terminal,
    private readonly tap: FunctionOutputTap,
    private readonly clock: SimulatedClock,
    private readonly aws: LocalAws,
    private readonly problems: string[],
  ) {}

  /** A line of narration, stamped with the simulated time. */
  say(text: string, stamped = true): void {
    const when = stamped ? this.term.paint('cyan', this.clock.hhmm) : '     ';
    this.term.line(`   ${when}  ${text}`);
  }

  /** A promise the product makes at this point of the story; a broken one fails the run, loudly. */
  expect(condition: boolean, description: string): void {
    if (condition) return;
    this.problems.push(`expected: ${description}`);
    this.term.line(this.term.paint(['red', 'bold'], `   ✗ expected: ${description}`));
  }

  /** One invocation of the function, its output caught and summarised. */
  async #invoke<T>(
    label: string,
    event: unknown,
    context: { getRemainingTimeInMillis(): number },
    detail: 'full' | 'quiet',
    extra: { versionId?: string; attempt?: number; retryOf?: string } = {},
  ): Promise<T> {
    const { slot, coldStart } = this.#acquire();
    this.#invocations += 1;
    const started = performance.now();
    const outcome = await this.tap.capture(() => slot.container.fn(event, context));
    slot.busy = false;
    // A retry that failed exactly as an earlier attempt did is shown as a reference to it, not repeated.
    let sameAsAttempt: number | undefined;
    if (extra.retryOf !== undefined) {
      const said = signature(outcome.lines);
      const earlier = this.#said.get(extra.retryOf);
      if (earlier?.signature === said) sameAsAttempt = earlier.attempt;
      else this.#said.set(extra.retryOf, { attempt: extra.attempt ?? 1, signature: said });
    }
    renderInvocation(
      this.term,
      {
        label,
        versionId: extra.versionId,
        ...(extra.attempt === undefined ? {} : { attempt: extra.attempt }),
        ok: outcome.ok,
        ...(coldStart ? { coldStartContainer: slot.id } : {}),
        ...(sameAsAttempt === undefined ? {} : { sameAsAttempt }),
        durationMs: performance.now() - started,
        lines: outcome.lines,
        detail,
      },
      new Map(this.secret === undefined ? [] : [[this.secret.arn, this.secret.name]]),
    );
    if (!outcome.ok) throw outcome.error;
    return outcome.result as T;
  }

  /** An idle container, or a new one (a cold start) when every container is busy. */
  #acquire(): { slot: Slot; coldStart: boolean } {
    const idle = this.#containers.find((slot) => !slot.busy);
    if (idle !== undefined) {
      idle.busy = true;
      return { slot: idle, coldStart: false };
    }
    if (this.containerFactory === undefined) throw new Error('the function is not wired yet');
    const slot = { id: this.#containers.length + 1, container: this.containerFactory(), busy: true };
    this.#containers.push(slot);
    return { slot, coldStart: true };
  }

  closeContainers(): void {
    for (const { container } of this.#containers) container.close();
  }

  /** Door 1: Secrets Manager invoking one rotation step. */
  step(event: RotationEvent, context: { getRemainingTimeInMillis(): number }): Promise<unknown> {
    // Secrets Manager retries the whole rotation with the same token: count attempts per step and token.
    const key = `${event.ClientRequestToken}/${event.Step}`;
    const attempt = (this.#rotationAttempts.get(key) ?? 0) + 1;
    this.#rotationAttempts.set(key, attempt);
    return this.#invoke(event.Step, event, context, 'full', {
      versionId: event.ClientRequestToken,
      attempt,
      retryOf: key,
    });
  }

  /** Door 2: the EventBridge schedule. Returns this secret's report. */
  async sweep(detail: 'full' | 'quiet'): Promise<SecretReport> {
    if (detail === 'full') this.say('EventBridge → scheduled sweep');
    const line = detail === 'quiet' ? `schedule ${this.clock.hhmm}` : 'schedule';
    const summary = await this.#invoke<SweepSummary>(
      line,
      scheduledEvent(this.clock.now()),
      lambdaContext(),
      detail,
    );
    const report = summary.secrets.find((r) => r.secretId === this.secret?.name);
    if (report === undefined) throw new Error(`the sweep did not report ${this.secret?.name}`);
    const left =
      report.secondsUntilExpiry === null ? 'never expires' : `${duration(report.secondsUntilExpiry)} left`;
    if (report.healed !== undefined) {
      const what =
        report.healed === 'cleared' ? 'cleared the empty AWSPENDING' : 'finished the pending rotation';
      this.term.line(`        → ${this.term.paint('yellow', `healed: ${what}`)}`);
    }
    const verdict =
      report.state === 'rotation-started'
        ? `${this.term.paint('bold', 'due')} (${left}) → RotateSecret started version ${shortId(report.rotationVersionId)}`
        : `${report.state.replace('-', ' ')} (${left}; due at ≤ ${duration(this.#dueThreshold())} left)`;
    this.term.line(`        ${detail === 'quiet' ? '  ' : '→ '}${verdict}`);
    return report;
  }

  /** Door 3: a person's manual invoke, forced. */
  async forceRotate(): Promise<RotateResult> {
    this.say(`aws lambda invoke --payload '{"action":"rotate","force":true}'`);
    const result = await this.#invoke<RotateResult>(
      'rotate (manual, force)',
      { action: 'rotate', force: true },
      lambdaContext(),
      'full',
    );
    this.term.line(
      `        → ${result.outcome}: version ${shortId(result.versionId)}, valid until ` +
        `${clockTime(result.validUntil * 1000)}Z (${duration(result.secondsUntilExpiry)} left)`,
    );
    return result;
  }

  /** The rotate-now button: RotateSecret, and Secrets Manager invokes the function for each step. */
  async rotateNow(): Promise<string | undefined> {
    this.say(`aws secretsmanager rotate-secret --secret-id ${SECRET_NAME}`);
    const { VersionId } = await this.aws.client.send(new RotateSecretCommand({ SecretId: SECRET_NAME }));
    this.term.line(
      `        → RotateSecret answered version ${shortId(VersionId)}; the steps run in the background`,
    );
    return VersionId;
  }

  /** While an unfinished rotation holds AWSPENDING, Secrets Manager refuses to start another one. */
  async rotateNowRefused(): Promise<void> {
    this.say(`aws secretsmanager rotate-secret --secret-id ${SECRET_NAME}`);
    try {
      await this.aws.client.send(new RotateSecretCommand({ SecretId: SECRET_NAME }));
      this.expect(false, 'RotateSecret is refused while the failed rotation holds AWSPENDING');
      await this.aws.sm.whenRotationsIdle();
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      this.term.line(
        `        → ${this.term.paint('yellow', `refused (${name})`)}: a previous rotation isn't complete`,
      );
      this.term.line('          nobody has to act: the next sweep heals the stuck AWSPENDING');
    }
  }

  /** Door 3: status, and the final table. */
  async status(): Promise<void> {
    const { secrets } = await this.#invoke<{ secrets: SecretReport[] }>(
      'status',
      { action: 'status' },
      lambdaContext(),
      'full',
    );
    this.term.line();
    this.term.table(
      ['secret', 'state', 'version', 'key', 'valid until', 'time left'],
      secrets.map((report) => [
        report.secretId,
        report.state,
        shortId(report.versionId),
        this.#keyFingerprint(report.versionId),
        report.validUntil === null ? 'never' : `${clockTime(report.validUntil * 1000)}Z`,
        report.secondsUntilExpiry === null ? '—' : duration(report.secondsUntilExpiry),
      ]),
    );
    this.expect(
      secrets.every((r) => r.state === 'not-due'),
      'status: every managed secret is fresh (not due)',
    );
  }

  /**
   * Waits for Secrets Manager's background rotations and narrates the new entries of its rotation log. The
   * story knows which outcome the product promises at this point; anything else fails the run.
   */
  async rotations(expected: {
    outcome: RotationRecord['outcome'];
    versionId: string | undefined;
  }): Promise<void> {
    await this.aws.sm.whenRotationsIdle();
    const fresh = this.aws.sm.rotationLog.slice(this.#rotationsSeen);
    this.#rotationsSeen = this.aws.sm.rotationLog.length;
    for (const record of fresh) {
      const tries = `${record.attempts} attempt${record.attempts === 1 ? '' : 's'}`;
      const text =
        record.outcome === 'succeeded'
          ? this.term.paint(
              'green',
              `rotation ${shortId(record.versionId)} succeeded (${tries}, AWSCURRENT moved)`,
            )
          : this.term.paint(
              ['red', 'bold'],
              `rotation ${shortId(record.versionId)} FAILED at ${record.failedStep} (${tries}; nothing promoted)`,
            );
      this.term.line(`        Secrets Manager: ${text}`);
    }
    const last = fresh.at(-1);
    this.expect(
      last !== undefined && last.outcome === expected.outcome && last.versionId === expected.versionId,
      `rotation ${shortId(expected.versionId)} ${expected.outcome}`,
    );
  }

  /** Where the secret stands: labels, key fingerprints, expiry, and whether the refresh chain is intact. */
  state(): void {
    const secret = this.secret;
    if (secret === undefined) return;
    const { versions } = this.aws.sm.inspect(secret.arn);
    const now = this.clock.now();
    this.term.line();
    for (const label of ['AWSCURRENT', 'AWSPENDING', 'AWSPREVIOUS']) {
      const version = versions.find((v) => v.stages.includes(label));
      // AWSPENDING also sits on the current version after a finished rotation: only an unfinished one matters.
      if (version === undefined || (label === 'AWSPENDING' && version.stages.includes('AWSCURRENT')))
        continue;
      const value = version.secretString === undefined ? undefined : JSON.parse(version.secretString);
      const facts =
        value === undefined
          ? this.term.paint('yellow', 'no value (the empty version RotateSecret created)')
          : `key ${fingerprint(String(value.apiKey))}  valid until ${clockTime(value.validUntil * 1000)}Z  ` +
            `${duration(value.validUntil - Math.floor(now / 1000))} left`;
      const name = label === 'AWSCURRENT' ? this.term.paint('bold', label.padEnd(11)) : label.padEnd(11);
      this.term.line(`   ${name} ${shortId(version.versionId)}  ${facts}`);
    }
    const intact = this.aws.chainIntact(secret);
    this.term.line(
      intact
        ? `   ${this.term.paint('green', '✓ chain intact')}: AWSCURRENT holds the chain's one live refresh token`
        : `   ${this.term.paint(['red', 'bold'], '✗ chain broken')}: AWSCURRENT does not hold the live refresh token`,
    );
    this.expect(intact, `${this.clock.hhmm}: the refresh chain is intact`);
  }

  /** Totals of the run, from the emulators' own counters. */
  summary(): void {
    const log = this.aws.sm.rotationLog;
    const ok = log.filter((r) => r.outcome === 'succeeded').length;
    const { calls, refreshes } = this.aws.momento.stats;
    this.term.line();
    this.term.line(
      `   ${this.#invocations} function invocations · ${ok} rotations succeeded, ${log.length - ok} failed · ` +
        `Momento: ${refreshes} refreshes, ${calls.ListCaches ?? 0} key checks`,
    );
  }

  #keyFingerprint(versionId: string | undefined): string {
    if (this.secret === undefined || versionId === undefined) return '—';
    const version = this.aws.sm.inspect(this.secret.arn).versions.find((v) => v.versionId === versionId);
    if (version?.secretString === undefined) return '—';
    const value = JSON.parse(version.secretString) as { apiKey?: unknown };
    return typeof value.apiKey === 'string' ? fingerprint(value.apiKey) : '—';
  }

  /** The due rule for the current key, as remaining seconds: the larger of its two margins. */
  #dueThreshold(): number {
    if (this.secret === undefined) return ROTATE_WITHIN_S;
    const current = this.aws.sm
      .inspect(this.secret.arn)
      .versions.find((v) => v.stages.includes('AWSCURRENT'));
    const value = current?.secretString === undefined ? {} : JSON.parse(current.secretString);
    if (current === undefined || typeof value.validUntil !== 'number') return ROTATE_WITHIN_S;
    const lifetime = value.validUntil - Math.floor(current.createdDate / 1000);
    return Math.max(ROTATE_AT_REMAINING_FRACTION * lifetime, ROTATE_WITHIN_S);
  }
}

// ------------------------------------------------------------------------------------------ CLI

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;

if (invokedDirectly) {
  // Bound now, before the demo redirects process.stdout.write to catch the function's output.
  const out = process.stdout.write.bind(process.stdout);
  // No top-level await: the module stays importable from CommonJS test runners too.
  runDemo({ write: (text) => void out(text), color: wantsColor(process.stdout, process.env) }).then(
    (result) => {
      process.exitCode = result.ok ? 0 : 1;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
