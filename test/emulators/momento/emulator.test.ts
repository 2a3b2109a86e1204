import { setTimeout as sleep } from 'node:timers/promises';
import { auth } from '@gomomento/generated-types';
import {
  AuthClient,
  AuthClientConfigurations,
  CacheClient,
  CacheDelete,
  CacheGet,
  CacheSet,
  Configurations,
  CreateCache,
  CredentialProvider,
  ListCaches,
  MomentoErrorCode,
  NoopMomentoLoggerFactory,
  RefreshApiKey,
} from '@gomomento/sdk';
import { credentials as grpcCredentials, type ServiceError, status } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SdkMomentoAuth } from '../../../src/adapters/momento';
import { credentialProviderFor } from '../../../src/adapters/momento-credentials';
import { type KeyPair, type MomentoEmulator, startMomentoEmulator } from './index';
import { encodeApiKey, wireKeyOf } from './ledger';

const T0 = Date.UTC(2030, 0, 1);
const HOUR = 3600;
const quiet = new NoopMomentoLoggerFactory();

let now = T0;
let momento: MomentoEmulator;

beforeAll(async () => {
  momento = await startMomentoEmulator({ clock: () => now });
});

afterAll(async () => {
  await momento.stop();
});

beforeEach(() => {
  now = T0;
});

afterEach(() => {
  momento.faults.clear();
  momento.faults.releaseHung();
});

function credentials(emulator: MomentoEmulator, apiKey: string) {
  const endpoint = emulator.endpoint;
  return CredentialProvider.fromString({
    apiKey,
    endpointOverrides: {
      controlEndpoint: endpoint,
      cacheEndpoint: endpoint,
      tokenEndpoint: endpoint,
      secureConnection: false,
    },
  });
}

/** The product's refresh call: AuthClient.refreshApiKey with the current key as credential. */
function refresh(
  pair: Pick<KeyPair, 'apiKey' | 'refreshToken'>,
  emulator = momento,
): Promise<RefreshApiKey.Response> {
  const client = new AuthClient({
    configuration: AuthClientConfigurations.Default.latest(quiet),
    credentialProvider: credentials(emulator, pair.apiKey),
  });
  // AuthClient 1.118.1 has no close(); its channels hold no handle once idle.
  return client.refreshApiKey(pair.refreshToken);
}

function cacheClient(apiKey: string, emulator = momento): CacheClient {
  return new CacheClient({
    configuration: Configurations.Lambda.latest(quiet),
    credentialProvider: credentials(emulator, apiKey),
    defaultTtlSeconds: 60,
  });
}

/** The product's verify call: CacheClient.listCaches with the key to check. */
async function listCaches(apiKey: string, emulator = momento): Promise<ListCaches.Response> {
  const client = cacheClient(apiKey, emulator);
  try {
    return await client.listCaches();
  } finally {
    client.close();
  }
}

function outcome(response: RefreshApiKey.Response | ListCaches.Response): string {
  if (response instanceof RefreshApiKey.Error || response instanceof ListCaches.Error)
    return response.errorCode();
  return 'SUCCESS';
}

function refreshed(response: RefreshApiKey.Response): RefreshApiKey.Success {
  if (!(response instanceof RefreshApiKey.Success)) throw new Error(`refresh failed: ${outcome(response)}`);
  return response;
}

function decodeKey(apiKey: string): unknown {
  return JSON.parse(Buffer.from(apiKey, 'base64').toString('utf8'));
}

async function raceWith<T>(call: Promise<T>, ms: number): Promise<'answered' | 'client timeout'> {
  return Promise.race([
    call.then(() => 'answered' as const),
    sleep(ms).then(() => 'client timeout' as const),
  ]);
}

