import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  RotateSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { status } from '@grpc/grpc-js';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { SdkMomentoAuth } from '../../src/adapters/momento';
import { createHandler, METRICS_NAMESPACE, SERVICE_NAME } from '../../src/app';
import type { Timing } from '../../src/rotation/engine';
import type { Invocation, MomentoAuth } from '../../src/rotation/ports';
import { EMPTY_PENDING_GRACE_SECONDS } from '../../src/rotation/sweep';
import type { RotationEvent } from '../emulators/secrets-manager';
import { LocalAws, REGION, type SeededSecret } from '../support/local-aws';
import { LogTap } from './log-tap';
import { Trace } from './trace';

/**
 * A seeded chaos run over the real product: the engine built by `createHandler` with the real Secrets Manager
 * client and the real Momento SDK, over sockets to both emulators, on a simulated clock. Every attempt draws
 * faults for every external call, sometimes an invocation deadline that cuts steps short, moves the clock
 * (up to one schedule period), fires the hourly sweep when an hour has passed, and adds one door or several
 * at once. After every attempt the checks run. After every fault-free sweep (a sweep alone in an attempt
 * that armed no fault, and the clean sweep that every tenth attempt adds an hour later) no pending version
 * may survive (except an empty one younger than the engine's heal grace: a rotation under way) and the live
 * link must sit in AWSCURRENT, or in the AWSPREVIOUS twin the next createSecret uses; a sweep under faults may
 * legitimately fail, so it is not held to that.
 *
 * A lost chain is judged by what happened to the refresh that issued its live link, as Momento and this process
 * saw it (see `explainLoss`), never by how fast the machine was: a slow machine makes real deadlines pass, and
 * what a deadline then took is classified by what it took.
 *
 * What is random comes from the seed (the fault plan, the doors, the clock); how concurrent invocations
 * interleave on the sockets is not, so a rerun with the same seed replays the same plan, not the same trace.
 * `CHAOS_TRACE=<file>` appends, for every violation, the events of the last attempts that name the secret:
 * the function's log lines, invocations, Secrets Manager calls and refreshes (tokens as sha256 prefixes).
 */
export interface ChaosOptions {
  readonly seed: number;
  /** Stop once Secrets Manager has run this many rotations (each a rotation attempt, finished or failed). */
  readonly rotations: number;
  /** Stop after this attempt even if fewer rotations ran (a regression seed runs up to where it once failed). */
  readonly attempts?: number;
  /**
   * Run from this attempt on: the attempts before it are drawn from the seed but not run, so the ones that run
   * get the same plans (faults, deadlines, doors, clock) as in a whole run, over secrets seeded fresh. @default 1
   */
  readonly fromAttempt?: number;
  readonly secrets?: number;
  /** Progress lines (every few hundred rotations). */
  readonly progress?: (line: string) => void;
}

export interface ChaosSummary {
  readonly seed: number;
  /** The first attempt run (the ones before it were drawn, not run) and the last. */
  readonly fromAttempt: number;
  readonly attempts: number;
  readonly rotationAttempts: number;
  readonly rotationsCompleted: number;
  readonly rotationsFailed: number;
  /** Faults the seeded plan armed, by kind (a fault armed for a call that never came is not applied). */
  readonly faultsArmed: Record<string, number>;
  /** Faults the emulators applied to calls, by kind. */
  readonly faultsApplied: Record<string, number>;
  /** Invocations still running when their Lambda deadline passed. */
  readonly invocationsCut: number;
  readonly heals: number;
  /**
   * Explained: the chain's live link was issued by a refresh whose answer Momento dropped after committing it, or
   * whose answer reached the process when its invocation had less left than the engine keeps for storing a pair;
   * the secret still held the token that refresh spent; and a ChainAtRisk report named the secret after that
   * refresh began, while its current key had time left. Any other loss is unexplained.
   */
  readonly chainsLost: {
    readonly explained: number;
    readonly unexplained: number;
    /** Explained losses by what took the pair: its answer lost after commit, or its invocation's end. */
    readonly explainedBy: Readonly<Record<'answer lost' | 'invocation ended', number>>;
  };
  readonly chainAtRiskReports: number;
  /** Checks after a fault-free sweep (each: no pending version survived, the live link in AWSCURRENT). */
  readonly cleanSweepChecks: number;
  /**
   * Sweeps without injected faults during which a real deadline of the function ran out (a slow machine): judged
   * as sweeps under faults; what they left behind is held to the next fault-free sweep's checks.
   */
  readonly sweepsWithRealDeadlines: number;
  /** Empty pending versions a fault-free sweep left alone because they were younger than the heal grace. */
  readonly youngPendingsLeftAlone: number;
  /** After an attempt under faults, AWSCURRENT held a spent token while the live link was elsewhere. */
  readonly liveLinkOutsideCurrent: { readonly inPending: number; readonly inPreviousTwin: number };
  /** After a fault-free sweep that had no reason to rotate the secret, the live link was still in the twin. */
  readonly liveLinkInTwinAfterCleanSweep: number;
  /** Refresh calls refused after an earlier success under the same token (overlapping invocations). */
  readonly refusedRepeatRefreshes: number;
  /** Tokens whose createSecret sent two different pairs (one refused as stale); never two refreshes. */
  readonly tokensRefreshingTwoPairs: number;
  readonly violations: readonly string[];
  readonly seconds: number;
}

