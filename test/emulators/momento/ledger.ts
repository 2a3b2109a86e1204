import { randomBytes } from 'node:crypto';

/** A pair as the Momento console downloads it, with the key in the SDK's v1 format. */
export interface KeyPair {
  /** base64 of `{"endpoint": ..., "api_key": ...}`, what `CredentialProvider.fromString` parses. */
  readonly apiKey: string;
  readonly refreshToken: string;
  /** Epoch seconds; the key is accepted while `clock() < validUntil * 1000`. */
  readonly validUntil: number;
}

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
  /** A refresh token this emulator never issued. */
  | 'unknownRefreshToken'
  /** A refresh token that was already used once. */
  | 'spentRefreshToken'
  /** A live refresh token presented with a key other than the one it was issued with. */
  | 'mismatchedPair';

/** One issued (key, refresh token) pair; key and token share the record, so a pair is its identity. */
interface IssuedPair {
  readonly chainId: string;
  /** The opaque key the SDK sends on the wire (the `api_key` inside the base64 JSON). */
  readonly wireKey: string;
  readonly refreshToken: string;
  readonly validUntil: number;
  spent: boolean;
}

interface Chain {
  readonly lifetimeSeconds: number;
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

  mint(lifetimeSeconds: number): KeyPair {
    if (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds <= 0) {
      throw new RangeError(`lifetimeSeconds must be a positive integer, received ${lifetimeSeconds}`);
    }
    this.#chainCount += 1;
    const chainId = `chain-${this.#chainCount}`;
    const pair = this.#issue(chainId, lifetimeSeconds);
    this.#chains.set(chainId, { lifetimeSeconds, current: pair });
    return this.#toKeyPair(pair);
  }

  /** The refresh as the service does it: checks the pair, spends the token, issues the next pair. */
  refresh(wireKey: string, refreshToken: string): RefreshOutcome {
    if (wireKey === '' || refreshToken === '') return { refused: 'malformedRequest' };
    const byKey = this.#byWireKey.get(wireKey);
    if (byKey === undefined) return { refused: 'unknownKey' };
    if (!this.#isLive(byKey)) return { refused: 'expiredKey' };
    const byToken = this.#byRefreshToken.get(refreshToken);
    if (byToken === undefined) return { refused: 'unknownRefreshToken' };
    if (byToken.spent) return { refused: 'spentRefreshToken' };
    if (byToken !== byKey) return { refused: 'mismatchedPair' };

    const chain = this.#chain(byKey.chainId);
    byKey.spent = true;
    const next = this.#issue(byKey.chainId, chain.lifetimeSeconds);
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

  /** Why a wire key would be refused right now, or undefined when it is accepted. */
  authenticate(wireKey: string | undefined): RefusalReason | undefined {
    if (wireKey === undefined || wireKey === '') return 'missingKey';
    const pair = this.#byWireKey.get(wireKey);
    if (pair === undefined) return 'unknownKey';
    return this.#isLive(pair) ? undefined : 'expiredKey';
  }

  isKeyLive(apiKey: string): boolean {
    return this.authenticate(wireKeyOf(apiKey)) === undefined;
  }

  chainOf(apiKey: string): string {
    const pair = this.#byWireKey.get(wireKeyOf(apiKey));
    if (pair === undefined) throw new Error('chainOf: that key was not issued by this emulator');
    return pair.chainId;
  }

  /** The chain's newest pair while its key is live; undefined once it expired (the chain is lost). */
  livePair(chainId: string): KeyPair | undefined {
    const chain = this.#chains.get(chainId);
    if (chain === undefined || !this.#isLive(chain.current)) return undefined;
    return this.#toKeyPair(chain.current);
  }

  #issue(chainId: string, lifetimeSeconds: number): IssuedPair {
    const pair: IssuedPair = {
      chainId,
      wireKey: secret('emu-key-'),
      refreshToken: secret('emu-rt-'),
      validUntil: Math.floor(this.clock() / 1000) + lifetimeSeconds,
      spent: false,
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