describe('Momento emulator: keys and refresh', () => {
  it('mints a pair in the v1 format the SDK parses, valid for its lifetime from now', async () => {
    // Prepare
    const pair = momento.mintKeyPair({ lifetimeSeconds: HOUR });

    // Act
    const verified = await listCaches(pair.apiKey);

    // Assess
    expect(decodeKey(pair.apiKey)).toEqual({ endpoint: momento.keyEndpoint, api_key: expect.any(String) });
    expect(pair.validUntil).toBe(T0 / 1000 + HOUR);
    expect(momento.isKeyLive(pair.apiKey)).toBe(true);
    expect(outcome(verified)).toBe('SUCCESS');
  });

  it('refreshes the live pair into a new pair valid for the same lifetime from now', async () => {
    // Prepare
    const pair = momento.mintKeyPair({ lifetimeSeconds: HOUR });
    const chain = momento.chainOf(pair.apiKey);
    const refreshesBefore = momento.stats.refreshes;
    now = T0 + 1800_000;

    // Act
    const next = refreshed(await refresh(pair));

    // Assess
    expect(next.apiKey).not.toBe(pair.apiKey);
    expect(next.refreshToken).not.toBe(pair.refreshToken);
    expect(next.expiresAt.epoch()).toBe(T0 / 1000 + 1800 + HOUR);
    expect(next.apiKey).toBe(momento.livePair(chain)?.apiKey);
    expect(momento.chainOf(next.apiKey)).toBe(chain);
    expect(momento.liveRefreshToken(chain)).toBe(next.refreshToken);
    expect(outcome(await listCaches(next.apiKey))).toBe('SUCCESS');
    expect(momento.stats.refreshes).toBe(refreshesBefore + 1);
  });

  it('refuses a spent refresh token with INVALID_ARGUMENT, with the old or the new key', async () => {
    // Prepare
    const pair = momento.mintKeyPair({ lifetimeSeconds: HOUR });
    const next = refreshed(await refresh(pair));
    const spentBefore = momento.stats.refusedByReason.spentRefreshToken ?? 0;

    // Act
    const withOldKey = await refresh(pair);
    const withNewKey = await refresh({ apiKey: next.apiKey, refreshToken: pair.refreshToken });

    // Assess
    expect(outcome(withOldKey)).toBe(MomentoErrorCode.INVALID_ARGUMENT_ERROR);
    expect(outcome(withNewKey)).toBe(MomentoErrorCode.INVALID_ARGUMENT_ERROR);
    expect(momento.stats.refusedByReason.spentRefreshToken).toBe(spentBefore + 2);
    expect(momento.liveRefreshToken(momento.chainOf(pair.apiKey))).toBe(next.refreshToken);
  });

  it('refuses a live refresh token presented with a key it was not issued with, and keeps it live', async () => {
    // Prepare
    const pair = momento.mintKeyPair({ lifetimeSeconds: HOUR });
    const next = refreshed(await refresh(pair));
    const other = momento.mintKeyPair({ lifetimeSeconds: HOUR });

    // Act
    const oldKeyNewToken = await refresh({ apiKey: pair.apiKey, refreshToken: next.refreshToken });
    const otherChainKey = await refresh({ apiKey: other.apiKey, refreshToken: next.refreshToken });

    // Assess
    expect(outcome(oldKeyNewToken)).toBe(MomentoErrorCode.INVALID_ARGUMENT_ERROR);
    expect(outcome(otherChainKey)).toBe(MomentoErrorCode.INVALID_ARGUMENT_ERROR);
    expect(momento.liveRefreshToken(momento.chainOf(pair.apiKey))).toBe(next.refreshToken);
    expect(momento.liveRefreshToken(momento.chainOf(other.apiKey))).toBe(other.refreshToken);
  });

  it('keeps the old key valid until its own expiry and refuses it after', async () => {
    // Prepare
    const pair = momento.mintKeyPair({ lifetimeSeconds: 100 });
    now = T0 + 50_000;
    const next = refreshed(await refresh(pair));

    // Act
    const beforeExpiry = await listCaches(pair.apiKey);
    now = T0 + 100_000;
    const atExpiry = await listCaches(pair.apiKey);
    const newKeyAtOldExpiry = await listCaches(next.apiKey);

    // Assess
    expect(outcome(beforeExpiry)).toBe('SUCCESS');
    expect(outcome(atExpiry)).toBe(MomentoErrorCode.AUTHENTICATION_ERROR);
    expect(momento.isKeyLive(pair.apiKey)).toBe(false);
    expect(outcome(newKeyAtOldExpiry)).toBe('SUCCESS');
  });

  it('refuses an unknown key on ListCaches as AUTHENTICATION_ERROR', async () => {
    // Prepare
    const unknown = Buffer.from(
      JSON.stringify({ endpoint: momento.keyEndpoint, api_key: 'never-issued' }),
    ).toString('base64');
    const refusedBefore = momento.stats.refused.ListCaches ?? 0;

    // Act
    const response = await listCaches(unknown);

    // Assess
    expect(outcome(response)).toBe(MomentoErrorCode.AUTHENTICATION_ERROR);
    expect(momento.stats.refused.ListCaches).toBe(refusedBefore + 1);
    expect(momento.isKeyLive(unknown)).toBe(false);
  });

  it('refuses an expired key on ListCaches and on refresh, and reports its chain as lost', async () => {
    // Prepare
    const pair = momento.mintKeyPair({ lifetimeSeconds: 60 });
    const chain = momento.chainOf(pair.apiKey);
    now = T0 + 60_000;

    // Act
    const verified = await listCaches(pair.apiKey);
    const refreshedLate = await refresh(pair);

    // Assess
    expect(outcome(verified)).toBe(MomentoErrorCode.AUTHENTICATION_ERROR);
    expect(outcome(refreshedLate)).toBe(MomentoErrorCode.INVALID_ARGUMENT_ERROR);
    expect(momento.liveRefreshToken(chain)).toBeUndefined();
  });

  it('answers UNIMPLEMENTED for methods it does not emulate and keeps serving', async () => {
    // Prepare
    const pair = momento.mintKeyPair({ lifetimeSeconds: HOUR });
    const client = cacheClient(pair.apiKey);

    // Act
    const created = await client.createCache('emulated-nothing');
    const deleted = await client.delete('emulated-nothing', 'key');
    const listed = await client.listCaches();
    client.close();

    // Assess
    expect(created).toBeInstanceOf(CreateCache.Error);
    expect((created as CreateCache.Error).errorCode()).toBe(MomentoErrorCode.BAD_REQUEST_ERROR);
    expect(deleted).toBeInstanceOf(CacheDelete.Error);
    expect((deleted as CacheDelete.Error).errorCode()).toBe(MomentoErrorCode.BAD_REQUEST_ERROR);
    expect(outcome(listed)).toBe('SUCCESS');
    expect(momento.stats.calls.CreateCache).toBe(1);
  });
});

