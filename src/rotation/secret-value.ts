import * as z from 'zod/mini';
import {
  MalformedSecretError,
  ManualRenewalError,
  NeverExpiresError,
  UninitialisedSecretError,
} from '../errors';
import type { KeyPair, MomentoKey } from './ports';

/**
 * What a stored value is, after reading. `raw` keeps the whole object so that a write can keep every field
 * the applications reading the secret rely on.
 */
export type ParsedSecret =
  | { readonly kind: 'uninitialised' }
  | { readonly kind: 'never-expires'; readonly key: MomentoKey }
  | {
      /** A v2 key: watched, never refreshed (no public API can); a person renews it with the CLI's `put`. */
      readonly kind: 'manual-renewal';
      readonly key: Extract<MomentoKey, { version: 'v2' }>;
      /** Epoch seconds: the earliest of a stored `validUntil`, a stored `expiresAt` and the key's `exp` claim. */
      readonly validUntil: number | undefined;
    }
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

const nonEmptyString = z.string().check(z.minLength(1));

/**
 * Momento keys and refresh tokens are printable ASCII without spaces (base64 and JWT alphabets). Anything else
 * inside one — a newline, a tab, a no-break space, an emoji — is a copy-paste artefact: sent to Momento it fails
 * as a malformed key far from its cause, so it is refused where it is read, naming the field.
 */
const TOKEN_CHARACTERS = /^[\x21-\x7e]+$/;

/** Earliest plausible expiry: anything before is a duration or a typo, not epoch seconds of a Momento key. */
export const EARLIEST_PLAUSIBLE_VALID_UNTIL = 1_000_000_000;
/**
 * Latest plausible expiry, counted from now: ten years, well above any lifetime Momento issues. A value past it
 * is most often milliseconds (which would make the key look valid for millennia, so it would expire unseen).
 */
export const MAX_PLAUSIBLE_LIFETIME_SECONDS = 10 * 365 * 24 * 3600;
const epochSeconds = z.optional(
  z.union([z.int().check(z.nonnegative()), z.string().check(z.regex(/^\d+$/)), z.null()]),
);

const fieldProblems: Record<string, string> = {
  apiKey: 'must be a non-empty string',
  authToken: 'must be a non-empty string',
  refreshToken: 'must be a non-empty string',
  validUntil: 'must be a whole number (or numeric string) of epoch seconds, 0 or null',
  endpoint: 'must be a host name, such as the one the Momento console shows beside a v2 key',
  expiresAt: 'must be epoch seconds or an ISO 8601 date and time',
};

const secretObject = z.looseObject({
  apiKey: z.optional(nonEmptyString),
  authToken: z.optional(nonEmptyString),
  refreshToken: z.optional(nonEmptyString),
  validUntil: epochSeconds,
  endpoint: z.optional(z.string().check(z.regex(/^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/))),
  expiresAt: z.optional(z.union([z.int().check(z.positive()), z.iso.datetime({ offset: true }), z.null()])),
});

/**
 * The claims of a JWT-shaped key, or undefined for anything else (a v1 key is base64 JSON, not a JWT). Decoding
 * is all: nothing here can check a signature, and nothing needs to; Momento judges the key.
 */
