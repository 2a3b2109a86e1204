/**
 * A local Momento: a real gRPC server on 127.0.0.1 (port 0) that the unmodified `@gomomento/sdk` talks to
 * through `MOMENTO_ENDPOINT_OVERRIDE`, built from the service definitions of `@gomomento/generated-types`
 * (the package the SDK itself uses).
 *
 * ```ts
 * const momento = await startMomentoEmulator({ clock: () => now });
 * process.env.MOMENTO_ENDPOINT_OVERRIDE = momento.endpoint;          // '127.0.0.1:<port>'
 * const pair = momento.mintKeyPair({ lifetimeSeconds: 3600 });      // like the console download
 * momento.faults.commitThenDropNext('RefreshApiToken', 1);           // the next refresh loses its answer
 * ...
 * await momento.stop();
 * ```
 *
 * API (all times from the injectable `clock`, epoch ms; `validUntil` in epoch s):
 * - `startMomentoEmulator(opts?)`: `opts.clock` (default `Date.now`), `opts.host` (default 127.0.0.1),
 *   `opts.keyEndpoint` (the `endpoint` written inside keys, default {@link DEFAULT_KEY_ENDPOINT}),
 *   `opts.refusalStatus` (status per method for refused calls, default {@link DEFAULT_REFUSAL_STATUS}),
 *   `opts.log` (receives one line per answered call: method, status, refusal reason; never secret material),
 *   `opts.hungCallDeadlineMs` (a hung call is answered DEADLINE_EXCEEDED after this long, like the client's
 *   deadline scaled down; default never).
 * - `endpoint`: `host:port`, the value for `MOMENTO_ENDPOINT_OVERRIDE`.
 * - `mintKeyPair({ lifetimeSeconds })` → `{ apiKey, refreshToken, validUntil }`: starts a new chain. `apiKey` is
 *   base64 of `{"endpoint", "api_key"}`, the v1 format `CredentialProvider.fromString` parses.
 * - `mintKeyPair({ lifetimeSeconds, scope: 'data' })`: a data-scoped pair: data calls pass, ListCaches answers
 *   PERMISSION_DENIED (→ SDK PERMISSION_ERROR), as the real service does for a key without control-plane rights.
 * - `mintV2Key({ lifetimeSeconds?, scope?, expClaim? })` → `{ apiKey, endpoint, validUntil }`: a v2 key as the
 *   console creates it today: a JWT with the claim `t: "g"` (what `CredentialProvider.fromApiKeyV2` checks) and,
 *   when it expires, `exp` (left out with `expClaim: false`); no refresh token, so no chain. Without
 *   `lifetimeSeconds` it never expires. A refresh presenting it is refused as an unknown key.
 * - `revokeKey(apiKey)`: the key is refused from now on (UNAUTHENTICATED), as after deleting it in the console.
 * - `isKeyLive(apiKey)`: accepted right now (for data calls). `chainOf(apiKey)`: the chain id shared by every key refreshed from
 *   one minted pair (throws for a key it never issued). Both take the v1 key or the bare wire key.
 * - `liveRefreshToken(chainId)`: the one unspent refresh token of the chain, undefined once the chain's newest
 *   key expired (the chain is lost: nobody can refresh it any more). `livePair(chainId)`: that whole pair.
 * - `faults` (per method, `'RefreshApiToken' | 'ListCaches' | 'Get' | 'Set'`):
 *   `failNext(method, count, status)`: the next calls answer `status`, nothing changes;
 *   `latency(method, ms)`: every call waits `ms` before it is handled, until cleared (0 clears); a call its client
 *   abandons meanwhile is still handled (a refresh still commits), as by a server that already has the request;
 *   `hangNext(method, count)`: the next calls are never answered (until the client gives up, `releaseHung`, or `stop`);
 *   `commitThenDropNext('RefreshApiToken', count, answer = UNAVAILABLE)`: the next refreshes that commit (old token
 *   spent, new pair issued) answer `answer` instead of the pair, or never answer when `answer` is `'hang'`;
 *   `releaseHung(status = UNAVAILABLE)`: answers every hung call with `status`, returns how many;
 *   `clear()`: forgets queued faults and latency (hung calls stay hung).
 *   Counted faults are taken in arrival order, one per call: a hang first, then a failure.
 * - `stats`: live counters. `calls`, `refused`, `faultsInjected` are by method name (faults: calls failed, hung or
 *   dropped by injection); `refusedByReason` by {@link RefusalReason}; `faultsByKind` by {@link FaultKind}
 *   (latency included); `refreshes` counts committed refreshes (dropped ones included); `committedThenDropped`
 *   counts injected drops.
 * - `droppedRefreshes`: every committed refresh whose answer nobody received, in order: injected by
 *   `commitThenDropNext` (`cause: 'injected'`), or committed after its client had cancelled the call, e.g. at its
 *   gRPC deadline (`cause: 'clientGone'`). Each names the chain, the refresh token it spent (the one its caller
 *   still holds) and the one it issued (the chain's live link that nobody has), and the clock time it committed.
 *   A client that stops waiting without cancelling (a promise race, as the product's adapter does) is not seen.
 * - `whenIdle()`: resolves once no call is waiting out an injected latency (hung calls are not waited for).
 * - `stop()`: closes at once, hung calls included (forceShutdown). Idempotent.
 *
 * Wire behaviour (what the SDK 1.118.1 sends, see node_modules/@gomomento/sdk/dist/src/internal):
 * - `auth.Auth/RefreshApiToken` carries the key and the refresh token in the body (`api_key`, `refresh_token`),
 *   and no `authorization` header. Accepted only for the chain's newest key, unexpired, with its unspent token.
 *   A success spends the token and issues a pair valid for the chain's lifetime from now; the old key stays valid
 *   until its own expiry. Refusals answer INVALID_ARGUMENT (→ SDK INVALID_ARGUMENT_ERROR), as the real service
 *   does for an expired key (momentohq/client-sdk-go momento/auth_client_test.go, "should fail to refresh api key
 *   with expired refresh token"; client-sdk-javascript common-integration-tests accepts it since #1196). No public
 *   source shows the answer to a spent or foreign refresh token; the same status is used (`refusalStatus` changes it).
 * - `control_client.ScsControl/ListCaches` carries the key in the `authorization` header. A missing, unknown or
 *   expired key answers UNAUTHENTICATED (→ SDK AUTHENTICATION_ERROR), as the real service does for an expired key
 *   on control calls (client-sdk-javascript common-integration-tests, "expired token can't create cache").
 * - `cache_client.Scs/Get` and `Set` (what a CacheClient's get and set send) carry the key in the `authorization`
 *   header and the cache name in the `cache` header; a refused key answers UNAUTHENTICATED (→ SDK
 *   AUTHENTICATION_ERROR). Every cache name exists, items are kept in memory, TTLs are ignored.
 * - Every other method answers UNIMPLEMENTED (→ SDK BAD_REQUEST_ERROR); the emulator never crashes on them.
 * - Both calls get a fixed 60 s deadline from the SDK (the Lambda configuration's 1100 ms applies to data calls
 *   only) and are never retried by it (no retry strategy on the auth and control clients).
 */