describe('Momento emulator: data calls, scopes, v2 keys', () => {
  function v2CacheClient(key: { apiKey: string; endpoint: string }, emulator = momento): CacheClient {
    return new CacheClient({
      configuration: Configurations.Lambda.latest(quiet),
      credentialProvider: credentialProviderFor(
        { CredentialProvider },
        { version: 'v2', apiKey: key.apiKey, endpoint: key.endpoint },
        emulator.endpoint,
      ),
      defaultTtlSeconds: 60,
    });
  }

  it('stores and returns items for a live key and refuses a key it never issued', async () => {
    // Prepare
    const pair = momento.mintKeyPair({ lifetimeSeconds: HOUR });
    const client = cacheClient(pair.apiKey);
    const stranger = cacheClient(encodeApiKey(momento.keyEndpoint, 'emu-key-never-issued'));

    // Act
    const set = await client.set('app', 'greeting', 'hello');
    const hit = await client.get('app', 'greeting');
    const miss = await client.get('app', 'absent');
    const refused = await stranger.get('app', 'greeting');
    client.close();
    stranger.close();

    // Assess
    expect(set).toBeInstanceOf(CacheSet.Success);
    expect((hit as CacheGet.Hit).valueString()).toBe('hello');
    expect(miss).toBeInstanceOf(CacheGet.Miss);
    expect((refused as CacheGet.Error).errorCode()).toBe(MomentoErrorCode.AUTHENTICATION_ERROR);
  });

  it('refuses a revoked key on data and control calls while its expiry is still ahead', async () => {
    // Prepare
    const pair = momento.mintKeyPair({ lifetimeSeconds: HOUR });
    const client = cacheClient(pair.apiKey);

    // Act
    momento.revokeKey(pair.apiKey);
    const fetched = await client.get('app', 'key');
    const listed = await client.listCaches();
    client.close();

    // Assess
    expect((fetched as CacheGet.Error).errorCode()).toBe(MomentoErrorCode.AUTHENTICATION_ERROR);
    expect(outcome(listed)).toBe(MomentoErrorCode.AUTHENTICATION_ERROR);
    expect(momento.isKeyLive(pair.apiKey)).toBe(false);
    expect(momento.stats.refusedByReason.revokedKey).toBeGreaterThanOrEqual(2);
  });

  it('lets a data-scoped key use the data plane and answers its ListCaches with PERMISSION_ERROR', async () => {
    // Prepare
    const pair = momento.mintKeyPair({ lifetimeSeconds: HOUR, scope: 'data' });

    // Act
    const listed = await listCaches(pair.apiKey);
    const client = cacheClient(pair.apiKey);
    const set = await client.set('app', 'k', 'v');
    client.close();
    const refreshed = await refresh(pair);

    // Assess
    expect(outcome(listed)).toBe(MomentoErrorCode.PERMISSION_ERROR);
    expect(set).toBeInstanceOf(CacheSet.Success);
    expect(outcome(refreshed)).toBe('SUCCESS');
    const next = refreshed as RefreshApiKey.Success;
    expect(outcome(await listCaches(next.apiKey))).toBe(MomentoErrorCode.PERMISSION_ERROR);
  });

  it('mints v2 keys that fromApiKeyV2 accepts and fromString refuses, with exp only when they expire', () => {
    // Act
    const expiring = momento.mintV2Key({ lifetimeSeconds: HOUR });
    const unclaimed = momento.mintV2Key({ lifetimeSeconds: HOUR, expClaim: false });
    const forever = momento.mintV2Key();
    const claims = (jwt: string) =>
      JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'));

    // Assess
    expect(claims(expiring.apiKey)).toMatchObject({ t: 'g', exp: T0 / 1000 + HOUR });
    expect(expiring).toMatchObject({ endpoint: momento.keyEndpoint, validUntil: T0 / 1000 + HOUR });
    expect(claims(unclaimed.apiKey).exp).toBeUndefined();
    expect(unclaimed.validUntil).toBe(T0 / 1000 + HOUR);
    expect(forever.validUntil).toBeUndefined();
    expect(() =>
      CredentialProvider.fromApiKeyV2({ apiKey: expiring.apiKey, endpoint: expiring.endpoint }),
    ).not.toThrow();
    expect(() => CredentialProvider.fromString({ apiKey: expiring.apiKey })).toThrow();
  });

  it('authenticates a v2 key until its expiry and never refreshes it', async () => {
    // Prepare
    const key = momento.mintV2Key({ lifetimeSeconds: HOUR });
    const client = v2CacheClient(key);
    const refreshesBefore = momento.stats.refreshes;

    const rawAuth = new auth.auth.AuthClient(momento.endpoint, grpcCredentials.createInsecure());

    // Act
    const before = await client.set('app', 'k', 'v');
    // The SDK's refresh takes v1 keys only; on the wire, a v2 key presented for refresh is refused.
    const refusal = await new Promise<ServiceError | null>((resolve) =>
      rawAuth.RefreshApiToken(
        new auth.auth._RefreshApiTokenRequest({ api_key: key.apiKey, refresh_token: 'no-such-token' }),
        (error) => resolve(error),
      ),
    );
    rawAuth.close();
    now = T0 + HOUR * 1000;
    const after = await client.get('app', 'k');
    client.close();

    // Assess
    expect(before).toBeInstanceOf(CacheSet.Success);
    expect(refusal?.code).toBe(status.INVALID_ARGUMENT);
    expect(momento.stats.refreshes).toBe(refreshesBefore);
    expect((after as CacheGet.Error).errorCode()).toBe(MomentoErrorCode.AUTHENTICATION_ERROR);
  });
});

