import type { KeyPair } from './ports';

/**
 * Pairs Momento issued to this container that are not yet stored: a refresh answer that arrived after the engine
 * stopped waiting for it, or one whose pending write never stuck. Each is the newest link of its chain and the
 * token it replaced is spent, so the next createSecret of that secret on this container writes the kept pair
 * instead of refreshing again (which Momento would refuse, breaking the chain). Keyed by the secret and the
 * refresh token that was spent; kept only in memory, never logged; forgotten once written.
 */
export class IssuedPairs {
  readonly #pairs = new Map<string, KeyPair>();

  keep(secretArn: string, spentRefreshToken: string, pair: KeyPair): void {
    this.#pairs.set(IssuedPairs.#key(secretArn, spentRefreshToken), pair);
  }

  find(secretArn: string, spentRefreshToken: string): KeyPair | undefined {
    return this.#pairs.get(IssuedPairs.#key(secretArn, spentRefreshToken));
  }

  forget(secretArn: string, spentRefreshToken: string): void {
    this.#pairs.delete(IssuedPairs.#key(secretArn, spentRefreshToken));
  }

  static #key(secretArn: string, refreshToken: string): string {
    return `${secretArn}\n${refreshToken}`;
  }
}