import { auth, cache, control } from '@gomomento/generated-types';
import * as grpc from '@grpc/grpc-js';
import { type DropAnswer, EMULATED_METHODS, type EmulatedMethod, type FaultKind, FaultPlan } from './faults';
import { type KeyPair, type KeyScope, Ledger, type RefusalReason, type V2Key } from './ledger';

export type { DropAnswer, EmulatedMethod, FaultKind } from './faults';
export type { KeyPair, KeyScope, RefusalReason, V2Key } from './ledger';

/** Written inside every key as its endpoint; `.invalid` never resolves, so a key used without the override fails fast. */
export const DEFAULT_KEY_ENDPOINT = 'momento-emulator.invalid';

export const DEFAULT_REFUSAL_STATUS: Readonly<Record<EmulatedMethod, grpc.status>> = {
  RefreshApiToken: grpc.status.INVALID_ARGUMENT,
  ListCaches: grpc.status.UNAUTHENTICATED,
  Get: grpc.status.UNAUTHENTICATED,
  Set: grpc.status.UNAUTHENTICATED,
};

export interface MomentoEmulatorOptions {
  /** Epoch milliseconds. @default Date.now */
  clock?: () => number;
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** The `endpoint` written inside issued keys and refresh answers. @default DEFAULT_KEY_ENDPOINT */
  keyEndpoint?: string;
  /** Status of refused calls, per method. @default DEFAULT_REFUSAL_STATUS */
  refusalStatus?: Partial<Record<EmulatedMethod, grpc.status>>;
  /** Receives one line per answered call (method, status, reason). @default no logging */
  log?: (line: string) => void;
  /**
   * A hung call is answered DEADLINE_EXCEEDED after this long, as the client's own deadline would end it: the
   * SDK's 60 s, scaled down for runs whose other deadlines are scaled down. @default never
   */
  hungCallDeadlineMs?: number;
}