describe("the product's Momento adapter and v2 keys", () => {
  it('checks a v2 key with fromApiKeyV2 and its stored endpoint, until the key expires', async () => {
    // Prepare
    const key = momento.mintV2Key({ lifetimeSeconds: HOUR });
    const adapter = new SdkMomentoAuth(momento.endpoint);

    // Act
    const live = adapter.verifyKey({ version: 'v2', apiKey: key.apiKey, endpoint: key.endpoint }, 2_000);
    await expect(live).resolves.toBeUndefined();
    now = T0 + HOUR * 1000;
    const expired = adapter.verifyKey({ version: 'v2', apiKey: key.apiKey, endpoint: key.endpoint }, 2_000);

    // Assess
    await expect(expired).rejects.toMatchObject({
      kind: 'rejected',
      code: MomentoErrorCode.AUTHENTICATION_ERROR,
    });
  });

  it('refuses a v2 key offered as v1 and a v1 key offered as v2 without calling Momento', async () => {
    // Prepare
    const v2 = momento.mintV2Key({ lifetimeSeconds: HOUR });
    const v1 = momento.mintKeyPair({ lifetimeSeconds: HOUR });
    const adapter = new SdkMomentoAuth(momento.endpoint);
    const calls = momento.stats.calls.ListCaches;

    // Act
    const asV1 = adapter.verifyKey({ version: 'v1', apiKey: v2.apiKey }, 2_000);
    const asV2 = adapter.verifyKey({ version: 'v2', apiKey: v1.apiKey, endpoint: v2.endpoint }, 2_000);

    // Assess
    await expect(asV1).rejects.toMatchObject({ kind: 'invalid', code: 'MALFORMED_API_KEY' });
    await expect(asV2).rejects.toMatchObject({ kind: 'invalid', code: 'MALFORMED_API_KEY' });
    expect(momento.stats.calls.ListCaches).toBe(calls);
  });
});

