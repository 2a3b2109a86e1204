import { MomentoCallError, type MomentoFailureKind } from '../../src/errors';
import type { KeyPair, MomentoAuth, MomentoKey } from '../../src/rotation/ports';
import { secretMaterial } from './secret-material';

/** A queued failure: its kind (the code is then `FAKE_<KIND>`), or a kind with the SDK error code to answer. */
export type FakeFailure = MomentoFailureKind | { kind: MomentoFailureKind; code: string };

function callError(operation: 'refresh' | 'verify', failure: FakeFailure): MomentoCallError {
  const { kind, code } =
    typeof failure === 'string' ? { kind: failure, code: `FAKE_${failure.toUpperCase()}` } : failure;
  return new MomentoCallError(operation, kind, code);
}

/** What the real adapter answers when a key check outlives the deadline the engine gave it (see withDeadline). */
async function deadlinePassed(operation: 'verify', timeoutMs: number): Promise<never> {
  await new Promise((resolve) => setTimeout(resolve, timeoutMs));
  throw new MomentoCallError(operation, 'unavailable', 'CLIENT_DEADLINE');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An in-process Momento for unit tests: one live chain per minted pair, single-use refresh tokens, keys valid
 * until their own expiry. Failures are queued per operation.
 */
export class FakeMomento implements MomentoAuth {
  readonly refreshCalls: Array<{ apiKey: string; refreshToken: string }> = [];
  readonly verifyCalls: string[] = [];
  readonly failures: { refresh: FakeFailure[]; verify: FakeFailure[] } = {
    refresh: [],
    verify: [],
  };
  readonly #keys = new Map<string, number>();
  readonly #liveTokens = new Map<string, { lifetime: number }>();
  #verifyHangs = 0;
  #refreshHangs = 0;
  readonly #refreshDelays: number[] = [];
  /** Pairs Momento issued whose answer has not reached the caller yet (committed, still in flight). */
  inFlightAnswers = 0;

  constructor(private readonly clock: () => number) {}

  mint(lifetimeSeconds: number, issuedAtMs = this.clock()): KeyPair {
    const pair: KeyPair = {
      apiKey: secretMaterial('key'),
      refreshToken: secretMaterial('rt'),
      validUntil: Math.floor(issuedAtMs / 1000) + lifetimeSeconds,
    };
    this.#keys.set(pair.apiKey, pair.validUntil);
    this.#liveTokens.set(pair.refreshToken, { lifetime: lifetimeSeconds });
    return pair;
  }

  hangNextVerify(): void {
    this.#verifyHangs += 1;
  }

  /** The next refresh never answers and Momento does not commit it (a call lost on its way). */
  hangNextRefresh(): void {
    this.#refreshHangs += 1;
  }

  /** The next refresh commits at once (the token is spent) and its answer arrives `delayMs` later. */
  answerNextRefreshAfter(delayMs: number): void {
    this.#refreshDelays.push(delayMs);
  }

  async refresh(current: { apiKey: string; refreshToken: string }): Promise<KeyPair> {
    this.refreshCalls.push(current);
    if (this.#refreshHangs > 0) {
      this.#refreshHangs -= 1;
      return new Promise<never>(() => undefined);
    }
    const delayMs = this.#refreshDelays.shift();
    if (delayMs !== undefined) {
      const pair = this.#refreshNow(current);
      this.inFlightAnswers += 1;
      await sleep(delayMs);
      this.inFlightAnswers -= 1;
      return pair;
    }
    return this.#refreshNow(current);
  }

  #refreshNow(current: { apiKey: string; refreshToken: string }): KeyPair {
    const failure = this.failures.refresh.shift();
    if (failure) throw callError('refresh', failure);
    const live = this.#liveTokens.get(current.refreshToken);
    const keyValidUntil = this.#keys.get(current.apiKey);
    if (!live || keyValidUntil === undefined || keyValidUntil * 1000 <= this.clock()) {
      throw new MomentoCallError('refresh', 'rejected', 'AUTHENTICATION_ERROR');
    }
    this.#liveTokens.delete(current.refreshToken);
    return this.mint(live.lifetime);
  }

  async verifyKey(key: MomentoKey, timeoutMs: number): Promise<void> {
    const { apiKey } = key;
    this.verifyCalls.push(apiKey);
    if (this.#verifyHangs > 0) {
      this.#verifyHangs -= 1;
      return deadlinePassed('verify', timeoutMs);
    }
    const failure = this.failures.verify.shift();
    if (failure) throw callError('verify', failure);
    const validUntil = this.#keys.get(apiKey);
    if (validUntil === undefined || validUntil * 1000 <= this.clock()) {
      throw new MomentoCallError('verify', 'rejected', 'AUTHENTICATION_ERROR');
    }
  }

  isLive(refreshToken: string): boolean {
    return this.#liveTokens.has(refreshToken);
  }
}
