/**
 * One class per failure. Messages name the secret, the version id and the field or variable involved,
 * never a value: the callers of these constructors only ever pass identifiers, and `cause` carries
 * AWS SDK errors (which hold no secret values) or a sanitised Momento error code.
 */
export abstract class RotatorError extends Error {
  abstract override readonly name: string;
}

/** Longest piece of caller input an error or log line repeats. */
const ECHO_LIMIT = 120;

/**
 * Caller input (a secret id from an event, say) as errors and logs repeat it: whole when short, else its start
 * and its length, so that a megabyte of input never becomes a megabyte of log. Only for identifiers, never for
 * secret values, which are never repeated at all.
 */
export function echo(input: string): string {
  if (input.length <= ECHO_LIMIT) return input;
  return `${input.slice(0, ECHO_LIMIT)}… (${input.length} characters)`;
}

/** The function's environment is wrong; raised at start, before any call. */
export class ConfigError extends RotatorError {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
  }
}

/** The invocation payload matches none of the three doors. */
export class UnknownEventError extends RotatorError {
  override readonly name = 'UnknownEventError';
}

/** The secret is not in ROTATOR_SECRET_IDS. */
export class UnmanagedSecretError extends RotatorError {
  override readonly name = 'UnmanagedSecretError';
  constructor(readonly secretId: string) {
    super(`secret ${echo(secretId)} is not managed by this function (ROTATOR_SECRET_IDS)`);
  }
}

/** The rotation event does not fit the secret's rotation state (AWS rotation template checks). */
export class RotationStateError extends RotatorError {
  override readonly name = 'RotationStateError';
}

/** The stored secret value cannot be used. `field` names the offending field. */
export class MalformedSecretError extends RotatorError {
  override readonly name = 'MalformedSecretError';
  constructor(
    readonly secretId: string,
    readonly versionId: string | undefined,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`secret ${secretId}${versionId ? ` version ${versionId}` : ''}: field "${field}" ${problem}`);
  }
}

/** The secret still holds the placeholder the stack wrote; a person must put the console JSON. */
export class UninitialisedSecretError extends RotatorError {
  override readonly name = 'UninitialisedSecretError';
  constructor(readonly secretId: string) {
    super(
      `secret ${secretId} is uninitialised (no apiKey/authToken and no refreshToken): put the JSON downloaded ` +
        `from the Momento console with: aws secretsmanager put-secret-value --secret-id ${secretId} ` +
        '--secret-string file://momento_token_info.json',
    );
  }
}

/** The key never expires (no validUntil), so there is nothing to rotate. */
export class NeverExpiresError extends RotatorError {
  override readonly name = 'NeverExpiresError';
  constructor(readonly secretId: string) {
    super(
      `secret ${secretId} holds a key that never expires (validUntil absent, 0 or null): nothing to rotate`,
    );
  }
}

/**
 * The secret holds a Momento v2 API key: no public API refreshes one, so it is watched, never rotated. A person
 * creates a new key in the Momento console before the old one expires and puts it.
 */
export class ManualRenewalError extends RotatorError {
  override readonly name = 'ManualRenewalError';
  constructor(
    readonly secretId: string,
    readonly validUntil: number | undefined,
  ) {
    super(
      `secret ${secretId} holds a Momento v2 API key, which cannot be refreshed (no public API does): ` +
        `create a new key in the Momento console${
          validUntil === undefined ? '' : ` before ${new Date(validUntil * 1000).toISOString()}`
        } and put it with: npx momento-token-rotator put --secret-id ${secretId} --file <the key's JSON>`,
    );
  }
}

/** The key has already expired; only a new key from the Momento console can restart the chain. */
export class KeyExpiredError extends RotatorError {
  override readonly name = 'KeyExpiredError';
  constructor(
    readonly secretId: string,
    readonly validUntil: number,
  ) {
    super(
      `secret ${secretId}: the key expired at ${new Date(validUntil * 1000).toISOString()}; ` +
        'create a new key in the Momento console and put its JSON into the secret',
    );
  }
}

/** Not enough of the invocation is left to refresh and still write the new pair. Nothing was spent. */
export class InsufficientTimeError extends RotatorError {
  override readonly name = 'InsufficientTimeError';
}

/** The new pair could not be stored, as can be known before the refresh token is spent; no refresh was made. */
export class CannotStoreNewPairError extends RotatorError {
  override readonly name = 'CannotStoreNewPairError';
}

