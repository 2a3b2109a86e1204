import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RotatorHandler } from '../../src/app';
import type { SecretReport } from '../../src/rotation/engine';
import { FUNCTION_ARN, LocalAws, type SeededSecret } from '../support/local-aws';
import { emittedMetrics, loggedRecords, metricCount } from '../support/secret-material';
import {
  advance,
  contextWith,
  HOUR,
  loadHandler,
  registerAllSecretMaterial,
  scheduledEvent,
} from './support';

/**
 * Secrets selected by a tag (ROTATOR_SECRET_TAG=team=platform) beside a named one, end to end: the exported
 * handler and the real SDK over sockets to the emulators, whose ListSecrets filters match tags by prefix as the
 * service does. Date is faked so that days pass in an instant.
 */
const DAY = 24 * HOUR;
let aws: LocalAws;
let handler: RotatorHandler;
const seeded: string[] = [];
const secrets: Record<string, SeededSecret> = {};
let placeholderArn: string;

function seed(name: string, lifetimeSeconds: number, shape: Parameters<LocalAws['seed']>[2] = {}): void {
  seeded.push(name);
  secrets[name] = aws.seed(name, lifetimeSeconds, shape);
}

const platform = { team: 'platform' };
/** A scheduled sweep, and the rotations it started, finished: nothing runs on into the next test. */
async function sweep(): Promise<{ secrets: SecretReport[] }> {
  try {
    return (await handler(scheduledEvent(), contextWith())) as { secrets: SecretReport[] };
  } finally {
    await aws.sm.whenRotationsIdle();
  }
}
const reportOf = (result: { secrets: readonly SecretReport[] }, name: string) =>
  result.secrets.find((s) => s.secretId === name);

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2026, 10, 23, 12), shouldAdvanceTime: true });
  aws = await LocalAws.start({
    secretsManager: { rotationRetry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 } },
  });
  // Tagged two days ago by a platform team, still holding the placeholder.
  placeholderArn = aws.sm.createSecret(
    'tagged/placeholder',
    JSON.stringify({ uninitialised: 'put the JSON' }),
    {
      tags: platform,
    },
  ).arn;
  advance(2 * DAY);

  // Due in an hour (under two hours left), never wired for rotation: the stack never saw it. Its new key is
  // issued for three hours again, so it is not due again in this file.
  seed('tagged/due', 3 * HOUR, { tags: platform, wired: false });
  seed('tagged/fresh', DAY, { tags: platform });
  seed('tagged/leftover', DAY, { tags: platform });
  aws.sm.configureRotation('tagged/leftover', FUNCTION_ARN, { AutomaticallyAfterDays: 1 });
  seed('named/one', DAY);
  // ListSecrets' filters would take each of these: a key or a value that only begins with the tag's, or the
  // key and the value on two different tags. Each is due, so a sweep that took one would rotate it.
  seed('decoy/longer-key', 3 * HOUR, { tags: { teamwork: 'platform' }, wired: false });
  seed('decoy/longer-value', 3 * HOUR, { tags: { team: 'platforms' }, wired: false });
  seed('decoy/split', 3 * HOUR, { tags: { team: 'data', owner: 'platform' }, wired: false });
  advance(HOUR + 60);
  handler = await loadHandler(aws, ['named/one'], 'team=platform');
});

