import * as z from 'zod';
import { MalformedSecretError, NeverExpiresError, UninitialisedSecretError } from '../errors';
import type { KeyPair } from './ports';

/**
 * What a stored value is, after reading. `raw` keeps the whole object so that a write can keep every field
 * the applications reading the secret rely on.
 */
export type ParsedSecret =
  | { readonly kind: 'uninitialised' }
  | { readonly kind: 'never-expires' }
  | {
      readonly kind: 'rotatable';
      readonly apiKey: string;
      readonly refreshToken: string;
      /** Epoch seconds. */
      readonly validUntil: number;
      /** Where the key lives: `apiKey`, `authToken`, or both when both were present. */
      readonly keyFields: readonly ('apiKey' | 'authToken')[];
      readonly validUntilType: 'number' | 'string';
      readonly raw: Readonly<Record<string, unknown>>;
    };

const nonEmptyString = z.string().min(1);
const epochSeconds = z
  .union([z.number().int().nonnegative(), z.string().regex(/^\d+$/), z.null()])
  .optional();

const fieldProblems: Record<string, string> = {
  apiKey: 'must be a non-empty string',
  authToken: 'must be a non-empty string',
  refreshToken: 'must be a non-empty string',
  validUntil: 'must be a whole number (or numeric string) of epoch seconds, 0 or null',
};

const secretObject = z.looseObject({
  apiKey: nonEmptyString.optional(),
  authToken: nonEmptyString.optional(),
  refreshToken: nonEmptyString.optional(),
  validUntil: epochSeconds,
});

/**
 * Parses a stored value. Throws MalformedSecretError naming the secret, the version and the field; the
 * value itself never appears in the error.
 */
export function parseSecret(
  secretString: string | undefined,
  secretId: string,
  versionId?: string,
): ParsedSecret {
  if (secretString === undefined) {
    throw new MalformedSecretError(
      secretId,
      versionId,
      'SecretString',
      'is missing (binary secrets are not supported)',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(secretString);
  } catch {
    throw new MalformedSecretError(secretId, versionId, 'SecretString', 'is not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new MalformedSecretError(secretId, versionId, 'SecretString', 'is not a JSON object');
  }
  const parsed = secretObject.safeParse(json);
  if (!parsed.success) {
    const field = String(parsed.error.issues[0]?.path[0] ?? 'SecretString');
    throw new MalformedSecretError(secretId, versionId, field, fieldProblems[field] ?? 'is invalid');
  }
  const value = parsed.data;
  const raw = json as Record<string, unknown>;
  const apiKey = value.apiKey ?? value.authToken;
  const keyFields = (['apiKey', 'authToken'] as const).filter((field) => raw[field] !== undefined);

  if (apiKey === undefined && value.refreshToken === undefined) return { kind: 'uninitialised' };
  if (apiKey === undefined) {
    throw new MalformedSecretError(secretId, versionId, 'apiKey', 'is missing (nor is there an authToken)');
  }
  const validUntil =
    value.validUntil === null || value.validUntil === undefined ? 0 : Number(value.validUntil);
  if (validUntil === 0) return { kind: 'never-expires' };
  if (value.refreshToken === undefined) {
    throw new MalformedSecretError(secretId, versionId, 'refreshToken', 'is missing for a key that expires');
  }
  if (value.apiKey !== undefined && value.authToken !== undefined && value.apiKey !== value.authToken) {
    throw new MalformedSecretError(
      secretId,
      versionId,
      'authToken',
      'differs from apiKey; keep only one of them',
    );
  }
  return {
    kind: 'rotatable',
    apiKey,
    refreshToken: value.refreshToken,
    validUntil,
    keyFields,
    validUntilType: typeof value.validUntil === 'string' ? 'string' : 'number',
    raw,
  };
}

/** Parses and insists on a pair that can be rotated. */
export function parseRotatable(
  secretString: string | undefined,
  secretId: string,
  versionId?: string,
): Extract<ParsedSecret, { kind: 'rotatable' }> {
  const parsed = parseSecret(secretString, secretId, versionId);
  if (parsed.kind === 'uninitialised') throw new UninitialisedSecretError(secretId);
  if (parsed.kind === 'never-expires') throw new NeverExpiresError(secretId);
  return parsed;
}

/**
 * The new value in the shape the secret already has: same key field name(s), same validUntil type, every
 * other field untouched and in its place.
 */
export function serialiseRotated(
  current: Extract<ParsedSecret, { kind: 'rotatable' }>,
  next: KeyPair,
): string {
  const value: Record<string, unknown> = { ...current.raw };
  for (const field of current.keyFields) value[field] = next.apiKey;
  value.refreshToken = next.refreshToken;
  value.validUntil = current.validUntilType === 'string' ? String(next.validUntil) : next.validUntil;
  return JSON.stringify(value);
}
