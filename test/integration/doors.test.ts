import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RotatorHandler } from '../../src/app';
import { FUNCTION_ARN, type LocalAws, type SeededSecret } from '../support/local-aws';
import { capturedOutput, metricCount } from '../support/secret-material';
import {
  advance,
  contextWith,
  HOUR,
  loadHandler,
  registerAllSecretMaterial,
  scheduledEvent,
  startOnFakeClock,
  stopOnFakeClock,
} from './support';

/**
 * End to end: the exported Lambda handler, the real @gomomento/sdk and @aws-sdk/client-secrets-manager, over
 * sockets to the local emulators, through every door. Date is faked so that lifetimes pass in an instant.
 */
let aws: LocalAws;
const seeded: string[] = [];

beforeAll(async () => {
  aws = await startOnFakeClock();
});

afterAll(async () => {
  registerAllSecretMaterial(aws, seeded);
  await stopOnFakeClock(aws);
});

/** The user puts the console JSON; the first rotation comes (at least) a minute later. */
function seed(name: string, lifetimeSeconds: number): SeededSecret {
  seeded.push(name);
  const secret = aws.seed(name, lifetimeSeconds);
  advance(60);
  return secret;
}

async function rotateNow(secret: SeededSecret): Promise<string> {
  const { VersionId } = await aws.client.send(new RotateSecretCommand({ SecretId: secret.name }));
  await aws.sm.whenRotationsIdle();
  return VersionId as string;
}

const lastRotation = () => aws.sm.rotationLog.at(-1);

describe('the rotate-now button (RotateSecret)', () => {
  let secret: SeededSecret;
  beforeAll(async () => {
    secret = seed('e2e/button', 24 * HOUR);
    await loadHandler(aws, [secret.name]);
  });

  it('runs the four steps through the handler and promotes a new pair that Momento accepts', async () => {
    const before = aws.value(secret.arn);
    const refreshes = aws.momento.stats.refreshes;
    advance(HOUR);

    const versionId = await rotateNow(secret);

    expect(lastRotation()).toMatchObject({ outcome: 'succeeded', versionId });
    expect(aws.versionIdWith(secret.arn, 'AWSCURRENT')).toBe(versionId);
    const after = aws.value(secret.arn);
    expect(after.apiKey).not.toBe(before.apiKey);
    expect(aws.momento.isKeyLive(after.apiKey as string)).toBe(true);
    expect(aws.momento.isKeyLive(before.apiKey as string)).toBe(true);
    expect(after.validUntil).toBe(Math.floor(Date.now() / 1000) + 24 * HOUR);
    expect(aws.chainIntact(secret)).toBe(true);
    expect(aws.momento.stats.refreshes).toBe(refreshes + 1);
  });

  it('makes no refresh when a step is replayed after the rotation finished (invariant 2)', async () => {
    const versionId = aws.versionIdWith(secret.arn, 'AWSCURRENT') as string;
    const refreshes = aws.momento.stats.refreshes;
    const handler = await loadHandler(aws, [secret.name]);

    for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
      await expect(
        handler({ Step, SecretId: secret.arn, ClientRequestToken: versionId }, contextWith()),
      ).resolves.toMatchObject({ outcome: 'already-current' });
    }

    expect(aws.momento.stats.refreshes).toBe(refreshes);
  });
});

describe("the stack's rotation wiring (RotateImmediately=false)", () => {
  it("passes Secrets Manager's configuration test without refreshing or promoting anything", async () => {
    const secret = seed('e2e/wiring', 24 * HOUR);
    await loadHandler(aws, [secret.name]);
    const current = aws.versionIdWith(secret.arn, 'AWSCURRENT');
    const refreshes = aws.momento.stats.refreshes;

    await aws.client.send(
      new RotateSecretCommand({
        SecretId: secret.arn,
        RotationLambdaARN: FUNCTION_ARN,
        RotateImmediately: false,
      }),
    );
    await aws.sm.whenRotationsIdle();

    expect(lastRotation()).toMatchObject({ mode: 'test', outcome: 'succeeded', promoted: false });
    expect(aws.versionIdWith(secret.arn, 'AWSCURRENT')).toBe(current);
    expect(aws.momento.stats.refreshes).toBe(refreshes);
    expect(aws.chainIntact(secret)).toBe(true);
  });
});

describe('the schedule', () => {
  let secret: SeededSecret;
  let handler: RotatorHandler;
  beforeAll(async () => {
    secret = seed('e2e/schedule', 24 * HOUR);
    handler = await loadHandler(aws, [secret.name]);
  });

  it('reports the time left and starts nothing while the key is not due', async () => {
    advance(HOUR);

    await expect(handler(scheduledEvent(), contextWith())).resolves.toMatchObject({ rotationsStarted: 0 });

    expect(aws.sm.inspect(secret.arn).versions).toHaveLength(1);
    expect(metricCount('SecondsUntilExpiry')).toBeGreaterThanOrEqual(1);
  });

  it('rotates through RotateSecret once the key is due', async () => {
    advance(12 * HOUR);

    await expect(handler(scheduledEvent(), contextWith())).resolves.toMatchObject({ rotationsStarted: 1 });
    await aws.sm.whenRotationsIdle();

    expect(lastRotation()).toMatchObject({ outcome: 'succeeded', secretArn: secret.arn });
    expect(aws.chainIntact(secret)).toBe(true);
    expect(aws.value(secret.arn).validUntil).toBe(Math.floor(Date.now() / 1000) + 24 * HOUR);
  });
});