export interface MomentoEmulatorFaults {
  failNext(method: EmulatedMethod, count: number, status: grpc.status): void;
  latency(method: EmulatedMethod, ms: number): void;
  hangNext(method: EmulatedMethod, count: number): void;
  commitThenDropNext(method: 'RefreshApiToken', count: number, answer?: DropAnswer): void;
  releaseHung(status?: grpc.status): number;
  clear(): void;
}

/** Live counters, updated as calls are answered (read them, never write them). */
export interface MomentoEmulatorStats {
  /** Calls received, by method name (faulted ones and methods not emulated included). */
  readonly calls: Readonly<Record<string, number>>;
  /** Refreshes committed: a token spent and a pair issued (dropped answers included). */
  readonly refreshes: number;
  /** Calls refused (bad key or token), by method name. */
  readonly refused: Readonly<Record<string, number>>;
  /** Calls refused, by {@link RefusalReason}. */
  readonly refusedByReason: Readonly<Partial<Record<RefusalReason, number>>>;
  /** Refreshes committed whose answer was then lost. */
  readonly committedThenDropped: number;
  /** Calls failed, hung or dropped by an injected fault, by method name. */
  readonly faultsInjected: Readonly<Record<string, number>>;
  /** Injected faults by kind; `latency` counts delayed calls. */
  readonly faultsByKind: Readonly<Record<FaultKind, number>>;
}

/** The same counters, writable inside the emulator. */
interface Counters {
  calls: Record<string, number>;
  refreshes: number;
  refused: Record<string, number>;
  refusedByReason: Partial<Record<RefusalReason, number>>;
  committedThenDropped: number;
  faultsInjected: Record<string, number>;
  faultsByKind: Record<FaultKind, number>;
}

/** A refresh that committed (token spent, pair issued) while its answer was lost. */
export interface DroppedRefresh {
  readonly chainId: string;
  /** The token the refresh spent: the one its caller still holds, now refused. */
  readonly spentRefreshToken: string;
  /** The token issued with the pair nobody received: the chain's live link until it is refreshed again. */
  readonly issuedRefreshToken: string;
  /** Emulator clock (epoch ms) at the commit. */
  readonly at: number;
  readonly cause: 'injected' | 'clientGone';
}

export interface MomentoEmulator {
  readonly endpoint: string;
  readonly keyEndpoint: string;
  mintKeyPair(opts: { lifetimeSeconds: number; scope?: KeyScope }): KeyPair;
  mintV2Key(opts?: { lifetimeSeconds?: number; scope?: KeyScope; expClaim?: boolean }): V2Key;
  revokeKey(apiKey: string): void;
  isKeyLive(apiKey: string): boolean;
  chainOf(apiKey: string): string;
  liveRefreshToken(chainId: string): string | undefined;
  livePair(chainId: string): KeyPair | undefined;
  readonly faults: MomentoEmulatorFaults;
  readonly stats: MomentoEmulatorStats;
  readonly droppedRefreshes: readonly DroppedRefresh[];
  whenIdle(): Promise<void>;
  stop(): Promise<void>;
}

type RefreshRequest = auth.auth._RefreshApiTokenRequest;
type RefreshResponse = auth.auth._RefreshApiTokenResponse;
type ListCachesRequest = control.control_client._ListCachesRequest;
type ListCachesResponse = control.control_client._ListCachesResponse;
type GetRequest = cache.cache_client._GetRequest;
type GetResponse = cache.cache_client._GetResponse;
type SetRequest = cache.cache_client._SetRequest;
type SetResponse = cache.cache_client._SetResponse;

/** A committed refresh: what a lost answer would leave behind. */
interface Commit {
  readonly chainId: string;
  readonly spentRefreshToken: string;
  readonly issuedRefreshToken: string;
}

/** What serving a request produced, before faults that act on answers. */
type Served<Res> = { readonly response: Res; readonly commit?: Commit } | { readonly refused: RefusalReason };

const REFUSAL_DETAILS: Readonly<Record<RefusalReason, string>> = {
  malformedRequest: 'api_key and refresh_token are required',
  missingKey: 'missing authorization header',
  unknownKey: 'invalid api key',
  expiredKey: 'api key has expired',
  revokedKey: 'api key has been revoked',
  forbiddenForScope: 'insufficient permissions for this operation',
  unknownRefreshToken: 'invalid refresh token',
  spentRefreshToken: 'refresh token has already been used',
  mismatchedPair: 'refresh token does not belong to this api key',
};

