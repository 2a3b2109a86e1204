import { randomBytes } from 'node:crypto';

/** A pair as the Momento console downloads it, with the key in the SDK's v1 format. */
export interface KeyPair {
  /** base64 of `{"endpoint": ..., "api_key": ...}`, what `CredentialProvider.fromString` parses. */
  readonly apiKey: string;
  readonly refreshToken: string;
  /** Epoch seconds; the key is accepted while `clock() < validUntil * 1000`. */
  readonly validUntil: number;
}

/**
 * A v2 API key as the Momento console gives it today: a JWT whose claims carry `t: "g"` (what
 * `CredentialProvider.fromApiKeyV2` insists on), one key for all regions, stored with the endpoint beside it.
 * It has no refresh token; `exp` is present only for a key created with an expiry.
 */
export interface V2Key {
  readonly apiKey: string;
  readonly endpoint: string;
  /** Epoch seconds; undefined for a key that never expires. */
  readonly validUntil: number | undefined;
}

/**
 * What a key may do. `data`: data-plane calls only, so a control call such as ListCaches answers PERMISSION_DENIED
 * (the SDK's PERMISSION_ERROR): the key is real, it just may not list caches.
 */
export type KeyScope = 'super-user' | 'data';

/** Why a call was refused. The gRPC status a reason maps to is chosen per method by the server. */
export type RefusalReason =
  /** RefreshApiToken without `api_key` or `refresh_token`. */
  | 'malformedRequest'
  /** ListCaches without an `authorization` header. */
  | 'missingKey'
  /** A key this emulator never issued. */
  | 'unknownKey'
  /** A key past its `validUntil`. */
  | 'expiredKey'
  /** A key revoked with `revokeKey` (as a person would in the console). */
  | 'revokedKey'
  /** A data-scoped key on a control call. */
  | 'forbiddenForScope'
  /** A refresh token this emulator never issued. */
  | 'unknownRefreshToken'
  /** A refresh token that was already used once. */
  | 'spentRefreshToken'
  /** A live refresh token presented with a key other than the one it was issued with. */
  | 'mismatchedPair';

/** One issued (key, refresh token) pair; key and token share the record, so a pair is its identity. */
interface IssuedPair {
  readonly chainId: string;
  /** The opaque key the SDK sends on the wire (the `api_key` inside the base64 JSON, or a whole v2 key). */
  readonly wireKey: string;
  readonly refreshToken: string;
  /** Epoch seconds; Infinity for a v2 key without expiry. */
  readonly validUntil: number;
  readonly scope: KeyScope;
  spent: boolean;
  revoked: boolean;
}

interface Chain {
  readonly lifetimeSeconds: number;
  readonly scope: KeyScope;
  current: IssuedPair;
}

/** What a successful refresh hands to the wire: the SDK rebuilds the v1 key from `wireKey` and `endpoint`. */
export interface IssuedWirePair {
  readonly wireKey: string;
  readonly refreshToken: string;
  readonly endpoint: string;
  readonly validUntil: number;
}

export type RefreshOutcome = { readonly issued: IssuedWirePair } | { readonly refused: RefusalReason };

function checkLifetime(lifetimeSeconds: number): void {
  if (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds <= 0) {
    throw new RangeError(`lifetimeSeconds must be a positive integer, received ${lifetimeSeconds}`);
  }
}

export function encodeApiKey(endpoint: string, wireKey: string): string {
  // Same field order as the SDK's RefreshApiKey.Success, so a key built here equals the one the SDK returns.
  return Buffer.from(JSON.stringify({ endpoint, api_key: wireKey }), 'utf8').toString('base64');
}

/** The wire key inside a v1 key; a string that is not a v1 key is taken as a wire key itself. */
export function wireKeyOf(apiKey: string): string {
  const decoded = Buffer.from(apiKey, 'base64');
  if (decoded.toString('base64') !== apiKey) return apiKey;
  try {
    const parsed: unknown = JSON.parse(decoded.toString('utf8'));
    if (parsed !== null && typeof parsed === 'object' && 'api_key' in parsed) {
      const inner = (parsed as { api_key: unknown }).api_key;
      if (typeof inner === 'string' && inner !== '') return inner;
    }
  } catch {
    // not JSON: a wire key that happens to be valid base64
  }
  return apiKey;
}

function secret(prefix: string): string {
  return `${prefix}${randomBytes(24).toString('base64url')}`;
}

function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** A JWT shaped like a Momento v2 key; the signature is random bytes (nothing here checks it, as nothing can). */
function v2Jwt(validUntil: number | undefined): string {
  const claims = {
    t: 'g',
    jti: randomBytes(12).toString('base64url'),
    ...(validUntil ? { exp: validUntil } : {}),
  };
  return `${base64urlJson({ alg: 'HS512', typ: 'JWT' })}.${base64urlJson(claims)}.${randomBytes(48).toString('base64url')}`;
}

/**
 * Every chain, key and refresh token the emulator issued, judged against an injectable clock.
 * Refresh tokens are single use; a chain has exactly one unspent token, the one issued with its newest key.
 */
export class Ledger {
  readonly #byWireKey = new Map<string, IssuedPair>();
  readonly #byRefreshToken = new Map<string, IssuedPair>();
  readonly #chains = new Map<string, Chain>();
  #chainCount = 0;

  constructor(
    private readonly clock: () => number,
    private readonly endpoint: string,
  ) {}

