import { AWSCURRENT, AWSPENDING, type SecretMetadata } from './ports';

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

export function isManaged(secretIds: readonly string[], secret: { arn: string; name: string }): boolean {
  return secretIds.some((id) => designates(id, secret));
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