describe('the manual invoke', () => {
  let secret: SeededSecret;
  let handler: RotatorHandler;
  beforeAll(async () => {
    secret = seed('e2e/manual', 24 * HOUR);
    handler = await loadHandler(aws, [secret.name]);
  });

  it('forces a rotation of a key that is not due, waits for it and returns the new validUntil', async () => {
    advance(HOUR);

    const result = await handler({ action: 'rotate', force: true }, contextWith());

    const validUntil = Math.floor(Date.now() / 1000) + 24 * HOUR;
    expect(result).toMatchObject({ secretId: 'e2e/manual', outcome: 'rotated' });
    // The clock runs on while the rotation happens: the new key is valid for the lifetime from then.
    expect((result as { validUntil: number }).validUntil).toBeGreaterThanOrEqual(validUntil - 2);
    expect((result as { validUntil: number }).validUntil).toBeLessThanOrEqual(validUntil);
    expect(aws.versionIdWith(secret.arn, 'AWSCURRENT')).toBe((result as { versionId: string }).versionId);
    expect(aws.chainIntact(secret)).toBe(true);
  });

  it('reports status without any key material', async () => {
    const result = await handler({ action: 'status' }, contextWith());

    expect(result).toMatchObject({ secrets: [{ secretId: 'e2e/manual', state: 'not-due' }] });
    const text = JSON.stringify(result);
    expect(text).not.toContain(aws.value(secret.arn).apiKey);
    expect(text).not.toContain(aws.value(secret.arn).refreshToken);
  });

  it('refuses an unknown payload and writes nothing (invariant 6)', async () => {
    const writesBefore = aws.sm.requestLog.filter((r) => r.operation !== 'GetSecretValue').length;

    await expect(handler({ action: 'rotate', secret: 'e2e/manual' }, contextWith())).rejects.toThrow(
      /accepted shapes/,
    );

    expect(aws.sm.requestLog.filter((r) => r.operation !== 'GetSecretValue')).toHaveLength(writesBefore);
  });
});

describe('a refresh chain kept alive', () => {
  it('survives 50 consecutive scheduled rotations across many lifetimes', async () => {
    const secret = seed('e2e/chain', 6 * HOUR);
    const handler = await loadHandler(aws, [secret.name]);
    const keys = new Set<string>();

    for (let i = 0; i < 50; i += 1) {
      advance(3.5 * HOUR);
      await expect(handler(scheduledEvent(), contextWith())).resolves.toMatchObject({ rotationsStarted: 1 });
      await aws.sm.whenRotationsIdle();
      expect(aws.chainIntact(secret), `chain intact after rotation ${i + 1}`).toBe(true);
      const current = aws.value(secret.arn);
      expect(aws.momento.isKeyLive(current.apiKey as string)).toBe(true);
      keys.add(current.apiKey as string);
    }

    expect(keys.size).toBe(50);
    // 175 hours passed: the minted key died long ago, the chain did not.
    expect(
      aws.sm.rotationLog.filter((r) => r.secretArn === secret.arn && r.outcome === 'succeeded'),
    ).toHaveLength(50);
  });
});

