import { describeError, MalformedSecretError } from '../errors';
import { fingerprint } from '../fingerprint';
import type { DueRule } from '../rotation/policy';
import { AWSCURRENT, type MomentoKey, type SecretMetadata } from '../rotation/ports';
import { type ParsedSecret, parseSecret } from '../rotation/secret-value';
import { manualRenewalFacts, refreshableKeyFacts, type SecretState } from '../rotation/sweep';
import type { Services } from './services';

/** Where one secret's key stands: what `status` prints and what `doctor` and `put` judge. No key material. */
export interface KeyFacts {
  readonly secretId: string;
  readonly arn: string;
  readonly versionId: string | null;
  readonly state: SecretState | 'malformed';
  /** `v1`: refreshable (or never expiring); `v2`: renewed by hand. */
  readonly keyKind: 'v1' | 'v2' | null;
  readonly fingerprint: string | null;
  readonly validUntil: number | null;
  readonly expiresAt: string | null;
  readonly secondsUntilExpiry: number | null;
  /** Why the value could not be used (names the field, never a value). */
  readonly problem?: string;
}

/** The facts and, kept apart so that it can never be printed with them, the key itself. */
export interface ReadKey {
  readonly facts: KeyFacts;
  readonly key: MomentoKey | undefined;
  readonly parsed: ParsedSecret | undefined;
  readonly secretString: string | undefined;
}

const NO_EXPIRY = { validUntil: null, expiresAt: null, secondsUntilExpiry: null } as const;

/** Reads AWSCURRENT and judges it with the engine's own parser and due rule. */
export async function readKeyFacts(
  meta: SecretMetadata,
  services: Services,
  dueRule: DueRule,
): Promise<ReadKey> {
  const current = await services.store.getVersion(meta.arn, { stage: AWSCURRENT });
  const base = { secretId: meta.name, arn: meta.arn, versionId: current?.versionId ?? null };
  const none = { key: undefined, parsed: undefined, secretString: current?.secretString };
  if (current === undefined) {
    return {
      ...none,
      facts: { ...base, state: 'uninitialised', keyKind: null, fingerprint: null, ...NO_EXPIRY },
    };
  }
  let parsed: ParsedSecret;
  try {
    parsed = parseSecret(current.secretString, meta.name, current.versionId, services.now());
  } catch (error) {
    if (!(error instanceof MalformedSecretError)) throw error;
    const facts: KeyFacts = {
      ...base,
      state: 'malformed',
      keyKind: null,
      fingerprint: null,
      ...NO_EXPIRY,
      problem: describeError(error).errorMessage,
    };
    return { ...none, facts };
  }
  const withParsed = { parsed, secretString: current.secretString };
  if (parsed.kind === 'uninitialised') {
    return {
      ...withParsed,
      key: undefined,
      facts: { ...base, state: 'uninitialised', keyKind: null, fingerprint: null, ...NO_EXPIRY },
    };
  }
  const key: MomentoKey = parsed.kind === 'rotatable' ? { version: 'v1', apiKey: parsed.apiKey } : parsed.key;
  const keyFacts = { ...base, keyKind: key.version, fingerprint: fingerprint(key.apiKey) };
  const now = services.now();
  if (parsed.kind === 'never-expires') {
    return { ...withParsed, key, facts: { ...keyFacts, state: 'never-expires', ...NO_EXPIRY } };
  }
  if (parsed.kind === 'manual-renewal') {
    return { ...withParsed, key, facts: { ...keyFacts, ...manualRenewalFacts(parsed.validUntil, now) } };
  }
  return {
    ...withParsed,
    key,
    facts: {
      ...keyFacts,
      ...refreshableKeyFacts(meta, parsed.validUntil, current.createdDate, now, dueRule),
    },
  };
}