function statusName(code: grpc.status): string {
  return grpc.status[code] ?? String(code);
}

function counters(keys: readonly string[]): Record<string, number> {
  return Object.fromEntries(keys.map((key) => [key, 0]));
}

function bump<K extends string>(record: Partial<Record<K, number>>, key: K): void {
  record[key] = (record[key] ?? 0) + 1;
}

class GrpcMomentoEmulator implements MomentoEmulator {
  readonly server = new grpc.Server();
  readonly ledger: Ledger;
  readonly stats: Counters = {
    calls: counters(EMULATED_METHODS),
    refreshes: 0,
    refused: counters(EMULATED_METHODS),
    refusedByReason: {},
    committedThenDropped: 0,
    faultsInjected: counters(EMULATED_METHODS),
    faultsByKind: { fail: 0, latency: 0, hang: 0, commitThenDrop: 0 },
  };
  readonly faults: MomentoEmulatorFaults;
  readonly droppedRefreshes: DroppedRefresh[] = [];
  endpoint = '';
  readonly #plan = new FaultPlan();
  readonly #clock: () => number;
  /** Calls waiting out an injected latency: each timer with what settles its entry in `#delayed`. */
  readonly #timers = new Map<NodeJS.Timeout, () => void>();
  readonly #delayed = new Set<Promise<void>>();
  /** Hung calls: what answers each, with the timer of its client deadline when there is one. */
  readonly #hung = new Map<(code: grpc.status) => void, NodeJS.Timeout | undefined>();
  readonly #hungCallDeadlineMs: number | undefined;
  /** Cache items by cache name, then key (base64 of the key bytes); TTLs are not kept. */
  readonly #items = new Map<string, Map<string, Uint8Array>>();
  readonly #refusalStatus: Readonly<Record<EmulatedMethod, grpc.status>>;
  readonly #log: ((line: string) => void) | undefined;
  #stopped = false;

  constructor(
    clock: () => number,
    readonly keyEndpoint: string,
    refusalStatus: Partial<Record<EmulatedMethod, grpc.status>>,
    log: ((line: string) => void) | undefined,
    hungCallDeadlineMs: number | undefined,
  ) {
    if (
      hungCallDeadlineMs !== undefined &&
      !(Number.isFinite(hungCallDeadlineMs) && hungCallDeadlineMs >= 0)
    ) {
      throw new RangeError(
        `hungCallDeadlineMs must be a non-negative number, received ${hungCallDeadlineMs}`,
      );
    }
    this.#hungCallDeadlineMs = hungCallDeadlineMs;
    this.ledger = new Ledger(clock, keyEndpoint);
    this.#clock = clock;
    for (const [method, code] of Object.entries(refusalStatus)) {
      if (code === grpc.status.OK || grpc.status[code] === undefined) {
        throw new RangeError(`refusalStatus.${method} must be a gRPC error status, received ${code}`);
      }
    }
    this.#refusalStatus = { ...DEFAULT_REFUSAL_STATUS, ...refusalStatus };
    this.#log = log;
    const plan = this.#plan;
    this.faults = {
      failNext: (method, count, status) => plan.failNext(method, count, status),
      latency: (method, ms) => plan.latency(method, ms),
      hangNext: (method, count) => plan.hangNext(method, count),
      commitThenDropNext: (method, count, answer = grpc.status.UNAVAILABLE) =>
        plan.commitThenDropNext(method, count, answer),
      releaseHung: (status = grpc.status.UNAVAILABLE) => this.#releaseHung(status),
      clear: () => plan.clear(),
    };
    this.#registerServices();
  }

  mintKeyPair(opts: { lifetimeSeconds: number; scope?: KeyScope }): KeyPair {
    return this.ledger.mint(opts.lifetimeSeconds, opts.scope);
  }

  mintV2Key(opts: { lifetimeSeconds?: number; scope?: KeyScope; expClaim?: boolean } = {}): V2Key {
    return this.ledger.mintV2(opts);
  }

  revokeKey(apiKey: string): void {
    this.ledger.revoke(apiKey);
  }

  isKeyLive(apiKey: string): boolean {
    return this.ledger.isKeyLive(apiKey);
  }

  chainOf(apiKey: string): string {
    return this.ledger.chainOf(apiKey);
  }

  liveRefreshToken(chainId: string): string | undefined {
    return this.ledger.livePair(chainId)?.refreshToken;
  }