function jwtClaims(apiKey: string): Record<string, unknown> | undefined {
  const parts = apiKey.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The test `CredentialProvider.fromApiKeyV2` applies (SDK 1.118.1): a JWT whose `t` claim is `g` (global key). */
function isV2Key(apiKey: string): boolean {
  return jwtClaims(apiKey)?.t === 'g';
}

/**
 * Parses a stored value. Throws MalformedSecretError naming the secret, the version and the field; the
 * value itself never appears in the error.
 */
export function parseSecret(
  secretString: string | undefined,
  secretId: string,
  versionId: string | undefined,
  nowMs: number,
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
  for (const field of ['apiKey', 'authToken', 'refreshToken'] as const) {
    const text = value[field];
    if (text !== undefined && !TOKEN_CHARACTERS.test(text)) {
      throw new MalformedSecretError(
        secretId,
        versionId,
        field,
        'contains whitespace, control or non-ASCII characters; put the value exactly as Momento issued it',
      );
    }
  }
  const apiKey = value.apiKey ?? value.authToken;
  const keyFields = (['apiKey', 'authToken'] as const).filter((field) => raw[field] !== undefined);

  if (apiKey === undefined && value.refreshToken === undefined) return { kind: 'uninitialised' };
  if (apiKey === undefined) {
    throw new MalformedSecretError(secretId, versionId, 'apiKey', 'is missing (nor is there an authToken)');
  }
  if (value.apiKey !== undefined && value.authToken !== undefined && value.apiKey !== value.authToken) {
    throw new MalformedSecretError(
      secretId,
      versionId,
      'authToken',
      'differs from apiKey; keep only one of them',
    );
  }
  if (isV2Key(apiKey)) return parseV2(value, apiKey, secretId, versionId, nowMs);
  const validUntil =
    value.validUntil === null || value.validUntil === undefined ? 0 : Number(value.validUntil);
  if (validUntil === 0) {
    if (value.refreshToken === undefined) return { kind: 'never-expires', key: { version: 'v1', apiKey } };
    // A refresh token exists only for a key that expires: without its expiry the key would be taken for one
    // that never expires, never rotated, and expire unseen.
    throw new MalformedSecretError(
      secretId,
      versionId,
      'validUntil',
      'is missing, 0 or null beside a refreshToken; put the whole JSON Momento issued with the key',
    );
  }
  refuseImplausibleExpiry(validUntil, nowMs, secretId, versionId, 'validUntil');
  if (value.refreshToken === undefined) {
    throw new MalformedSecretError(secretId, versionId, 'refreshToken', 'is missing for a key that expires');
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

/**
 * A v2 key: the endpoint beside it is required (the key does not carry it, and `fromApiKeyV2` needs it), a refresh
 * token is a mix-up (v2 keys have none), and the expiry is the earliest one known.
 */
function parseV2(
  value: z.infer<typeof secretObject>,
  apiKey: string,
  secretId: string,
  versionId: string | undefined,
  nowMs: number,
): Extract<ParsedSecret, { kind: 'manual-renewal' }> {
  if (value.refreshToken !== undefined) {
    throw new MalformedSecretError(
      secretId,
      versionId,
      'refreshToken',
      'must be absent beside a v2 API key (v2 keys have no refresh token); put the JSON of one key only',
    );
  }
  if (value.endpoint === undefined) {
    throw new MalformedSecretError(
      secretId,
      versionId,
      'endpoint',
      'is required beside a v2 API key: put the endpoint the Momento console shows with the key',
    );
  }
  const exp = jwtClaims(apiKey)?.exp;
  const stored = {
    validUntil: value.validUntil === null || value.validUntil === undefined ? 0 : Number(value.validUntil),
    expiresAt:
      typeof value.expiresAt === 'string'
        ? Math.floor(Date.parse(value.expiresAt) / 1000)
        : (value.expiresAt ?? 0),
  };
  for (const [field, seconds] of Object.entries(stored)) {
    if (seconds > 0) refuseImplausibleExpiry(seconds, nowMs, secretId, versionId, field);
  }
  const candidates = [
    stored.validUntil,
    stored.expiresAt,
    typeof exp === 'number' && Number.isSafeInteger(exp) && exp > 0 ? exp : 0,
  ].filter((seconds) => seconds > 0);
  return {
    kind: 'manual-renewal',
    key: { version: 'v2', apiKey, endpoint: value.endpoint },
    validUntil: candidates.length === 0 ? undefined : Math.min(...candidates),
  };
}

/**
 * The key to use and its expiry, for whichever kind the secret holds: what the CLI and the application helper
 * need. Throws MalformedSecretError as parseSecret does, UninitialisedSecretError for the placeholder.
 */
export function readKey(
  secretString: string | undefined,
  secretId: string,
  versionId: string | undefined,
  nowMs: number,
): { key: MomentoKey; validUntil: number | undefined } {
  const parsed = parseSecret(secretString, secretId, versionId, nowMs);
  switch (parsed.kind) {
    case 'uninitialised':
      throw new UninitialisedSecretError(secretId);
    case 'never-expires':
      return { key: parsed.key, validUntil: undefined };
    case 'manual-renewal':
      return { key: parsed.key, validUntil: parsed.validUntil };
    case 'rotatable':
      return { key: { version: 'v1', apiKey: parsed.apiKey }, validUntil: parsed.validUntil };
  }
}

/**
 * Refuses an expiry that cannot be epoch seconds of a Momento key, naming the field, never the value: before
 * 2001 (a duration?), or more than ten years ahead (most often milliseconds).
 */
function refuseImplausibleExpiry(
  seconds: number,
  nowMs: number,
  secretId: string,
  versionId: string | undefined,
  field: string,
): void {
  if (seconds < EARLIEST_PLAUSIBLE_VALID_UNTIL) {
    throw new MalformedSecretError(
      secretId,
      versionId,
      field,
      'is before 2001: not an expiry in epoch seconds (a duration?)',
    );
  }
  if (!Number.isSafeInteger(seconds) || seconds > Math.floor(nowMs / 1000) + MAX_PLAUSIBLE_LIFETIME_SECONDS) {
    throw new MalformedSecretError(
      secretId,
      versionId,
      field,
      seconds >= 1e11
        ? 'is implausibly far in the future: epoch milliseconds or smaller units instead of epoch seconds?'
        : 'is more than ten years ahead: not a plausible expiry of a Momento key',
    );
  }
}

/** Parses and insists on a pair that can be rotated. */
export function parseRotatable(
  secretString: string | undefined,
  secretId: string,
  versionId: string | undefined,
  nowMs: number,
): Extract<ParsedSecret, { kind: 'rotatable' }> {
  const parsed = parseSecret(secretString, secretId, versionId, nowMs);
  if (parsed.kind === 'uninitialised') throw new UninitialisedSecretError(secretId);
  if (parsed.kind === 'never-expires') throw new NeverExpiresError(secretId);
  if (parsed.kind === 'manual-renewal') throw new ManualRenewalError(secretId, parsed.validUntil);
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

/** Fields that describe a key: replaced as a whole when a person puts a new key, never mixed with the old ones. */
const KEY_MATERIAL_FIELDS = ['apiKey', 'authToken', 'refreshToken', 'validUntil', 'endpoint', 'expiresAt'];

/**
 * The value a person's new key is stored as: the incoming JSON (already accepted by parseSecret) over the stored
 * value's other fields, which applications may read. The key goes under the field name(s) the secret already uses
 * and `validUntil` keeps its stored type, so that applications reading the secret never break; the placeholder's
 * `uninitialised` note is dropped.
 */
export function serialisePut(stored: string | undefined, incoming: string): string {
  const next = JSON.parse(incoming) as Record<string, unknown>;
  let old: Record<string, unknown> = {};
  try {
    const parsed: unknown = stored === undefined ? undefined : JSON.parse(stored);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      old = parsed as Record<string, unknown>;
    }
  } catch {
    // Not JSON: nothing of it is worth keeping.
  }
  const value: Record<string, unknown> = {};
  for (const [field, content] of Object.entries(old)) {
    if (!KEY_MATERIAL_FIELDS.includes(field) && field !== 'uninitialised') value[field] = content;
  }
  const key = next.apiKey ?? next.authToken;
  const oldKeyFields = ['apiKey', 'authToken'].filter((field) => typeof old[field] === 'string');
  for (const [field, content] of Object.entries(next)) {
    if (field === 'apiKey' || field === 'authToken') continue;
    value[field] = content;
  }
  for (const field of oldKeyFields.length > 0 ? oldKeyFields : ['apiKey', 'authToken']) {
    if (oldKeyFields.length > 0 || next[field] !== undefined) value[field] = key;
  }
  const validUntil = next.validUntil;
  if (typeof old.validUntil === 'string' && typeof validUntil === 'number')
    value.validUntil = String(validUntil);
  if (typeof old.validUntil === 'number' && typeof validUntil === 'string')
    value.validUntil = Number(validUntil);
  return JSON.stringify(value);
}
