/**
 * The demo's promise, checked: no 8-character piece of any key or refresh token appears in what it printed or
 * in the function's log file. The same rule as the unit tests' leak detector (test/support/secret-material.ts),
 * reimplemented here so that the demo does not depend on Vitest.
 */

export const WINDOW = 8;

/** The values worth hiding in one stored secret version: key, refresh token, and the bare key inside a v1 key. */
export function materialOf(secretString: string | undefined): string[] {
  if (secretString === undefined) return [];
  let value: unknown;
  try {
    value = JSON.parse(secretString);
  } catch {
    return [];
  }
  if (value === null || typeof value !== 'object') return [];
  const found: string[] = [];
  for (const field of ['apiKey', 'authToken', 'refreshToken']) {
    const secret = (value as Record<string, unknown>)[field];
    if (typeof secret !== 'string' || secret === '') continue;
    found.push(secret, ...innerKeyOf(secret));
  }
  return found;
}

/** A v1 Momento key is base64 of `{"endpoint", "api_key"}`; the bare `api_key` travels on the wire on its own. */
export function innerKeyOf(apiKey: string): string[] {
  try {
    const inner = JSON.parse(Buffer.from(apiKey, 'base64').toString('utf8')) as { api_key?: unknown };
    return typeof inner.api_key === 'string' && inner.api_key !== '' ? [inner.api_key] : [];
  } catch {
    return [];
  }
}

/**
 * How many of `secrets` have an 8-character piece somewhere in `texts`. Every window of the texts goes into a
 * set once, so the check stays linear however many secrets there are.
 */
export function countLeaks(texts: readonly string[], secrets: Iterable<string>): number {
  const windows = new Set<string>();
  for (const text of texts) {
    for (let i = 0; i + WINDOW <= text.length; i += 1) windows.add(text.slice(i, i + WINDOW));
  }
  let leaked = 0;
  for (const secret of new Set(secrets)) {
    for (let i = 0; i + WINDOW <= secret.length; i += 1) {
      if (windows.has(secret.slice(i, i + WINDOW))) {
        leaked += 1;
        break;
      }
    }
  }
  return leaked;
}