describe('Momento emulator: fault injection', () => {
  it('fails the next refresh with UNAVAILABLE (SDK SERVER_UNAVAILABLE) without spending the token', async () => {
    // Prepare
    const pair = momento.mintKeyPair({ lifetimeSeconds: HOUR });
    const chain = momento.chainOf(pair.apiKey);
    momento.faults.failNext('RefreshApiToken', 1, status.UNAVAILABLE);

    // Act
    const failed = await refresh(pair);
    const tokenAfterFailure = momento.liveRefreshToken(chain);
    const retried = await refresh(pair);

    // Assess
    expect(outcome(failed)).toBe(MomentoErrorCode.SERVER_UNAVAILABLE);
    expect(tokenAfterFailure).toBe(pair.refreshToken);
    expect(outcome(retried)).toBe('SUCCESS');
  });

  it('fails the next ListCaches calls with the chosen status', async () => {
    // Prepare
    const pair = momento.mintKeyPair({ lifetimeSeconds: HOUR });
    momento.faults.failNext('ListCaches', 2, status.UNAVAILABLE);
    const faultsBefore = momento.stats.faultsInjected.ListCaches ?? 0;

    // Act
    const first = await listCaches(pair.apiKey);
    const second = await listCaches(pair.apiKey);
    const third = await listCaches(pair.apiKey);

    // Assess
    expect([outcome(first), outcome(second), outcome(third)]).toEqual([
      MomentoErrorCode.SERVER_UNAVAILABLE,
      MomentoErrorCode.SERVER_UNAVAILABLE,
      'SUCCESS',
    ]);
    expect(momento.stats.faultsInjected.ListCaches).toBe(faultsBefore + 2);
  });

  it('adds latency to every call of a method until cleared', async () => {
    // Prepare
    const pair = momento.mintKeyPair({ lifetimeSeconds: HOUR });
    momento.faults.latency('ListCaches', 250);

    // Act
    const slowStart = performance.now();
    const slow = await listCaches(pair.apiKey);
    const slowMs = performance.now() - slowStart;
    momento.faults.clear();
    const fastStart = performance.now();
    const fast = await listCaches(pair.apiKey);
    const fastMs = performance.now() - fastStart;

    // Assess
    expect(outcome(slow)).toBe('SUCCESS');
    expect(slowMs).toBeGreaterThanOrEqual(245);
    expect(outcome(fast)).toBe('SUCCESS');
    expect(fastMs).toBeLessThan(250);
  });

  it('hangs the next refresh so a caller racing it times out, and nothing is committed', async () => {
    // Prepare
    const pair = momento.mintKeyPair({ lifetimeSeconds: HOUR });
    const chain = momento.chainOf(pair.apiKey);
    momento.faults.hangNext('RefreshApiToken', 1);

    // Act
    const call = refresh(pair);
    const raced = await raceWith(call, 300);
    const released = momento.faults.releaseHung();
    const late = await call;

    // Assess
    expect(raced).toBe('client timeout');
    expect(momento.liveRefreshToken(chain)).toBe(pair.refreshToken);
    expect(released).toBe(1);
    expect(outcome(late)).toBe(MomentoErrorCode.SERVER_UNAVAILABLE);
  });

  it('answers a hung refresh DEADLINE_EXCEEDED at hungCallDeadlineMs, as a scaled client deadline', async () => {
    // Prepare
    const emulator = await startMomentoEmulator({ clock: () => now, hungCallDeadlineMs: 200 });
    const pair = emulator.mintKeyPair({ lifetimeSeconds: HOUR });
    const chain = emulator.chainOf(pair.apiKey);
    emulator.faults.hangNext('RefreshApiToken', 1);

    // Act
    const started = performance.now();
    const settled = await refresh(pair, emulator);
    const waitedMs = performance.now() - started;
    const releasedLater = emulator.faults.releaseHung();
    await emulator.stop();

    // Assess
    expect(outcome(settled)).toBe(MomentoErrorCode.TIMEOUT_ERROR);
    expect(waitedMs).toBeGreaterThanOrEqual(190);
    expect(releasedLater).toBe(0);
    expect(emulator.liveRefreshToken(chain)).toBe(pair.refreshToken);
  });

  it('commits a refresh then drops its answer: the client sees an error and the old token is spent', async () => {
    // Prepare
    const pair = momento.mintKeyPair({ lifetimeSeconds: HOUR });
    const chain = momento.chainOf(pair.apiKey);
    const droppedBefore = momento.stats.committedThenDropped;
    momento.faults.commitThenDropNext('RefreshApiToken', 1);

    // Act
    const lost = await refresh(pair);
    const retried = await refresh(pair);

    // Assess
    expect(outcome(lost)).toBe(MomentoErrorCode.SERVER_UNAVAILABLE);
    expect(outcome(retried)).toBe(MomentoErrorCode.INVALID_ARGUMENT_ERROR);
    const liveToken = momento.liveRefreshToken(chain);
    expect(liveToken).toBeDefined();
    expect(liveToken).not.toBe(pair.refreshToken);
    expect(momento.stats.committedThenDropped).toBe(droppedBefore + 1);
    expect(momento.droppedRefreshes.at(-1)).toEqual({
      chainId: chain,
      spentRefreshToken: pair.refreshToken,
      issuedRefreshToken: liveToken,
      at: now,
      cause: 'injected',
    });
    const live = momento.livePair(chain);
    if (live === undefined) throw new Error('the chain should be live');
    expect(outcome(await refresh(live))).toBe('SUCCESS');
  });

  it('commits a refresh then never answers when the drop is a hang', async () => {
    // Prepare
    const pair = momento.mintKeyPair({ lifetimeSeconds: HOUR });
    const chain = momento.chainOf(pair.apiKey);
    momento.faults.commitThenDropNext('RefreshApiToken', 1, 'hang');

    // Act
    const call = refresh(pair);
    const raced = await raceWith(call, 300);
    momento.faults.releaseHung(status.DEADLINE_EXCEEDED);
    const late = await call;

    // Assess
    expect(raced).toBe('client timeout');
    expect(momento.liveRefreshToken(chain)).not.toBe(pair.refreshToken);
    expect(outcome(late)).toBe(MomentoErrorCode.TIMEOUT_ERROR);
  });
});

