import { CacheGet, CacheSet, Configurations, NoopMomentoLoggerFactory } from '@gomomento/sdk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MomentoKeySource, UninitialisedSecretError } from '../../src/client';
import type { LocalAws } from '../support/local-aws';
import { registerSecret } from '../support/secret-material';
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
 * The application helper against the emulators: real Secrets Manager and Momento SDK clients over sockets, the
 * real rotator function answering the sweeps and the four steps, Date faked so that hours pass in an instant.
 */
let aws: LocalAws;
const seeded: string[] = [];
const MINUTE = 60;

beforeAll(async () => {
  aws = await startOnFakeClock();
});

afterAll(async () => {
  registerAllSecretMaterial(aws, seeded);
  await stopOnFakeClock(aws);
});

function source(secretId: string, options: { checkIntervalSeconds?: number } = {}) {
  return new MomentoKeySource({ secretId, secretsManager: aws.client, ...options });
}

const cacheOptions = {
  configuration: Configurations.Lambda.latest(new NoopMomentoLoggerFactory()),
  defaultTtlSeconds: 60,
};

function calls(operation: string): number {
  return aws.sm.requestLog.filter((entry) => entry.operation === operation).length;
}

describe('an application loop through rotations', () => {
  it('makes cache calls through 50 rotations with zero failed calls, each key used before the next', async () => {
    // Prepare: a 30-minute key and a sweep every 10 minutes, so that every sweep rotates (the due margin is
    // 2 hours); the application checks AWSCURRENT every minute and calls Momento every 2 minutes.
    const secret = aws.seed('client/loop', 30 * MINUTE);
    seeded.push(secret.name);
    const handler = await loadHandler(aws, [secret.name]);
    const keys = source(secret.name);
    const cache = await keys.cacheClient(cacheOptions);
    const versionsUsed = new Set<string>();
    const failures: string[] = [];
    let callsMade = 0;
    const rotationsBefore = aws.sm.rotationLog.filter((r) => r.outcome === 'succeeded').length;
    const refusedBefore = { ...aws.momento.stats.refused };

    // Act
    for (let sweep = 0; sweep < 52; sweep += 1) {
      await handler(scheduledEvent(), contextWith(180_000));
      for (let step = 0; step < 5; step += 1) {
        // Several calls at once, so that some are in flight when the client underneath is replaced.
        const round = await Promise.all([
          cache.set('loop', `k${step}`, `v${sweep}`),
          cache.get('loop', `k${step}`),
          cache.cache('loop').set('other', 'x'),
        ]);
        callsMade += round.length;
        for (const response of round) {
          if (!(response instanceof CacheSet.Success || response instanceof CacheGet.Hit)) {
            failures.push(`${sweep}/${step}: ${response.toString()}`);
          }
        }
        versionsUsed.add((await keys.current()).versionId);
        advance(2 * MINUTE);
      }
      await aws.sm.whenRotationsIdle();
    }
    cache.close();

    // Assess
    const rotations = aws.sm.rotationLog.filter((r) => r.outcome === 'succeeded').length - rotationsBefore;
    expect(rotations).toBeGreaterThanOrEqual(50);
    expect(failures).toEqual([]);
    expect(callsMade).toBe(52 * 5 * 3);
    // Every key change came from the periodic check: Momento never had to refuse a call first.
    expect(aws.momento.stats.refused).toEqual(refusedBefore);
    expect(versionsUsed.size).toBeGreaterThanOrEqual(50);
    expect(aws.chainIntact(secret)).toBe(true);
  }, 120_000);
});