/** A refresh whose new pair reached the process: when, and how much time its invocation had left then. */
interface AnsweredRefresh {
  readonly spentRefreshToken: string;
  /** The run's clock (epoch ms). */
  readonly calledAt: number;
  readonly answeredAt: number;
  /** The invocation's remaining time when the answer arrived; negative once its Lambda deadline passed. */
  readonly remainingMs: number;
}

const HOUR_MS = 3_600_000;
const LIFETIME_SECONDS = 12 * 3600;
/** Scaled-down engine deadlines: the same proportions as production, so that cut-short steps are common. */
const TIMING: Partial<Timing> = {
  refreshMinWaitMs: 300,
  verifyTimeoutMs: 300,
  writeReserveMs: 400,
  safetyMarginMs: 40,
  pollIntervalMs: 5,
  writeRetryMinMs: 2,
};
/** What the engine keeps for storing a new pair: it stops waiting for a refresh answer when less is left. */
const TIME_TO_STORE_MS = (TIMING.writeReserveMs ?? 0) + (TIMING.safetyMarginMs ?? 0);
/** The function's timeout (3 minutes in the stack), scaled like TIMING. */
const FULL_DEADLINE_MS = 5_000;
/**
 * The SDK's own deadline for RefreshApiToken and ListCaches (60 s, a third of the function's timeout), scaled
 * alike: a call that never answers ends there, as in production, and not only when the invocation runs out.
 */
const SDK_DEADLINE_MS = FULL_DEADLINE_MS / 3;
const MANUAL_DEADLINE_MS = 700;
/** The Secrets Manager calls a rotation step makes: a long delay on one of them outlasts a short deadline. */
const SM_OPERATIONS = [
  'DescribeSecret',
  'GetSecretValue',
  'PutSecretValue',
  'UpdateSecretVersionStage',
  'BatchGetSecretValue',
  'ListSecrets',
  'RotateSecret',
] as const;

/** A token as reports name it: a sha256 prefix, never the value's own characters. */
function fingerprint(value: string | undefined): string {
  return value === undefined ? '-' : createHash('sha256').update(value).digest('hex').slice(0, 8);
}