  livePair(chainId: string): KeyPair | undefined {
    return this.ledger.livePair(chainId);
  }

  async whenIdle(): Promise<void> {
    while (this.#delayed.size > 0) await Promise.all([...this.#delayed]);
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const [timer, settle] of this.#timers) {
      clearTimeout(timer);
      settle();
    }
    this.#timers.clear();
    for (const timer of this.#hung.values()) clearTimeout(timer);
    this.#hung.clear();
    this.server.forceShutdown();
  }

  #registerServices(): void {
    const refresh = this.#unary<RefreshRequest, RefreshResponse>('RefreshApiToken', (request) => {
      const outcome = this.ledger.refresh(request.api_key, request.refresh_token);
      if ('refused' in outcome) return outcome;
      const { issued } = outcome;
      const response = new auth.auth._RefreshApiTokenResponse({
        api_key: issued.wireKey,
        refresh_token: issued.refreshToken,
        endpoint: issued.endpoint,
        valid_until: issued.validUntil,
      });
      const commit = {
        chainId: this.ledger.chainOf(issued.wireKey),
        spentRefreshToken: request.refresh_token,
        issuedRefreshToken: issued.refreshToken,
      };
      return { response, commit };
    });
    const listCaches = this.#unary<ListCachesRequest, ListCachesResponse>(
      'ListCaches',
      (_request, metadata) => {
        const refused = this.ledger.authenticate(headerOf(metadata, 'authorization'), 'control');
        if (refused !== undefined) return { refused };
        return { response: new control.control_client._ListCachesResponse({ cache: [], next_token: '' }) };
      },
    );
    const get = this.#unary<GetRequest, GetResponse>('Get', (request, metadata) => {
      const refused = this.ledger.authenticate(headerOf(metadata, 'authorization'), 'data');
      if (refused !== undefined) return { refused };
      const item = this.#cacheOf(metadata).get(Buffer.from(request.cache_key).toString('base64'));
      const { ECacheResult } = cache.cache_client;
      return {
        response: new cache.cache_client._GetResponse(
          item === undefined ? { result: ECacheResult.Miss } : { result: ECacheResult.Hit, cache_body: item },
        ),
      };
    });
    const set = this.#unary<SetRequest, SetResponse>('Set', (request, metadata) => {
      const refused = this.ledger.authenticate(headerOf(metadata, 'authorization'), 'data');
      if (refused !== undefined) return { refused };
      this.#cacheOf(metadata).set(Buffer.from(request.cache_key).toString('base64'), request.cache_body);
      return {
        response: new cache.cache_client._SetResponse({ result: cache.cache_client.ECacheResult.Ok }),
      };
    });
    const authDefinition = auth.auth.UnimplementedAuthService.definition;
    const controlDefinition = control.control_client.UnimplementedScsControlService.definition;
    this.server.addService(authDefinition, {
      ...this.#unimplemented(authDefinition),
      RefreshApiToken: refresh,
    });
    this.server.addService(controlDefinition, {
      ...this.#unimplemented(controlDefinition),
      ListCaches: listCaches,
    });
    const cacheDefinition = cache.cache_client.UnimplementedScsService.definition;
    this.server.addService(cacheDefinition, { ...this.#unimplemented(cacheDefinition), Get: get, Set: set });
  }

  /** Every cache name exists: the data plane is here for the keys it checks, not for cache management. */
  #cacheOf(metadata: grpc.Metadata): Map<string, Uint8Array> {
    const name = headerOf(metadata, 'cache') ?? '';
    let items = this.#items.get(name);
    if (items === undefined) {
      items = new Map();
      this.#items.set(name, items);
    }
    return items;
  }

  /** Counting UNIMPLEMENTED answers for the unary methods not emulated (grpc-js answers the streaming ones). */
  #unimplemented(definition: grpc.ServiceDefinition): grpc.UntypedServiceImplementation {
    const handlers: grpc.UntypedServiceImplementation = {};
    for (const [name, method] of Object.entries(definition)) {
      if (method.requestStream || method.responseStream) continue;
      const handler: grpc.handleUnaryCall<unknown, unknown> = (_call, callback) => {
        bump(this.stats.calls, name);
        this.#answer(name, callback, grpc.status.UNIMPLEMENTED, `${name} is not emulated`);
      };
      handlers[name] = handler;
    }
    return handlers;
  }

  #unary<Req, Res>(
    method: EmulatedMethod,
    serve: (request: Req, metadata: grpc.Metadata) => Served<Res>,
  ): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      bump(this.stats.calls, method);
      const decision = this.#plan.onArrival(method);
      const handle = (): void => {
        if (this.#stopped) return;
        const { action } = decision;
        if (action.kind === 'hang') {
          this.#countFault(method, 'hang');
          this.#hold(method, callback);
          return;
        }
        if (action.kind === 'fail') {
          this.#countFault(method, 'fail');
          this.#answer(method, callback, action.status, 'injected fault');
          return;
        }
        const served = serve(call.request, call.metadata);
        if ('refused' in served) {
          bump(this.stats.refused, method);
          bump(this.stats.refusedByReason, served.refused);
          this.#answer(
            method,
            callback,
            served.refused === 'forbiddenForScope'
              ? grpc.status.PERMISSION_DENIED
              : this.#refusalStatus[method],
            REFUSAL_DETAILS[served.refused],
            served.refused,
          );
          return;
        }
        if (served.commit !== undefined) {
          this.stats.refreshes += 1;
          const drop = this.#plan.takeDrop();
          if (drop !== undefined) {
            this.stats.committedThenDropped += 1;
            this.droppedRefreshes.push({ ...served.commit, at: this.#clock(), cause: 'injected' });
            this.#countFault(method, 'commitThenDrop');
            if (drop === 'hang') this.#hold(method, callback);
            else this.#answer(method, callback, drop, 'connection lost after commit (injected)');
            return;
          }
          if (call.cancelled) {
            this.droppedRefreshes.push({ ...served.commit, at: this.#clock(), cause: 'clientGone' });
          }
        }
        this.#log?.(`${method} OK`);
        callback(null, served.response);
      };
      if (decision.delayMs > 0) {
        this.stats.faultsByKind.latency += 1;
        this.#later(decision.delayMs, handle);
      } else {
        handle();
      }
    };
  }

  #answer(
    method: string,
    callback: grpc.sendUnaryData<never>,
    code: grpc.status,
    details: string,
    reason?: RefusalReason,
  ): void {
    this.#log?.(`${method} ${statusName(code)}${reason === undefined ? '' : ` (${reason})`}`);
    callback({ code, details });
  }

  #hold(method: string, callback: grpc.sendUnaryData<never>): void {
    this.#log?.(`${method} hung`);
    const release = (code: grpc.status) => {
      clearTimeout(this.#hung.get(release));
      this.#hung.delete(release);
      this.#answer(method, callback, code, 'released after hanging (injected)');
    };
    const deadline = this.#hungCallDeadlineMs;
    this.#hung.set(
      release,
      deadline === undefined ? undefined : setTimeout(() => release(grpc.status.DEADLINE_EXCEEDED), deadline),
    );
  }

  #releaseHung(code: grpc.status): number {
    const released = [...this.#hung.keys()];
    for (const release of released) release(code);
    return released.length;
  }

  #countFault(method: EmulatedMethod, kind: FaultKind): void {
    bump(this.stats.faultsInjected, method);
    this.stats.faultsByKind[kind] += 1;
  }

  #later(ms: number, run: () => void): void {
    let settle: () => void = () => undefined;
    const settled = new Promise<void>((resolve) => {
      settle = resolve;
    });
    this.#delayed.add(settled);
    void settled.then(() => this.#delayed.delete(settled));
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      try {
        run();
      } finally {
        settle();
      }
    }, ms);
    this.#timers.set(timer, settle);
  }
}

function headerOf(metadata: grpc.Metadata, name: string): string | undefined {
  const value = metadata.get(name)[0];
  return typeof value === 'string' ? value : undefined;
}

function formatEndpoint(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Starts an emulator on `host` and a free port; resolves once it accepts connections. */
export async function startMomentoEmulator(opts: MomentoEmulatorOptions = {}): Promise<MomentoEmulator> {
  const host = opts.host ?? '127.0.0.1';
  const emulator = new GrpcMomentoEmulator(
    opts.clock ?? Date.now,
    opts.keyEndpoint ?? DEFAULT_KEY_ENDPOINT,
    opts.refusalStatus ?? {},
    opts.log,
    opts.hungCallDeadlineMs,
  );
  const port = await new Promise<number>((resolve, reject) => {
    emulator.server.bindAsync(
      formatEndpoint(host, 0),
      grpc.ServerCredentials.createInsecure(),
      (error, bound) => {
        if (error) reject(error);
        else resolve(bound);
      },
    );
  });
  emulator.endpoint = formatEndpoint(host, port);
  return emulator;
}
