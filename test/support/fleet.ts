import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SdkMomentoAuth } from '../../src/adapters/momento';
import { createHandler, METRICS_NAMESPACE, type RotatorHandler } from '../../src/app';
import { loadConfig } from '../../src/config';
import type { SweepSummary } from '../../src/rotation/engine';
import { LocalAws, REGION, type SeededSecret } from './local-aws';

/**
 * A platform team's fleet, for the tag-selection proof: `size` secrets tagged team=platform, none wired for
 * rotation (the stack never saw them), on the emulators, with the function as the stack configures it for
 * `-c secretTag=team=platform` (no named secret). Shared by test/integration/tagged-fleet.test.ts, which holds
 * the figures to account, and scripts/fleet.ts (`npm run bench:fleet`), which prints them.
 *
 * A tenth of the keys (every tenth) are issued for 3 hours, the others for 30 days. At the start nothing is due
 * (3 hours left is more than both the 2-hour margin and half the lifetime); an hour later the short ones are due
 * and the long ones are not.
 */
export const FLEET_TAG = 'team=platform';
const HOUR = 3600;

export interface SweepFigures {
  readonly summary: SweepSummary;
  /** Wall-clock time of the invocation, ms. */
  readonly ms: number;
  /** Secrets Manager calls the sweep made, by operation (the rotations it started excluded). */
  readonly calls: Readonly<Record<string, number>>;
  readonly totalCalls: number;
}

export interface Fleet {
  readonly aws: LocalAws;
  readonly secrets: readonly SeededSecret[];
  /** The secrets issued for 3 hours: due once the clock has moved `dueAfterSeconds`. */
  readonly short: readonly SeededSecret[];
  readonly dueAfterSeconds: number;
  /** One scheduled sweep, the rotations it started left running (see `whenRotationsIdle`). */
  sweep(): Promise<SweepFigures>;
  /** Moves the shared clock. */
  advance(seconds: number): void;
  stop(): Promise<void>;
}

export async function startFleet(
  size: number,
  opts: {
    /** Where stdout (the function's JSON logs and EMF lines) goes until `stop`. @default left as it is */
    readonly functionOutput?: (chunk: string) => void;
  } = {},
): Promise<Fleet> {
  let now = Date.UTC(2026, 10, 23, 12);
  const clock = () => now;
  const aws = await LocalAws.start({
    clock,
    secretsManager: { rotationRetry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 } },
  });
  const [key = '', value] = FLEET_TAG.split('=');
  const secrets: SeededSecret[] = [];
  const short: SeededSecret[] = [];
  for (let i = 0; i < size; i += 1) {
    const isShort = i % 10 === 9;
    const secret = aws.seed(`platform/${String(i).padStart(4, '0')}`, isShort ? 3 * HOUR : 30 * 24 * HOUR, {
      tags: { [key]: value ?? '' },
      wired: false,
    });
    secrets.push(secret);
    if (isShort) short.push(secret);
  }

  const config = loadConfig(aws.env([], FLEET_TAG));
  const secretsManager = new SecretsManagerClient({
    endpoint: aws.sm.endpoint,
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000 },
  });
  const handler: RotatorHandler = createHandler({
    config,
    secretsManager,
    momento: new SdkMomentoAuth(config.momentoEndpointOverride),
    logger: new Logger({ serviceName: 'platform-rotator' }),
    metrics: new Metrics({ serviceName: 'platform-rotator', namespace: METRICS_NAMESPACE }),
    clock,
  });
  // For the fleet's whole life: the rotations a sweep starts run on in the background, past its return.
  const write = process.stdout.write;
  const divert = opts.functionOutput;
  if (divert !== undefined) {
    process.stdout.write = ((chunk: string | Uint8Array) => {
      divert(String(chunk));
      return true;
    }) as typeof process.stdout.write;
  }
  // Secrets Manager invokes the same function for the four steps of every rotation the sweep starts.
  aws.setRotationFunction(handler);
  const lambdaContext = () => {
    const started = performance.now();
    return { getRemainingTimeInMillis: () => Math.round(180_000 - (performance.now() - started)) };
  };

  return {
    aws,
    secrets,
    short,
    dueAfterSeconds: HOUR + 60,
    async sweep() {
      aws.sm.stats.reset();
      const started = performance.now();
      const summary = (await handler(
        { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} },
        lambdaContext(),
      )) as SweepSummary;
      const ms = performance.now() - started;
      const calls = Object.fromEntries(Object.entries(aws.sm.stats.calls).filter(([, n]) => n > 0));
      const totalCalls = Object.values(calls).reduce((sum, n) => sum + n, 0);
      return { summary, ms, calls, totalCalls };
    },
    advance(seconds) {
      now += seconds * 1000;
    },
    async stop() {
      secretsManager.destroy();
      await aws.stop();
      process.stdout.write = write;
    },
  };
}