afterAll(async () => {
  registerAllSecretMaterial(aws, seeded);
  await aws.stop();
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

describe('secrets selected by a tag', () => {
  it('are the secrets that carry it exactly, beside the named ones, and no secret its filters merely match', async () => {
    const status = (await handler({ action: 'status' }, contextWith())) as { secrets: SecretReport[] };

    expect(status.secrets.map((s) => s.secretId).sort()).toEqual([
      'named/one',
      'tagged/due',
      'tagged/fresh',
      'tagged/leftover',
      'tagged/placeholder',
    ]);
  });

  it('are wired to the function by their first rotation, which the rotation steps then carry out', async () => {
    const before = aws.versionIdWith('tagged/due', 'AWSCURRENT');
    expect(aws.sm.inspect('tagged/due').rotationLambdaArn).toBeUndefined();

    const result = await sweep();

    expect(result.secrets.filter((s) => s.state === 'rotation-started').map((s) => s.secretId)).toEqual([
      'tagged/due',
    ]);
    const wired = aws.sm.inspect('tagged/due');
    expect(wired).toMatchObject({ rotationEnabled: true, rotationLambdaArn: FUNCTION_ARN });
    expect(wired.rotationRules).toBeUndefined();
    const rotation = aws.sm.rotationLog.find((r) => r.secretArn === secrets['tagged/due']?.arn);
    expect(rotation).toMatchObject({ outcome: 'succeeded', mode: 'rotate' });
    expect(rotation?.steps.map((s) => s.step)).toEqual([
      'createSecret',
      'setSecret',
      'testSecret',
      'finishSecret',
    ]);
    expect(aws.versionIdWith('tagged/due', 'AWSCURRENT')).not.toBe(before);
    expect(aws.chainIntact(secrets['tagged/due'] as SeededSecret)).toBe(true);
    for (const decoy of ['decoy/longer-key', 'decoy/longer-value', 'decoy/split']) {
      expect(aws.sm.inspect(decoy).versions, decoy).toHaveLength(1);
    }
  });

  it('refuse a rotation step for a secret that does not carry the tag exactly, and change nothing', async () => {
    const decoy = secrets['decoy/split'] as SeededSecret;
    const refreshes = aws.momento.stats.refreshes;

    await expect(
      handler({ Step: 'createSecret', SecretId: decoy.arn, ClientRequestToken: randomUUID() }, contextWith()),
    ).rejects.toThrow(/UnmanagedSecretError|not managed/);

    expect(aws.momento.stats.refreshes).toBe(refreshes);
    expect(aws.sm.inspect(decoy.arn).versions).toHaveLength(1);
  });

  it('need a secretId for a manual rotation: the function cannot guess which one', async () => {
    await expect(handler({ action: 'rotate', force: true }, contextWith())).rejects.toThrow(
      '"secretId" is required: this function manages the secrets tagged team=platform and 1 named ones',
    );
  });
});

describe('a leftover Secrets Manager schedule', () => {
  it('is reported by the sweep with its runbook line, and counted', async () => {
    const result = await sweep();

    expect(reportOf(result, 'tagged/leftover')).toMatchObject({
      state: 'not-due',
      leftoverSchedule: 'every 1 days',
    });
    expect(reportOf(result, 'tagged/fresh')).not.toHaveProperty('leftoverSchedule');
    expect(metricCount('LeftoverRotationSchedule')).toBe(1);
    const [warning] = loggedRecords().filter((r) => r.message.startsWith('leftover rotation schedule'));
    expect(warning).toMatchObject({ level: 'WARN', secretArn: secrets['tagged/leftover']?.arn });
    expect(warning?.message).toContain('aws secretsmanager cancel-rotate-secret --secret-id <secret>');
    expect(warning?.message).toContain(
      '--rotation-lambda-arn <the FunctionArn stack output> --no-rotate-immediately',
    );
  });

  it('is reported by status, for every secret and for one', async () => {
    const all = (await handler({ action: 'status' }, contextWith())) as { secrets: SecretReport[] };
    const one = (await handler({ action: 'status', secretId: 'tagged/leftover' }, contextWith())) as {
      secrets: SecretReport[];
    };

    expect(reportOf(all, 'tagged/leftover')).toMatchObject({ leftoverSchedule: 'every 1 days' });
    expect(one.secrets).toEqual([
      expect.objectContaining({ secretId: 'tagged/leftover', leftoverSchedule: 'every 1 days' }),
    ]);
  });
});

describe('a secret left uninitialised', () => {
  it('reports how long it has held no key, since its value was stored', async () => {
    await sweep();

    const reported = emittedMetrics().filter((m) => m.name === 'SecondsUninitialised');
    expect(reported).toHaveLength(1);
    expect(reported[0]?.dimensions).toMatchObject({ SecretName: 'tagged/placeholder' });
    expect(reported[0]?.value).toBeGreaterThanOrEqual(2 * DAY + HOUR);
    expect(reported[0]?.value).toBeLessThan(2 * DAY + HOUR + 10 * 60);
    expect(metricCount('Uninitialised')).toBe(1);
    expect(aws.sm.inspect(placeholderArn).versions).toHaveLength(1);
  });
});

describe('a tagged secret that cannot be read', () => {
  it('is counted, and fails the sweep naming it, after the others were checked', async () => {
    // Tagged, but with no value at all: BatchGetSecretValue answers with an error for it.
    aws.sm.createSecret('tagged/empty', undefined, { tags: platform });

    await expect(sweep()).rejects.toThrow(/tagged\/empty/);

    expect(metricCount('SecretUnreadable')).toBe(1);
    expect(metricCount('SweepCompleted')).toBe(1);
    expect(metricCount('SecondsUntilExpiry')).toBeGreaterThanOrEqual(4);
  });
});