/** Momento refused or failed a call. `code` is the SDK's MomentoErrorCode (never its message). */
export class MomentoCallError extends RotatorError {
  override readonly name = 'MomentoCallError';
  constructor(
    readonly operation: 'refresh' | 'verify',
    readonly kind: MomentoFailureKind,
    readonly code: string,
  ) {
    super(`Momento ${operation} failed: ${code} (${kind})`);
  }
}

/**
 * - `rejected`: Momento refused the credentials (authentication).
 * - `forbidden`: authenticated, but not allowed (the key is valid).
 * - `unavailable`: timeout, network or server trouble; the call may or may not have taken effect.
 * - `invalid`: the request itself was refused (bad argument, malformed key).
 */
export type MomentoFailureKind = 'rejected' | 'forbidden' | 'unavailable' | 'invalid';

/**
 * The refresh of the stored pair gave no new pair: Momento refused it, or its outcome is unknown (timeout,
 * unavailable). `cause` is the MomentoCallError, whose code tells which.
 */
export class RefreshFailedError extends RotatorError {
  override readonly name = 'RefreshFailedError';
  constructor(secretArn: string, versionId: string, cause: MomentoCallError) {
    super(`secret ${secretArn} version ${versionId}: no new pair: ${cause.message}`, { cause });
  }
}

/** Momento could not be asked whether it accepts the pending key (timeout, unavailable): retried later. */
export class KeyCheckFailedError extends RotatorError {
  override readonly name = 'KeyCheckFailedError';
  constructor(secretArn: string, versionId: string, cause: MomentoCallError) {
    super(
      `secret ${secretArn} version ${versionId}: the pending key could not be checked: ${cause.message}`,
      { cause },
    );
  }
}

/**
 * A call to a dependency (Secrets Manager, as a rule) failed during a step or a command. The message adds the
 * secret, the version and the step to the cause's class name and service message, which hold no secret values.
 */
export class DependencyCallError extends RotatorError {
  override readonly name = 'DependencyCallError';
  constructor(where: string, cause: unknown) {
    const { errorName, errorMessage } = describeError(cause);
    super(`${where}: ${errorName}: ${errorMessage}`, { cause });
  }
}

/**
 * The error to reject with, naming where it happened: our own errors already name the secret and version
 * (except a bare MomentoCallError); anything else is wrapped.
 */
export function inContext(error: unknown, where: string): RotatorError {
  if (error instanceof RotatorError && !(error instanceof MomentoCallError)) return error;
  return new DependencyCallError(where, error);
}

/** The pending pair did not pass testSecret. */
export class PendingPairRejectedError extends RotatorError {
  override readonly name = 'PendingPairRejectedError';
}

/** Momento issued a new pair but it could not be written as AWSPENDING in time. The chain may be lost. */
export class PendingWriteFailedError extends RotatorError {
  override readonly name = 'PendingWriteFailedError';
}

/** PutSecretValue refused the token because it already holds another value (never retried). */
export class PendingVersionConflictError extends RotatorError {
  override readonly name = 'PendingVersionConflictError';
}

/** A manual rotation did not reach AWSCURRENT in the time the invocation had. */
export class RotationTimeoutError extends RotatorError {
  override readonly name = 'RotationTimeoutError';
}

/** RotateSecret refused: a previous rotation of the secret is not complete (Secrets Manager reattempts it). */
export class RotationInProgressError extends RotatorError {
  override readonly name = 'RotationInProgressError';
  constructor(
    readonly secretId: string,
    options?: ErrorOptions,
  ) {
    super(
      `secret ${secretId}: a previous rotation is not complete; Secrets Manager reattempts it, and the next ` +
        'scheduled sweep finishes or clears it if it stays stuck',
      options,
    );
  }
}

/** The secret was not found, or could not be read. */
export class SecretUnavailableError extends RotatorError {
  override readonly name = 'SecretUnavailableError';
}

/** A sweep finished but some secrets failed; lists them by name. */
export class SweepFailedError extends RotatorError {
  override readonly name = 'SweepFailedError';
  constructor(readonly failures: ReadonlyArray<{ secretId: string; error: string }>) {
    super(
      `sweep failed for ${failures.length} secret(s): ${failures.map((f) => `${f.secretId} (${f.error})`).join('; ')}`,
    );
  }
}

/** The safe description of any thrown value: class name and message of our own errors only. */
export function describeError(error: unknown): { errorName: string; errorMessage: string } {
  if (error instanceof RotatorError) return { errorName: error.name, errorMessage: error.message };
  if (error instanceof Error) {
    // AWS SDK service exceptions carry an error name and a service message without secret values.
    return { errorName: error.name, errorMessage: error.message };
  }
  return { errorName: 'UnknownError', errorMessage: 'a non-Error value was thrown' };
}