describe('invariants under faults', () => {
  it('writes the new pair through Secrets Manager errors and a lost PutSecretValue answer (invariant 1)', async () => {
    const secret = seed('e2e/put-faults', 24 * HOUR);
    await loadHandler(aws, [secret.name]);
    const refreshes = aws.momento.stats.refreshes;
    aws.sm.faults.serverErrorNext('PutSecretValue', 2);
    aws.sm.faults.commitThenDropNext('PutSecretValue', 1, 'reset');

    await rotateNow(secret);

    expect(lastRotation()).toMatchObject({ outcome: 'succeeded' });
    expect(aws.momento.stats.refreshes).toBe(refreshes + 1);
    expect(aws.chainIntact(secret)).toBe(true);
    const puts = aws.sm.requestLog.filter(
      (r) => r.operation === 'PutSecretValue' && r.secretId === secret.arn,
    );
    expect(new Set(puts.map((p) => p.clientRequestToken)).size).toBe(1);
  });

  it('makes one refresh when Secrets Manager retries the whole rotation (invariant 2)', async () => {
    const secret = seed('e2e/retry', 24 * HOUR);
    await loadHandler(aws, [secret.name]);
    const refreshes = aws.momento.stats.refreshes;
    aws.momento.faults.failNext('ListCaches', 1, status.UNAVAILABLE);

    await rotateNow(secret);

    expect(lastRotation()).toMatchObject({ outcome: 'succeeded', attempts: 2 });
    expect(aws.momento.stats.refreshes).toBe(refreshes + 1);
    expect(aws.chainIntact(secret)).toBe(true);
  });

  it('promotes only a tested pair, and the next sweep finishes the stuck rotation (invariants 3 and 7)', async () => {
    const secret = seed('e2e/stuck', 24 * HOUR);
    const handler = await loadHandler(aws, [secret.name]);
    const current = aws.versionIdWith(secret.arn, 'AWSCURRENT');
    aws.momento.faults.failNext('ListCaches', 3, status.UNAVAILABLE);

    const pendingId = await rotateNow(secret);

    expect(lastRotation()).toMatchObject({ outcome: 'failed', failedStep: 'testSecret', attempts: 3 });
    expect(aws.versionIdWith(secret.arn, 'AWSCURRENT')).toBe(current);
    // The new pair is the only live link of the chain; it waits as AWSPENDING.
    expect(aws.versionIdWith(secret.arn, 'AWSPENDING')).toBe(pendingId);

    await expect(handler(scheduledEvent(), contextWith())).resolves.toMatchObject({ healed: 1 });

    expect(aws.versionIdWith(secret.arn, 'AWSCURRENT')).toBe(pendingId);
    expect(aws.chainIntact(secret)).toBe(true);
    expect(metricCount('StuckRotationHealed')).toBe(1);
  });

  it('clears an empty pending version left by a failed rotation and rotates again (invariant 7)', async () => {
    const secret = seed('e2e/empty-pending', 24 * HOUR);
    const handler = await loadHandler(aws, [secret.name]);
    aws.momento.faults.failNext('RefreshApiToken', 3, status.UNAVAILABLE);

    const emptyId = await rotateNow(secret);

    expect(lastRotation()).toMatchObject({ outcome: 'failed', failedStep: 'createSecret' });
    expect(aws.versionIdWith(secret.arn, 'AWSPENDING')).toBe(emptyId);
    // Failure failed: every attempt rejected, and said so.
    expect(metricCount('RotationFailed')).toBe(3);
    advance(13 * HOUR);

    await expect(handler(scheduledEvent(), contextWith())).resolves.toMatchObject({
      healed: 1,
      rotationsStarted: 1,
    });
    await aws.sm.whenRotationsIdle();

    expect(lastRotation()).toMatchObject({ outcome: 'succeeded', secretArn: secret.arn });
    expect(aws.chainIntact(secret)).toBe(true);
  });

  it('never starts a refresh without time left for it and the write, and calls Momento not at all (invariant 1)', async () => {
    const secret = seed('e2e/short-time', 24 * HOUR);
    const handler = await loadHandler(aws, [secret.name]);
    // A rotation whose steps go to a function that does not exist leaves its empty AWSPENDING version behind.
    const { VersionId } = await aws.client.send(
      new RotateSecretCommand({ SecretId: secret.arn, RotationLambdaARN: `${FUNCTION_ARN}-elsewhere` }),
    );
    await aws.sm.whenRotationsIdle();
    const event = { Step: 'createSecret', SecretId: secret.arn, ClientRequestToken: VersionId as string };
    const refreshCalls = aws.momento.stats.calls.RefreshApiToken ?? 0;

    // 10 s left; the deployed timing needs 10 s for the refresh, 20 s for the write and 1.5 s of margin.
    await expect(handler(event, contextWith(10_000))).rejects.toMatchObject({
      name: 'InsufficientTimeError',
      message: expect.stringMatching(/no refresh was made/),
    });

    expect(aws.momento.stats.calls.RefreshApiToken ?? 0).toBe(refreshCalls);
    expect(aws.sm.inspect(secret.arn).versions.find((v) => v.versionId === VersionId)).toMatchObject({
      stages: ['AWSPENDING'],
    });
    expect(aws.value(secret.arn, 'AWSPENDING')).toEqual({});
    expect(aws.chainIntact(secret)).toBe(true);
    // The same step with the deployed function's time left refreshes, once.
    await expect(handler(event, contextWith())).resolves.toMatchObject({ outcome: 'done' });
    expect(aws.momento.stats.calls.RefreshApiToken).toBe(refreshCalls + 1);
  });

  it('says loudly, naming the secret, when a refresh answer is lost after Momento committed it', async () => {
    const secret = seed('e2e/lost', 24 * HOUR);
    await loadHandler(aws, [secret.name]);
    const current = aws.value(secret.arn);
    aws.momento.faults.commitThenDropNext('RefreshApiToken', 1);

    await rotateNow(secret);

    expect(lastRotation()).toMatchObject({ outcome: 'failed', failedStep: 'createSecret' });
    // The product cannot save this chain: Momento spent the stored token and the new pair never arrived.
    expect(aws.chainIntact(secret)).toBe(false);
    expect(aws.momento.isKeyLive(current.apiKey as string)).toBe(true);
    const alarms = capturedOutput()
      .split('\n')
      .filter((line) => line.includes('ChainAtRisk') && line.includes(secret.arn));
    expect(alarms.length).toBeGreaterThanOrEqual(2);
    expect(alarms.join('\n')).toMatch(/outcome unknown/);
    expect(alarms.join('\n')).toMatch(/refused the stored key and refresh token/);
    expect(metricCount('ChainAtRisk')).toBeGreaterThanOrEqual(2);
  });
});
