import { MomentoCallError, type MomentoFailureKind } from '../../src/errors';
import type { KeyPair, MomentoAuth } from '../../src/rotation/ports';
import { secretMaterial } from './secret-material';

/**
 * An in-process Momento for unit tests: one live chain per minted pair, single-use refresh tokens, keys valid
 * until their own expiry. Failures are queued per operation.
 */
export class FakeMomento implements MomentoAuth {
  readonly refreshCalls: Array<{ apiKey: string; refreshToken: string }> = [];
  readonly verifyCalls: string[] = [];
  readonly failures: { refresh: MomentoFailureKind[]; verify: MomentoFailureKind[] } = {
    refresh: [],
    verify: [],
  };
  readonly #keys = new Map<string, number>();
  readonly #liveTokens = new Map<string, { lifetime: number }>();
  #verifyHangs = 0;

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

  async refresh(current: { apiKey: string; refreshToken: string }, _timeoutMs: number): Promise<KeyPair> {
    this.refreshCalls.push(current);
    const failure = this.failures.refresh.shift();
    if (failure) throw new MomentoCallError('refresh', failure, `FAKE_${failure.toUpperCase()}`);
    const live = this.#liveTokens.get(current.refreshToken);
    const keyValidUntil = this.#keys.get(current.apiKey);
    if (!live || keyValidUntil === undefined || keyValidUntil * 1000 <= this.clock()) {
      throw new MomentoCallError('refresh', 'rejected', 'AUTHENTICATION_ERROR');
    }
    this.#liveTokens.delete(current.refreshToken);
    return this.mint(live.lifetime);
  }

  async verifyKey(apiKey: string, timeoutMs: number): Promise<void> {
    this.verifyCalls.push(apiKey);
    if (this.#verifyHangs > 0) {
      this.#verifyHangs -= 1;
      await new Promise((resolve) => setTimeout(resolve, timeoutMs));
      throw new MomentoCallError('verify', 'unavailable', 'CLIENT_DEADLINE');
    }
    const failure = this.failures.verify.shift();
    if (failure) throw new MomentoCallError('verify', failure, `FAKE_${failure.toUpperCase()}`);
    const validUntil = this.#keys.get(apiKey);
    if (validUntil === undefined || validUntil * 1000 <= this.clock()) {
      throw new MomentoCallError('verify', 'rejected', 'AUTHENTICATION_ERROR');
    }
  }

  isLive(refreshToken: string): boolean {
    return this.#liveTokens.has(refreshToken);
  }
}