class Dice {
  #rng;
  constructor(seed: number) {
    this.#rng = xoroshiro128plus(seed);
  }
  int(min: number, max: number): number {
    return uniformInt(this.#rng, min, max);
  }
  chance(p: number): boolean {
    return this.int(0, 9_999) < p * 10_000;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)] as T;
  }
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosSummary> {
  const started = performance.now();
  const dice = new Dice(opts.seed);
  // Faults added after seeds were kept as regressions draw from their own stream, so that those seeds' plans
  // keep every earlier draw.
  const laterDice = new Dice(opts.seed ^ 0x5eed);
  // Simulated time jumps between attempts and runs on with real time within one, as a clock does: versions
  // written one after another get increasing CreatedDates.
  let now = Date.UTC(2026, 10, 23, 12);
  const realStart = performance.now();
  const clock = () => now + (performance.now() - realStart);
  const aws = await LocalAws.start({
    clock,
    momento: { hungCallDeadlineMs: SDK_DEADLINE_MS },
    secretsManager: {
      rotationRetry: { maxAttempts: 3, baseDelayMs: 2, maxDelayMs: 10 },
      invocationTimeoutMs: 60_000,
    },
  });
  const tap = new LogTap(clock);
  tap.install();
  const traceFile = process.env.CHAOS_TRACE;
  const trace = traceFile ? new Trace(traceFile, clock) : undefined;
  if (trace) tap.onLine = (line) => trace.add(line);
  const faults: Record<string, number> = {};
  /** Counts what the plan armed, in calls (a fault armed for n calls counts n). */
  let armedThisAttempt = 0;
  const count = (kind: string, calls = 1) => {
    faults[kind] = (faults[kind] ?? 0) + calls;
    armedThisAttempt += calls;
    trace?.add(`attempt armed: ${kind} x${calls}`);
  };
  const violations: string[] = [];
  const chainsLost = {
    explained: 0,
    unexplained: 0,
    explainedBy: { 'answer lost': 0, 'invocation ended': 0 },
  };
  const liveLinkOutsideCurrent = { inPending: 0, inPreviousTwin: 0 };
  let liveLinkInTwinAfterCleanSweep = 0;
  let cleanSweepChecks = 0;
  let youngPendingsLeftAlone = 0;
  let sweepsWithRealDeadlines = 0;
  /** Momento's dropped refreshes already held to "each one lost its chain". */
  let dropsSeen = 0;
  let refusedRepeats = 0;
  let deadlineCuts = 0;
  const tokensWithTwoPairs = new Set<string>();

  try {
    const secretCount = opts.secrets ?? 16;
    const secretNames = Array.from(
      { length: secretCount },
      (_, i) => `chaos/key-${String(i).padStart(2, '0')}`,
    );
    // Seeded when the first attempt that runs begins, so that every key is fresh then.
    const secrets: SeededSecret[] = [];
    const seedSecrets = () => {
      for (const name of secretNames) secrets.push(aws.seed(name, LIFETIME_SECONDS));
    };

    // Which rotation step invocation each refresh call is made for: its ClientRequestToken, to prove no token
    // ever refreshes twice, and its Lambda context, to tell how much time it had left when the answer came.
    const stepInvocation = new AsyncLocalStorage<{ token: string; context: Invocation }>();
    const refreshesByToken = new Map<
      string,
      { sent: Set<string>; succeeded: number; callsAfterSuccess: number }
    >();
    /**
     * Refresh calls not settled yet, the engine waiting or not: an answer that comes after the engine stopped
     * waiting must be seen before the checks judge the chain.
     */
    const refreshesInFlight = new Set<Promise<unknown>>();
    /** Every refresh Momento answered with a new pair, by the refresh token it issued. */
    const answeredRefreshes = new Map<string, AnsweredRefresh>();
    const sdkMomento = new SdkMomentoAuth(aws.momento.endpoint);
    const nameOfKey = (apiKey: string) => {
      const chain = aws.momento.chainOf(apiKey);
      return secrets.find((s) => s.chain === chain)?.name ?? chain;
    };
    const momento: MomentoAuth = {
      async refresh(current) {
        const step = stepInvocation.getStore();
        const token = step?.token ?? 'outside-a-rotation-step';
        const entry = refreshesByToken.get(token) ?? { sent: new Set(), succeeded: 0, callsAfterSuccess: 0 };
        refreshesByToken.set(token, entry);
        entry.sent.add(current.refreshToken);
        if (entry.succeeded > 0) entry.callsAfterSuccess += 1;
        const calledAt = clock();
        const call = trace ? `refresh of ${nameOfKey(current.apiKey)} (token ${token.slice(0, 8)})` : '';
        trace?.add(`${call} starts, rt=${fingerprint(current.refreshToken)}`);
        const answer = sdkMomento.refresh(current);
        refreshesInFlight.add(answer);
        void answer.then(
          () => refreshesInFlight.delete(answer),
          () => refreshesInFlight.delete(answer),
        );
        try {
          const pair = await answer;
          const remainingMs = step?.context.getRemainingTimeInMillis() ?? Number.NaN;
          answeredRefreshes.set(pair.refreshToken, {
            spentRefreshToken: current.refreshToken,
            calledAt,
            answeredAt: clock(),
            remainingMs,
          });
          trace?.add(
            `${call}: new pair rt=${fingerprint(pair.refreshToken)} reached the process, ${remainingMs} ms of the invocation left`,
          );
          entry.succeeded += 1;
          return pair;
        } catch (error) {
          trace?.add(`${call}: ${(error as Error).name} ${(error as Error).message}`);
          throw error;
        }
      },
      verifyKey: (key, timeoutMs) => sdkMomento.verifyKey(key, timeoutMs),
    };
    // The production client, with the SDK's retries kept but their pauses scaled down like the deadlines.
    const client = new SecretsManagerClient({
      endpoint: aws.sm.endpoint,
      region: REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      retryStrategy: new ConfiguredRetryStrategy(3, (attempt) => 2 + attempt * 4),
      requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 },
    });
    if (trace) {
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const input = args.input as Record<string, unknown>;
          const ids = [
            'SecretId',
            'VersionId',
            'ClientRequestToken',
            'VersionStage',
            'MoveToVersionId',
            'RemoveFromVersionId',
          ]
            .filter((k) => input[k] !== undefined)
            .map((k) => `${k}=${String(input[k]).replace(/^arn:aws:secretsmanager:[^:]+:[^:]+:secret:/, '')}`)
            .join(' ');
          const call = `SM ${context.commandName} ${ids}`;
          const t0 = performance.now();
          try {
            const out = await next(args);
            trace.add(`${call} -> ok after ${(performance.now() - t0).toFixed(0)} ms`);
            return out;
          } catch (error) {
            trace.add(`${call} -> ${(error as Error).name} after ${(performance.now() - t0).toFixed(0)} ms`);
            throw error;
          }
        },
        { step: 'initialize', name: 'chaosTrace' },
      );
    }
    const handler = createHandler({
      config: {
        secretIds: secretNames,
        rotateAtRemainingFraction: 0.5,
        rotateWithinSeconds: 2 * 3600,
        momentoEndpointOverride: aws.momento.endpoint,
      },
      secretsManager: client,
      momento,
      logger: new Logger({ serviceName: SERVICE_NAME }),
      metrics: new Metrics({ serviceName: SERVICE_NAME, namespace: METRICS_NAMESPACE }),
      clock,
      timing: TIMING,
    });

    // Deadlines of the rotation steps: the function's full timeout, or in some attempts a short one per step
    // invocation, drawn when the attempt is planned and taken in turn (how invocations interleave is not seeded).
    let stepDeadlines: number[] = [];
    let nextStepDeadline = 0;
    const stepDeadline = () =>
      stepDeadlines.length === 0
        ? FULL_DEADLINE_MS
        : (stepDeadlines[nextStepDeadline++ % stepDeadlines.length] as number);
    // A Lambda invocation: the runtime gives up at the deadline; the handler's promise keeps running in the
    // background (like a frozen container that thaws later), and is awaited before the checks.
    const abandoned = new Set<Promise<unknown>>();
    const invoke = (event: unknown, deadlineMs: number, token?: string) => {
      const t0 = performance.now();
      const context = { getRemainingTimeInMillis: () => Math.round(deadlineMs - (performance.now() - t0)) };
      const what = trace ? `invocation ${JSON.stringify(event)}` : '';
      trace?.add(`${what} starts, deadline ${deadlineMs} ms`);
      const run =
        token === undefined
          ? handler(event, context)
          : stepInvocation.run({ token, context }, () => handler(event, context));
      if (trace) {
        run.then(
          () => trace.add(`${what} returned after ${(performance.now() - t0).toFixed(0)} ms`),
          (error: Error) =>
            trace.add(
              `${what} rejected after ${(performance.now() - t0).toFixed(0)} ms: ${error.name} ${error.message}`,
            ),
        );
      }
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          trace?.add(`${what} CUT at its deadline (${deadlineMs} ms)`);
          deadlineCuts += 1;
          abandoned.add(run.catch(() => undefined));
          reject(new Error('Task timed out'));
        }, deadlineMs);
      });
      return Promise.race([run, timeout]).finally(() => clearTimeout(timer));
    };
    aws.setRotationFunction((event: RotationEvent) =>
      invoke(event, stepDeadline(), event.ClientRequestToken),
    );

    const sweep = (deadline = FULL_DEADLINE_MS) =>
      invoke({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }, deadline);
    const forced = (secret: SeededSecret) =>
      invoke({ action: 'rotate', force: true, secretId: secret.name }, MANUAL_DEADLINE_MS);
    const rotateNow = (secret: SeededSecret) =>
      client.send(new RotateSecretCommand({ SecretId: secret.arn }));

    // Everything an attempt set going: rotations, invocations the deadline cut short, calls an emulator still
    // handles after a delay although their client left (a late PutSecretValue still writes its version).
    const realDeadlinesRanOut = () => tap.timeRanOut + deadlineCuts;
    /** Whether a real deadline ran out since `count`; counts a fault-free sweep that this disqualified. */
    const ranOutSince = (count: number) => {
      const ranOut = realDeadlinesRanOut() > count;
      if (ranOut) sweepsWithRealDeadlines += 1;
      return ranOut;
    };

    const settle = async () => {
      do {
        await aws.sm.whenRotationsIdle({ includeAbandoned: true });
        const pending = [...abandoned];
        abandoned.clear();
        await Promise.all(pending);
        await aws.sm.whenRequestsIdle();
        await aws.momento.whenIdle();
        await Promise.allSettled([...refreshesInFlight]);
      } while (abandoned.size > 0 || aws.sm.activeRotations > 0 || refreshesInFlight.size > 0);
    };

    /**
     * Everything random about one attempt, drawn from the seed before anything runs: the clock's move, the
     * faults, the deadlines, the doors and their secrets. Drawing never depends on what earlier attempts did,
     * so an attempt's plan is the same whether or not the attempts before it ran (see `fromAttempt`).
     */
    const drawAttempt = () => {
      const minutes = dice.int(0, 60);
      const armed: { kind: string; calls: number; arm: () => void }[] = [];
      const fault = (kind: string, calls: number, arm: () => void) => armed.push({ kind, calls, arm });
      if (dice.chance(0.12)) {
        const code = dice.pick([status.UNAVAILABLE, status.INTERNAL]);
        fault('momento refresh error', 1, () => aws.momento.faults.failNext('RefreshApiToken', 1, code));
      }
      if (dice.chance(0.03)) {
        fault('momento refresh hang', 1, () => aws.momento.faults.hangNext('RefreshApiToken', 1));
      }
      if (dice.chance(0.015)) {
        // The answer is lost as an error, or never comes (the client gives up at its own deadline).
        const answer = dice.pick([status.UNAVAILABLE, 'hang'] as const);
        fault('momento refresh commit-then-drop', 1, () =>
          aws.momento.faults.commitThenDropNext('RefreshApiToken', 1, answer),
        );
      }
      if (dice.chance(0.1)) {
        const calls = dice.int(1, 2);
        const code = dice.pick([status.UNAVAILABLE, status.UNAUTHENTICATED]);
        fault('momento verify error', calls, () => aws.momento.faults.failNext('ListCaches', calls, code));
      }
      if (dice.chance(0.05)) {
        // Every call of the method for this attempt: a few milliseconds more.
        const method = dice.pick(['RefreshApiToken', 'ListCaches'] as const);
        const ms = dice.int(5, 60);
        fault('momento latency (every call of one method)', 1, () => aws.momento.faults.latency(method, ms));
      }
      for (let i = dice.int(0, 3); i > 0; i -= 1) {
        const op = dice.pick(SM_OPERATIONS);
        const kind = dice.pick(['throttle', 'serverError', 'commitThenDrop', 'latency'] as const);
        const calls = kind === 'commitThenDrop' ? 1 : dice.int(1, kind === 'latency' ? 3 : 2);
        let arm: () => void;
        if (kind === 'throttle') arm = () => aws.sm.faults.throttleNext(op, calls);
        else if (kind === 'serverError') arm = () => aws.sm.faults.serverErrorNext(op, calls);
        else if (kind === 'commitThenDrop') {
          const mode = dice.pick(['reset', 'status500'] as const);
          arm = () => aws.sm.faults.commitThenDropNext(op, calls, mode);
        } else {
          const ms = dice.int(5, 40);
          arm = () => aws.sm.faults.latency(op, ms, calls);
        }
        fault(`secrets manager ${kind}`, calls, arm);
      }
      if (dice.chance(0.01)) {
        // A long stall of one Secrets Manager call, whoever makes it; the call is still processed afterwards.
        const op = dice.pick(SM_OPERATIONS);
        const ms = dice.int(300, 1_200);
        fault('secrets manager long latency', 1, () => aws.sm.faults.latency(op, ms, 1));
      }
      let deadlines: number[] = [];
      if (dice.chance(0.1)) {
        deadlines = Array.from({ length: 6 }, () => dice.int(100, 1_200));
        fault('short invocation deadline (attempts)', 1, () => undefined);
        // Faults that outlast what a short deadline leaves, so that the invocation is cut at its deadline and
        // runs on in the background (the first step invocations of the attempt take the first deadlines).
        if (dice.chance(0.6)) {
          if (dice.chance(0.5)) {
            // A stalled first read of a step, longer than that step's deadline.
            const stallMs = dice.int(200, 500);
            const op = dice.pick(['DescribeSecret', 'GetSecretValue'] as const);
            deadlines[0] = dice.int(100, stallMs - 50);
            fault('secrets manager long latency', 2, () => aws.sm.faults.latency(op, stallMs, 2));
          } else {
            // A key check that never answers: testSecret waits for it until its own verify deadline, longer
            // than the deadline of the testSecret that follows a createSecret and a setSecret given time enough.
            deadlines[0] = dice.int(800, 1_200);
            deadlines[1] = dice.int(800, 1_200);
            deadlines[2] = dice.int(100, 250);
            fault('momento verify hang', 1, () => aws.momento.faults.hangNext('ListCaches', 1));
          }
        }
      }
      // Sweeps rotate every due secret at once; the other doors aim at one or two secrets, sometimes all
      // three doors together on the same secret.
      const door = dice.int(0, 9);
      if (laterDice.chance(0.03)) {
        // Momento answers every refresh of the attempt late, yet within the SDK's deadline: an answer the engine
        // must wait for, not give up on. (A busy CPU did this by chance; the plan now does it on purpose.)
        const ms = laterDice.int(300, SDK_DEADLINE_MS - 100);
        fault('momento refresh slow answer (every refresh of the attempt)', 1, () =>
          aws.momento.faults.latency('RefreshApiToken', ms),
        );
      }
      const target = dice.int(0, secretCount - 1);
      const other = door >= 5 && door !== 7 ? dice.int(0, secretCount - 1) : target;
      return { minutes, armed, deadlines, door, target, other };
    };

    const armFaults = (plan: ReturnType<typeof drawAttempt>) => {
      for (const { kind, calls, arm } of plan.armed) {
        arm();
        count(kind, calls);
      }
      stepDeadlines = plan.deadlines;
      nextStepDeadline = 0;
    };

    const clearFaults = () => {
      aws.momento.faults.clear();
      aws.momento.faults.releaseHung();
      aws.sm.faults.clear();
      stepDeadlines = [];
    };

    /**
     * Where the chain's live refresh token sits among the labelled versions: AWSCURRENT; AWSPENDING on a version
     * that is not AWSCURRENT (a rotation that wrote its pair and did not finish: the next sweep finishes it);
     * an AWSPREVIOUS twin (same validUntil as AWSCURRENT, which the engine takes for newer when two refreshes
     * fall in one second: createSecret tries the twin when AWSCURRENT's pair is refused); or nowhere.
     */
    const whereIsLiveLink = (secret: SeededSecret, live: string | undefined) => {
      const pairs = aws.sm.inspect(secret.arn).versions.map((v) => ({
        stages: v.stages,
        value: v.secretString
          ? (JSON.parse(v.secretString) as { refreshToken?: string; validUntil?: number })
          : {},
      }));
      const current = pairs.find((p) => p.stages.includes('AWSCURRENT'));
      const holds = (p: (typeof pairs)[number] | undefined) =>
        live !== undefined && p?.value.refreshToken === live;
      const stored = pairs.filter(
        (p) =>
          p.stages.includes('AWSCURRENT') ||
          p.stages.includes('AWSPENDING') ||
          (p.stages.includes('AWSPREVIOUS') && p.value.validUntil === current?.value.validUntil),
      );
      const where: 'current' | 'pending' | 'twin' | 'nowhere' = holds(current)
        ? 'current'
        : stored.some((p) => p.stages.includes('AWSPENDING') && holds(p))
          ? 'pending'
          : stored.some((p) => p.stages.includes('AWSPREVIOUS') && holds(p))
            ? 'twin'
            : 'nowhere';
      return { where, storedTokens: stored.map((p) => p.value.refreshToken) };
    };

    /** A person re-initialises a lost secret: a new key from the console, the stuck rotation cleared. */
    const reinitialise = async (index: number) => {
      const secret = secrets[index] as SeededSecret;
      const pair = aws.momento.mintKeyPair({ lifetimeSeconds: LIFETIME_SECONDS });
      for (const v of aws.sm.inspect(secret.arn).versions) {
        if (v.stages.includes('AWSPENDING') && !v.stages.includes('AWSCURRENT')) {
          await client.send(
            new UpdateSecretVersionStageCommand({
              SecretId: secret.arn,
              VersionStage: 'AWSPENDING',
              RemoveFromVersionId: v.versionId,
            }),
          );
        }
      }
      aws.sm.putSecretValue(secret.arn, JSON.stringify(pair));
      secrets[index] = { ...secret, chain: aws.momento.chainOf(pair.apiKey) };
    };

    /** The secret's state for a violation report: version ids, labels, token fingerprints; never values. */
    const diagnose = (secret: SeededSecret, since: number) => {
      const iso = (ms: number) => new Date(ms).toISOString().slice(5, 16);
      const live = aws.momento.liveRefreshToken(secret.chain);
      const labelled = aws.sm
        .inspect(secret.arn)
        .versions.filter((v) => v.stages.length > 0)
        .map((v) => {
          const token = v.secretString ? (JSON.parse(v.secretString).refreshToken as string) : undefined;
          return `${v.versionId.slice(0, 8)}[${v.stages.join(',')}] rt=${fingerprint(token)}${token === live ? ' (live)' : ''}`;
        });
      const rotations = aws.sm.rotationLog
        .filter((r) => r.secretArn === secret.arn)
        .slice(-3)
        .map(
          (r) =>
            `${iso(r.finishedAt)} ${r.versionId.slice(0, 8)} ${r.outcome}${r.failedStep ? ` at ${r.failedStep}: ${r.error}` : ''} (${r.attempts} attempts)`,
        );
      const validUntil = Number(aws.value(secret.arn).validUntil) * 1000;
      return (
        `now ${iso(clock())}, attempt began ${iso(since)}, AWSCURRENT valid until ${iso(validUntil)}; ` +
        `live rt=${fingerprint(live)}; labelled versions: ${labelled.join(' ')}; last rotations: ${rotations.join(' | ') || 'none'}`
      );
    };

    /**
     * Why a chain was lost, judged by what happened to the refresh that issued its live link (the link nobody
     * holds). A loss is explained only where no code could have kept the pair — Momento committed a refresh and
     * its answer never reached the process (a dropped connection), or reached it when the invocation no longer
     * had the time to store it (Lambda's hard deadline) — and only when a ChainAtRisk report named the secret
     * after that refresh began, while its current key still had time left. An answer that reached the process
     * while the invocation still had the time to store it and was not stored is the product's doing, however
     * slow the machine: unexplained.
     */
    const explainLoss = (
      secret: SeededSecret,
      live: string | undefined,
      storedTokens: (string | undefined)[],
    ): { explainedBy: 'answer lost' | 'invocation ended' } | { unexplained: string } => {
      if (live === undefined) return { unexplained: 'by expiry: the newest key of the chain expired' };
      const drop = aws.momento.droppedRefreshes.find(
        (d) => d.chainId === secret.chain && d.issuedRefreshToken === live,
      );
      const answered = answeredRefreshes.get(live);
      let refresh: { spentRefreshToken: string; since: number; what: string };
      if (drop !== undefined) {
        refresh = {
          spentRefreshToken: drop.spentRefreshToken,
          since: drop.at,
          what: 'a lost refresh answer',
        };
      } else if (answered !== undefined) {
        if (answered.remainingMs >= TIME_TO_STORE_MS) {
          return {
            unexplained:
              `although Momento's answer (the live link) reached the process with ${answered.remainingMs} ms of the ` +
              `invocation left, ${TIME_TO_STORE_MS} ms being enough to store it: the pair was discarded`,
          };
        }
        refresh = {
          spentRefreshToken: answered.spentRefreshToken,
          since: answered.calledAt,
          what: `a refresh answer that came with ${answered.remainingMs} ms of its invocation left`,
        };
      } else {
        return { unexplained: 'without a refresh answer lost after commit or received' };
      }
      if (!storedTokens.includes(refresh.spentRefreshToken)) {
        return {
          unexplained: `after ${refresh.what}, but the secret no longer holds the token that refresh spent`,
        };
      }
      const reports = tap.reportsFor(secret.arn).filter((r) => r.at >= refresh.since);
      if (reports.length === 0) return { unexplained: `after ${refresh.what}, NOT reported` };
      if (!reports.some((r) => r.currentKeyValidUntil !== undefined && r.currentKeyValidUntil > r.at)) {
        return { unexplained: `after ${refresh.what}, reported only once the current key had no time left` };
      }
      return { explainedBy: drop !== undefined ? 'answer lost' : 'invocation ended' };
    };

    /**
     * The checks after every attempt. `cleanSweep`: the attempt ended with a fault-free sweep, which finishes a
     * pending pair: the live link must then be in AWSCURRENT, or in the AWSPREVIOUS twin when no rotation of
     * the secret succeeded since (the engine uses the twin at the next createSecret, not before).
     */
    const check = async (attempt: number, attemptStartedAt: number, cleanSweep: boolean) => {
      const nowSeconds = Math.floor(clock() / 1000);
      const lostLiveLinks = new Set<string | undefined>();
      for (const [index, secret] of secrets.entries()) {
        const current = aws.value(secret.arn);
        const apiKey = current.apiKey as string;
        if (Number(current.validUntil) > nowSeconds && !aws.momento.isKeyLive(apiKey)) {
          violations.push(
            `attempt ${attempt}: ${secret.name}: AWSCURRENT holds a key Momento refuses before its expiry`,
          );
        }
        const live = aws.momento.liveRefreshToken(secret.chain);
        const { where, storedTokens } = whereIsLiveLink(secret, live);
        if (where === 'current') continue;
        if (where === 'pending') {
          if (cleanSweep) {
            violations.push(
              `attempt ${attempt}: ${secret.name}: after a fault-free sweep the live link is still only in AWSPENDING; ${diagnose(secret, attemptStartedAt)}`,
            );
          } else liveLinkOutsideCurrent.inPending += 1;
          continue;
        }
        if (where === 'twin') {
          if (!cleanSweep) liveLinkOutsideCurrent.inPreviousTwin += 1;
          else if (!rotatedSince(secret, attemptStartedAt)) liveLinkInTwinAfterCleanSweep += 1;
          else {
            violations.push(
              `attempt ${attempt}: ${secret.name}: a fault-free sweep rotated the secret, yet the live link is in an AWSPREVIOUS twin; ${diagnose(secret, attemptStartedAt)}`,
            );
          }
          continue;
        }
        lostLiveLinks.add(live);
        const verdict = explainLoss(secret, live, storedTokens);
        if ('explainedBy' in verdict) {
          chainsLost.explained += 1;
          chainsLost.explainedBy[verdict.explainedBy] += 1;
        } else {
          chainsLost.unexplained += 1;
          trace?.dump(`attempt ${attempt}: ${secret.name} chain lost ${verdict.unexplained}`, [secret.name]);
          violations.push(
            `attempt ${attempt}: ${secret.name}: chain lost ${verdict.unexplained}; ${diagnose(secret, attemptStartedAt)}`,
          );
        }
        await reinitialise(index);
      }
      // Each committed refresh whose answer was lost leaves a live link nobody holds: its chain must be lost.
      for (const drop of aws.momento.droppedRefreshes.slice(dropsSeen)) {
        if (!lostLiveLinks.has(drop.issuedRefreshToken)) {
          violations.push(
            `attempt ${attempt}: a refresh of ${drop.chainId} lost its answer (${drop.cause}) but no managed secret lost that chain`,
          );
        }
      }
      dropsSeen = aws.momento.droppedRefreshes.length;
      // The invariant: no token gets two pairs from Momento. A token may still see a second refresh call that
      // Momento refuses: a cut-short invocation running on while Secrets Manager retries the step, or a late
      // promote from an earlier rotation moving AWSCURRENT between two attempts (the stale pair is refused).
      for (const [token, entry] of refreshesByToken) {
        if (entry.succeeded > 1) {
          violations.push(
            `attempt ${attempt}: ClientRequestToken ${token} caused ${entry.succeeded} refreshes (of ${entry.sent.size} pair(s))`,
          );
        }
        refusedRepeats += entry.callsAfterSuccess;
        entry.callsAfterSuccess = 0;
        if (entry.sent.size > 1) tokensWithTwoPairs.add(token);
      }
    };

    const rotatedSince = (secret: SeededSecret, since: number) =>
      aws.sm.rotationLog.some(
        (r) => r.secretArn === secret.arn && r.startedAt >= since && r.outcome === 'succeeded',
      );

    /**
     * "No pending version survives the next sweep", held after every fault-free sweep, with the engine's grace
     * for a rotation under way: an empty AWSPENDING younger than EMPTY_PENDING_GRACE_SECONDS when the sweep
     * began may be left alone; one older than that, or one holding a pair, may not.
     */
    const checkNoPendingSurvives = (attempt: number, sweepStartedAt: number) => {
      cleanSweepChecks += 1;
      for (const secret of secrets) {
        const stuck = aws.sm
          .inspect(secret.arn)
          .versions.find((v) => v.stages.includes('AWSPENDING') && !v.stages.includes('AWSCURRENT'));
        if (stuck === undefined) continue;
        if (
          stuck.secretString === undefined &&
          sweepStartedAt - stuck.createdDate < EMPTY_PENDING_GRACE_SECONDS * 1000
        ) {
          youngPendingsLeftAlone += 1;
          continue;
        }
        trace?.dump(`attempt ${attempt}: ${secret.name} pending survived`, [secret.name]);
        const facts = aws.sm
          .inspect(secret.arn)
          .versions.filter((v) => v.stages.length > 0)
          .map((v) => {
            const value = v.secretString ? JSON.parse(v.secretString) : {};
            return `${v.versionId.slice(0, 8)}[${v.stages.join(',')}] validUntil=${value.validUntil ?? '-'} created=${new Date(v.createdDate).toISOString()} rt=${fingerprint(value.refreshToken)}`;
          });
        violations.push(
          `attempt ${attempt}: ${secret.name}: pending version ${stuck.versionId} survived a fault-free sweep; ${facts.join(' ')}; ${diagnose(secret, sweepStartedAt)}`,
        );
      }
    };

    let attempt = 0;
    let nextProgress = 500;
    const fromAttempt = opts.fromAttempt ?? 1;
    while (
      aws.sm.rotationLog.length < opts.rotations &&
      attempt < (opts.attempts ?? Number.POSITIVE_INFINITY) &&
      violations.length === 0
    ) {
      attempt += 1;
      const before = now;
      const plan = drawAttempt();
      now += plan.minutes * 60_000;
      if (attempt < fromAttempt) {
        // Drawn, not run: the attempts from `fromAttempt` on get the very plans they get in a whole run.
        if (attempt % 10 === 0) now += HOUR_MS;
        continue;
      }
      if (secrets.length === 0) seedSecrets();
      trace?.startAttempt(attempt);
      trace?.add(`attempt ${attempt} begins`);
      // EventBridge fires every hour whatever else happens; the random doors come on top of it.
      const scheduled = Math.floor(now / HOUR_MS) > Math.floor(before / HOUR_MS);
      const attemptStartedAt = clock();
      armedThisAttempt = 0;
      armFaults(plan);
      const { door } = plan;
      const target = secrets[plan.target] as SeededSecret;
      const other = secrets[plan.other] as SeededSecret;
      const calls: Promise<unknown>[] = [];
      if (door <= 4 || scheduled) calls.push(sweep());
      if (door === 5) calls.push(forced(target), forced(other));
      else if (door === 6) calls.push(rotateNow(target), rotateNow(other));
      else if (door >= 7) calls.push(forced(target), rotateNow(other));
      const deadlinesBefore = realDeadlinesRanOut();
      await Promise.allSettled(calls);
      await settle();
      clearFaults();
      // A sweep alone in an attempt that armed no fault is a fault-free sweep, unless one of the function's real
      // deadlines ran out meanwhile (a busy machine): then it is judged like a sweep under faults.
      const cleanSweep = door <= 4 && armedThisAttempt === 0 && !ranOutSince(deadlinesBefore);
      if (cleanSweep) checkNoPendingSurvives(attempt, attemptStartedAt);
      await check(attempt, attemptStartedAt, cleanSweep);

      if (attempt % 10 === 0) {
        now += HOUR_MS;
        const sweepStartedAt = clock();
        const before = realDeadlinesRanOut();
        await Promise.allSettled([sweep()]);
        await settle();
        const clean = !ranOutSince(before);
        if (clean) checkNoPendingSurvives(attempt, sweepStartedAt);
        await check(attempt, sweepStartedAt, clean);
      }
      if (aws.sm.rotationLog.length >= nextProgress) {
        const line = `  ${aws.sm.rotationLog.length} rotations, ${attempt} attempts, ${deadlineCuts} cut at their deadline, ${violations.length} violations`;
        tap.bypass(() => opts.progress?.(line));
        nextProgress += 500;
      }
    }

    // What the plan armed (above) and what the emulators applied to calls that came (below).
    const applied: Record<string, number> = {};
    for (const [kind, n] of Object.entries(aws.momento.stats.faultsByKind)) applied[`Momento ${kind}`] = n;
    for (const [kind, n] of Object.entries(aws.sm.stats.faults)) applied[`Secrets Manager ${kind}`] = n;
    client.destroy();
    return {
      seed: opts.seed,
      fromAttempt,
      attempts: attempt,
      rotationAttempts: aws.sm.rotationLog.length,
      rotationsCompleted: aws.sm.rotationLog.filter((r) => r.outcome === 'succeeded').length,
      rotationsFailed: aws.sm.rotationLog.filter((r) => r.outcome === 'failed').length,
      faultsArmed: faults,
      faultsApplied: applied,
      invocationsCut: deadlineCuts,
      heals: tap.metric('StuckRotationHealed'),
      chainsLost,
      chainAtRiskReports: tap.metric('ChainAtRisk'),
      cleanSweepChecks,
      youngPendingsLeftAlone,
      sweepsWithRealDeadlines,
      liveLinkOutsideCurrent,
      liveLinkInTwinAfterCleanSweep,
      refusedRepeatRefreshes: refusedRepeats,
      tokensRefreshingTwoPairs: tokensWithTwoPairs.size,
      violations,
      seconds: Math.round((performance.now() - started) / 100) / 10,
    };
  } finally {
    tap.uninstall();
    await aws.stop();
  }
}

