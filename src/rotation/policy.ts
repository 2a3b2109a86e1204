import { AWSCURRENT, AWSPENDING, type SecretMetadata, type SecretTag } from './ports';

export interface DueRule {
  readonly rotateAtRemainingFraction: number;
  readonly rotateWithinSeconds: number;
}

export interface Expiry {
  /** Seconds until the key expires (negative once expired). */
  readonly remaining: number;
  /** Seconds the current key was issued for, when the AWSCURRENT version's creation time is known. */
  readonly lifetime: number | undefined;
  readonly due: boolean;
}

/**
 * DESIGN.md due rule: due when `remaining <= fraction * lifetime` or `remaining <= within`, where lifetime runs
 * from the creation of the AWSCURRENT version to validUntil.
 */
export function expiryOf(
  validUntil: number,
  createdDateMs: number | undefined,
  nowMs: number,
  rule: DueRule,
): Expiry {
  const remaining = validUntil - Math.floor(nowMs / 1000);
  const lifetime = createdDateMs === undefined ? undefined : validUntil - Math.floor(createdDateMs / 1000);
  const dueByFraction = lifetime !== undefined && remaining <= rule.rotateAtRemainingFraction * lifetime;
  return { remaining, lifetime, due: dueByFraction || remaining <= rule.rotateWithinSeconds };
}

/**
 * Whether a configured id (name, complete ARN or partial ARN without the 6-character suffix) designates the
 * secret. Events carry ARNs while the configuration may hold names.
 */
export function designates(configuredId: string, secret: { arn: string; name: string }): boolean {
  if (configuredId === secret.arn || configuredId === secret.name) return true;
  return (
    configuredId.startsWith('arn:') &&
    secret.arn.length === configuredId.length + 7 &&
    secret.arn.startsWith(`${configuredId}-`)
  );
}

/** Which secrets a function manages: those it names, and those that carry its tag. */
export interface Selection {
  readonly secretIds: readonly string[];
  readonly secretTag?: SecretTag;
}

/** Exactly the tag: ListSecrets' tag filters match prefixes, and key and value filters match separately. */
export function carriesTag(tag: SecretTag, secret: { tags?: Readonly<Record<string, string>> }): boolean {
  const tags = secret.tags ?? {};
  if (!Object.hasOwn(tags, tag.key)) return false;
  return tag.value === undefined || tags[tag.key] === tag.value;
}

export function isManaged(
  selection: Selection,
  secret: { arn: string; name: string; tags?: Readonly<Record<string, string>> },
): boolean {
  if (selection.secretIds.some((id) => designates(id, secret))) return true;
  return selection.secretTag !== undefined && carriesTag(selection.secretTag, secret);
}

/** The tag as people write it: `key` or `key=value`. */
export function describeTag(tag: SecretTag): string {
  return tag.value === undefined ? tag.key : `${tag.key}=${tag.value}`;
}

export function versionWith(meta: SecretMetadata, stage: string): string | undefined {
  return Object.entries(meta.versions).find(([, stages]) => stages.includes(stage))?.[0];
}

/** A version labelled AWSPENDING that is not also AWSCURRENT: a rotation that has not finished. */
export function unfinishedPendingVersion(meta: SecretMetadata): string | undefined {
  return Object.entries(meta.versions).find(
    ([, stages]) => stages.includes(AWSPENDING) && !stages.includes(AWSCURRENT),
  )?.[0];
}

/** The name part of a secret ARN, usable as a ListSecrets `name` prefix filter. */
export function nameFilterFor(secretId: string): string {
  if (!secretId.startsWith('arn:')) return secretId;
  const name = secretId.slice(secretId.indexOf(':secret:') + ':secret:'.length);
  // A complete ARN ends with "-" and six random characters; stripping them only shortens a prefix filter.
  return name.replace(/-[A-Za-z0-9]{6}$/, '');
}