describe('a key Momento refuses', () => {
  it('reads the secret at once and makes the call again with the new key, without waiting for the check', async () => {
    // Prepare: the application holds key 1; a person puts key 2 and revokes key 1 in the console.
    const secret = aws.seed('client/revoked', 24 * HOUR);
    seeded.push(secret.name);
    await loadHandler(aws, [secret.name]);
    const keys = source(secret.name, { checkIntervalSeconds: 3600 });
    const cache = await keys.cacheClient(cacheOptions);
    expect(await cache.set('revoked', 'k', 'before')).toBeInstanceOf(CacheSet.Success);
    const first = aws.value(secret.arn);
    const replacement = aws.momento.mintKeyPair({ lifetimeSeconds: 24 * HOUR });
    registerSecret(replacement.apiKey);
    registerSecret(replacement.refreshToken);
    aws.sm.putSecretValue(secret.arn, JSON.stringify(replacement));
    aws.momento.revokeKey(first.apiKey as string);
    const reads = calls('GetSecretValue');
    const describes = calls('DescribeSecret');
    advance(MINUTE);

    // Act
    const response = await cache.get('revoked', 'k');
    cache.close();

    // Assess
    expect(response).toBeInstanceOf(CacheGet.Hit);
    expect((response as CacheGet.Hit).valueString()).toBe('before');
    expect(calls('GetSecretValue')).toBe(reads + 1);
    expect(calls('DescribeSecret')).toBe(describes);
    expect((await keys.current()).key.apiKey).toBe(replacement.apiKey);
    expect(aws.momento.stats.refusedByReason.revokedKey).toBeGreaterThanOrEqual(1);
  });

  it('answers the refusal as it is when the secret still holds the refused key', async () => {
    // Prepare
    const secret = aws.seed('client/revoked-unreplaced', 24 * HOUR);
    seeded.push(secret.name);
    const keys = source(secret.name, { checkIntervalSeconds: 3600 });
    const cache = await keys.cacheClient(cacheOptions);
    aws.momento.revokeKey(aws.value(secret.arn).apiKey as string);
    const reads = calls('GetSecretValue');

    // Act
    const response = await cache.get('revoked', 'k');
    cache.close();

    // Assess
    expect(response).toBeInstanceOf(CacheGet.Error);
    expect((response as CacheGet.Error).errorCode()).toBe('AUTHENTICATION_ERROR');
    expect(calls('GetSecretValue')).toBe(reads + 1);
  });
});

describe('key kinds and secret states', () => {
  it('uses a v2 key through fromApiKeyV2 with the endpoint stored beside it', async () => {
    // Prepare
    const v2 = aws.momento.mintV2Key({ lifetimeSeconds: 24 * HOUR });
    registerSecret(`v2-${v2.apiKey.slice(v2.apiKey.indexOf('.') + 1)}`);
    const { name } = aws.sm.createSecret(
      'client/v2',
      JSON.stringify({ apiKey: v2.apiKey, endpoint: v2.endpoint, team: 'payments' }),
    );
    const keys = source(name);

    // Act
    const cache = await keys.cacheClient(cacheOptions);
    const set = await cache.set('v2', 'k', 'v');
    const provider = await keys.credentialProvider();
    cache.close();

    // Assess
    expect(set).toBeInstanceOf(CacheSet.Success);
    expect((await keys.current()).key).toMatchObject({ version: 'v2', endpoint: v2.endpoint });
    expect((await keys.current()).validUntil).toBe(v2.validUntil);
    expect(provider.getAuthToken()).toBe(v2.apiKey);
  });

  it('rejects with UninitialisedSecretError for the placeholder the stack writes', async () => {
    // Prepare
    const { name } = aws.sm.createSecret(
      'client/placeholder',
      JSON.stringify({ uninitialised: 'put the JSON' }),
    );

    // Act
    const reading = source(name).current();

    // Assess
    await expect(reading).rejects.toBeInstanceOf(UninitialisedSecretError);
  });

  it('keeps serving the key in hand when a background check fails, and reports the failure', async () => {
    // Prepare
    const secret = aws.seed('client/sm-outage', 24 * HOUR);
    seeded.push(secret.name);
    const reported: Error[] = [];
    const keys = new MomentoKeySource({
      secretId: secret.name,
      secretsManager: aws.client,
      checkIntervalSeconds: 60,
      onBackgroundError: (error) => reported.push(error),
    });
    const cache = await keys.cacheClient(cacheOptions);
    aws.sm.faults.serverErrorNext('DescribeSecret', 10);
    advance(2 * MINUTE);

    // Act
    const during = await cache.set('outage', 'k', 'v');
    await vi.waitFor(() => expect(reported.length).toBe(1), { timeout: 5_000 });
    cache.close();
    aws.sm.faults.clear();

    // Assess
    expect(during).toBeInstanceOf(CacheSet.Success);
    expect(reported[0]?.name).toBe('InternalServiceError');
  });
});