describe('Momento emulator: slow refreshes', () => {
  it('delays a refresh by the injected latency, then answers it with the committed pair', async () => {
    // Prepare
    const pair = momento.mintKeyPair({ lifetimeSeconds: HOUR });
    const chain = momento.chainOf(pair.apiKey);
    const delayedBefore = momento.stats.faultsByKind.latency;
    momento.faults.latency('RefreshApiToken', 250);

    // Act
    const started = performance.now();
    const next = refreshed(await refresh(pair));
    const elapsedMs = performance.now() - started;

    // Assess
    expect(elapsedMs).toBeGreaterThanOrEqual(245);
    expect(momento.stats.faultsByKind.latency).toBe(delayedBefore + 1);
    expect(momento.liveRefreshToken(chain)).toBe(next.refreshToken);
    momento.faults.clear();
    expect(outcome(await refresh(pair))).toBe(MomentoErrorCode.INVALID_ARGUMENT_ERROR);
  });

  it("hands a late refresh answer to the product's adapter instead of dropping it", async () => {
    // Prepare: Momento commits and answers 400 ms later, past the 300 ms the adapter used to wait in chaos runs.
    const pair = momento.mintKeyPair({ lifetimeSeconds: HOUR });
    const chain = momento.chainOf(pair.apiKey);
    const droppedBefore = momento.droppedRefreshes.length;
    momento.faults.latency('RefreshApiToken', 400);
    const adapter = new SdkMomentoAuth(momento.endpoint);

    // Act
    const started = performance.now();
    const next = await adapter.refresh(pair);
    const elapsedMs = performance.now() - started;
    momento.faults.clear();

    // Assess: the caller holds the chain's live link; nothing was dropped.
    expect(elapsedMs).toBeGreaterThanOrEqual(395);
    expect(momento.liveRefreshToken(chain)).toBe(next.refreshToken);
    expect(momento.droppedRefreshes).toHaveLength(droppedBefore);
    expect(outcome(await refresh(next))).toBe('SUCCESS');
  });

  it('records a refresh that commits after its client cancelled at the gRPC deadline as dropped', async () => {
    // Prepare
    const pair = momento.mintKeyPair({ lifetimeSeconds: HOUR });
    const chain = momento.chainOf(pair.apiKey);
    momento.faults.latency('RefreshApiToken', 300);
    const client = new auth.auth.AuthClient(momento.endpoint, grpcCredentials.createInsecure());
    const request = new auth.auth._RefreshApiTokenRequest({
      api_key: wireKeyOf(pair.apiKey),
      refresh_token: pair.refreshToken,
    });

    // Act
    const answer = await new Promise<ServiceError | null>((resolve) =>
      client.RefreshApiToken(request, { deadline: Date.now() + 100 }, (error) => resolve(error)),
    );
    await momento.whenIdle();
    client.close();

    // Assess
    expect(answer?.code).toBe(status.DEADLINE_EXCEEDED);
    const live = momento.liveRefreshToken(chain);
    expect(live).not.toBe(pair.refreshToken);
    expect(momento.droppedRefreshes.at(-1)).toEqual({
      chainId: chain,
      spentRefreshToken: pair.refreshToken,
      issuedRefreshToken: live,
      at: now,
      cause: 'clientGone',
    });
  });
});

