import { CacheClient, type CredentialProvider, MomentoErrorCode } from '@gomomento/sdk';
import type { CurrentKey, MomentoKeySource } from './key-source';

/** One CacheClient per key, with the calls it is carrying. */
interface Lease {
  readonly current: CurrentKey;
  readonly client: CacheClient;
  inFlight: number;
  retired: boolean;
}

/** Error responses carry their code; successes have no `errorCode`. */
function isAuthenticationError(response: unknown): boolean {
  const withCode = response as { errorCode?: unknown } | null;
  return (
    typeof withCode?.errorCode === 'function' &&
    (withCode as { errorCode(): unknown }).errorCode() === MomentoErrorCode.AUTHENTICATION_ERROR
  );
}

/**
 * A CacheClient whose every call goes to the client of the current key. It is a Proxy over CacheClient's own
 * methods, so the application holds one object for its whole life, with the SDK's types, while the client
 * underneath is replaced at each rotation. `cache(name)` is CacheClient's own, bound to this proxy, so its calls
 * take the same way.
 */
export async function rotatingCacheClient(
  source: MomentoKeySource,
  build: (credentialProvider: CredentialProvider) => CacheClient,
): Promise<CacheClient> {
  const leases = new Map<string, Lease>();
  let closed = false;

  const leaseFor = (current: CurrentKey): Lease => {
    let lease = leases.get(current.versionId);
    if (lease === undefined || lease.current !== current) {
      lease = { current, client: build(source.credentialProviderFor(current)), inFlight: 0, retired: false };
      for (const old of leases.values()) retire(old);
      leases.set(current.versionId, lease);
    }
    return lease;
  };
  const retire = (lease: Lease): void => {
    lease.retired = true;
    if (lease.inFlight === 0) {
      lease.client.close();
      if (leases.get(lease.current.versionId) === lease) leases.delete(lease.current.versionId);
    }
  };
  const callOn = async (lease: Lease, method: PropertyKey, args: unknown[]): Promise<unknown> => {
    lease.inFlight += 1;
    try {
      const fn = Reflect.get(lease.client, method) as (...a: unknown[]) => Promise<unknown>;
      return await fn.apply(lease.client, args);
    } finally {
      lease.inFlight -= 1;
      if (lease.retired) retire(lease);
    }
  };
  const call = async (method: PropertyKey, args: unknown[]): Promise<unknown> => {
    if (closed) throw new Error('this CacheClient was closed');
    const lease = leaseFor(await source.current());
    const response = await callOn(lease, method, args);
    if (!isAuthenticationError(response)) return response;
    // Momento refused the key in hand: read the secret now, not at the next check, and try once more if that
    // brought another key. Nothing ran at Momento for a refused call, so making it again is safe.
    const renewed = await source.reload(lease.current);
    if (renewed.versionId === lease.current.versionId || closed) return response;
    return callOn(leaseFor(renewed), method, args);
  };

  const first = leaseFor(await source.current());
  const methods = CacheClient.prototype as unknown as Record<PropertyKey, unknown>;
  return new Proxy(first.client, {
    get(_target, property, receiver) {
      if (property === 'close') {
        return () => {
          closed = true;
          for (const lease of leases.values()) retire(lease);
        };
      }
      if (property === 'cache') {
        return (cacheName: string) => CacheClient.prototype.cache.call(receiver, cacheName);
      }
      // Never thenable: `await` on the proxy must give the proxy.
      if (property === 'then') return undefined;
      if (typeof Reflect.get(methods, property) === 'function' && property !== 'constructor') {
        return (...args: unknown[]) => call(property, args);
      }
      const newest = [...leases.values()].at(-1) ?? first;
      return Reflect.get(newest.client, property);
    },
  });
}