export function formatSummary(summary: ChaosSummary): string {
  const list = (counts: Record<string, number>) =>
    Object.entries(counts)
      .filter(([, n]) => n > 0)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kind, n]) => `    ${kind}: ${n}`)
      .join('\n');
  const lost = summary.chainsLost;
  return [
    `chaos run — seed ${summary.seed} (rerun with CHAOS_SEED=${summary.seed})`,
    summary.fromAttempt > 1
      ? `  attempts: ${summary.fromAttempt} to ${summary.attempts} (the plan's earlier attempts drawn, not run)`
      : `  attempts: ${summary.attempts}`,
    `  rotation attempts: ${summary.rotationAttempts} (completed ${summary.rotationsCompleted}, failed ${summary.rotationsFailed})`,
    `  heals: ${summary.heals}`,
    `  chains lost: ${lost.explained + lost.unexplained} (explained ${lost.explained}: ${lost.explainedBy['answer lost']} answer lost after commit, ${lost.explainedBy['invocation ended']} answer after the invocation's time to store it; unexplained ${lost.unexplained})`,
    `  ChainAtRisk reports: ${summary.chainAtRiskReports}`,
    `  fault-free sweeps checked (no pending version survives, live link in AWSCURRENT): ${summary.cleanSweepChecks}`,
    `  sweeps without injected faults where a real deadline ran out (busy machine), judged as under faults: ${summary.sweepsWithRealDeadlines}`,
    `  empty pending versions left alone by a fault-free sweep, younger than the ${EMPTY_PENDING_GRACE_SECONDS / 60}-minute heal grace: ${summary.youngPendingsLeftAlone}`,
    `  AWSCURRENT spent, live link in AWSPENDING: ${summary.liveLinkOutsideCurrent.inPending} (after attempts under faults; a violation after a fault-free sweep)`,
    `  AWSCURRENT spent, live link in AWSPREVIOUS twin: ${summary.liveLinkOutsideCurrent.inPreviousTwin} (after attempts under faults), ${summary.liveLinkInTwinAfterCleanSweep} (after fault-free sweeps: used at the next createSecret)`,
    `  refresh calls refused after an earlier success under the same token: ${summary.refusedRepeatRefreshes}`,
    `  tokens that sent a stale pair after AWSCURRENT moved (refused): ${summary.tokensRefreshingTwoPairs}`,
    `  invocations still running at their deadline: ${summary.invocationsCut}`,
    '  faults armed:',
    list(summary.faultsArmed),
    '  faults applied by the emulators:',
    list(summary.faultsApplied),
    `  violations: ${summary.violations.length}${summary.violations.length ? `\n    ${summary.violations.slice(0, 20).join('\n    ')}` : ''}`,
    `  time: ${summary.seconds} s`,
  ].join('\n');
}