  mint(lifetimeSeconds: number, scope: KeyScope = 'super-user'): KeyPair {
    checkLifetime(lifetimeSeconds);
    this.#chainCount += 1;
    const chainId = `chain-${this.#chainCount}`;
    const pair = this.#issue(chainId, lifetimeSeconds, scope);
    this.#chains.set(chainId, { lifetimeSeconds, scope, current: pair });
    return this.#toKeyPair(pair);
  }

  /**
   * A v2 key: no refresh token, so no chain to extend. `lifetimeSeconds` undefined mints a key that never expires;
   * `expClaim: false` leaves the expiry out of the key's claims (the console's JSON may still carry it).
   */
  mintV2(opts: { lifetimeSeconds?: number; scope?: KeyScope; expClaim?: boolean }): V2Key {
    if (opts.lifetimeSeconds !== undefined) checkLifetime(opts.lifetimeSeconds);
    const validUntil =
      opts.lifetimeSeconds === undefined ? undefined : Math.floor(this.clock() / 1000) + opts.lifetimeSeconds;
    const apiKey = v2Jwt(opts.expClaim === false ? undefined : validUntil);
    this.#byWireKey.set(apiKey, {
      chainId: 'v2',
      wireKey: apiKey,
      // A v2 key has no refresh token; this one is never handed out, so no refresh can ever match it.
      refreshToken: secret('emu-none-'),
      validUntil: validUntil ?? Number.POSITIVE_INFINITY,
      scope: opts.scope ?? 'super-user',
      spent: false,
      revoked: false,
    });
    return { apiKey, endpoint: this.endpoint, validUntil };
  }

  /** Refuses the key from now on, as deleting it in the console does; its chain (if any) is unchanged. */
  revoke(apiKey: string): void {
    const pair = this.#byWireKey.get(wireKeyOf(apiKey));
    if (pair === undefined) throw new Error('revoke: that key was not issued by this emulator');
    pair.revoked = true;
  }

  /** The refresh as the service does it: checks the pair, spends the token, issues the next pair. */
  refresh(wireKey: string, refreshToken: string): RefreshOutcome {
    if (wireKey === '' || refreshToken === '') return { refused: 'malformedRequest' };
    const byKey = this.#byWireKey.get(wireKey);
    if (byKey === undefined || byKey.chainId === 'v2') return { refused: 'unknownKey' };
    if (byKey.revoked) return { refused: 'revokedKey' };
    if (!this.#isLive(byKey)) return { refused: 'expiredKey' };
    const byToken = this.#byRefreshToken.get(refreshToken);
    if (byToken === undefined) return { refused: 'unknownRefreshToken' };
    if (byToken.spent) return { refused: 'spentRefreshToken' };
    if (byToken !== byKey) return { refused: 'mismatchedPair' };

    const chain = this.#chain(byKey.chainId);
    byKey.spent = true;
    const next = this.#issue(byKey.chainId, chain.lifetimeSeconds, chain.scope);
    chain.current = next;
    return {
      issued: {
        wireKey: next.wireKey,
        refreshToken: next.refreshToken,
        endpoint: this.endpoint,
        validUntil: next.validUntil,
      },
    };
  }

  /**
   * Why a wire key would be refused right now, or undefined when it is accepted. `plane: 'control'` also refuses
   * a data-scoped key.
   */
  authenticate(
    wireKey: string | undefined,
    plane: 'control' | 'data' = 'control',
  ): RefusalReason | undefined {
    if (wireKey === undefined || wireKey === '') return 'missingKey';
    const pair = this.#byWireKey.get(wireKey);
    if (pair === undefined) return 'unknownKey';
    if (pair.revoked) return 'revokedKey';
    if (!this.#isLive(pair)) return 'expiredKey';
    return plane === 'control' && pair.scope === 'data' ? 'forbiddenForScope' : undefined;
  }

  isKeyLive(apiKey: string): boolean {
    return this.authenticate(wireKeyOf(apiKey), 'data') === undefined;
  }

  chainOf(apiKey: string): string {
    const pair = this.#byWireKey.get(wireKeyOf(apiKey));
    if (pair === undefined || pair.chainId === 'v2') {
      throw new Error('chainOf: that key was not issued by this emulator as a v1 pair');
    }
    return pair.chainId;
  }

  /** The chain's newest pair while its key is live; undefined once it expired (the chain is lost). */
  livePair(chainId: string): KeyPair | undefined {
    const chain = this.#chains.get(chainId);
    if (chain === undefined || !this.#isLive(chain.current)) return undefined;
    return this.#toKeyPair(chain.current);
  }

  #issue(chainId: string, lifetimeSeconds: number, scope: KeyScope): IssuedPair {
    const pair: IssuedPair = {
      chainId,
      wireKey: secret('emu-key-'),
      refreshToken: secret('emu-rt-'),
      validUntil: Math.floor(this.clock() / 1000) + lifetimeSeconds,
      scope,
      spent: false,
      revoked: false,
    };
    this.#byWireKey.set(pair.wireKey, pair);
    this.#byRefreshToken.set(pair.refreshToken, pair);
    return pair;
  }

  #isLive(pair: IssuedPair): boolean {
    return this.clock() < pair.validUntil * 1000;
  }

  #chain(chainId: string): Chain {
    const chain = this.#chains.get(chainId);
    if (chain === undefined) throw new Error(`unknown chain ${chainId}`);
    return chain;
  }

  #toKeyPair(pair: IssuedPair): KeyPair {
    return {
      apiKey: encodeApiKey(this.endpoint, pair.wireKey),
      refreshToken: pair.refreshToken,
      validUntil: pair.validUntil,
    };
  }
}