describe('Momento emulator: options and lifecycle', () => {
  it('answers refusals with the status chosen in refusalStatus', async () => {
    // Prepare
    const emulator = await startMomentoEmulator({
      refusalStatus: { RefreshApiToken: status.UNAUTHENTICATED },
    });
    const pair = emulator.mintKeyPair({ lifetimeSeconds: HOUR });
    refreshed(await refresh(pair, emulator));

    // Act
    const spent = await refresh(pair, emulator);
    await emulator.stop();

    // Assess
    expect(outcome(spent)).toBe(MomentoErrorCode.AUTHENTICATION_ERROR);
  });

  it('logs methods and statuses only, never key material', async () => {
    // Prepare
    const lines: string[] = [];
    const emulator = await startMomentoEmulator({ log: (line) => lines.push(line) });
    const pair = emulator.mintKeyPair({ lifetimeSeconds: HOUR });
    emulator.faults.failNext('ListCaches', 1, status.UNAVAILABLE);

    // Act
    const next = refreshed(await refresh(pair, emulator));
    await refresh(pair, emulator);
    await listCaches(next.apiKey, emulator);
    await emulator.stop();

    // Assess
    expect(lines).toEqual([
      'RefreshApiToken OK',
      'RefreshApiToken INVALID_ARGUMENT (spentRefreshToken)',
      'ListCaches UNAVAILABLE',
    ]);
  });

  it('stops promptly while a call hangs', async () => {
    // Prepare
    const emulator = await startMomentoEmulator();
    const pair = emulator.mintKeyPair({ lifetimeSeconds: HOUR });
    emulator.faults.hangNext('ListCaches', 1);
    const call = listCaches(pair.apiKey, emulator);
    while (emulator.stats.faultsByKind.hang === 0) await sleep(10);

    // Act
    const started = performance.now();
    await emulator.stop();
    const settled = await call;

    // Assess
    expect(performance.now() - started).toBeLessThan(1000);
    expect(outcome(settled)).not.toBe('SUCCESS');
  });
});
