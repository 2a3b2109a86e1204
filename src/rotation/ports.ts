/**
 * The small ports the engine works through. The engine imports neither AWS nor Momento; the adapters in
 * src/adapters implement these over the real SDKs, and unit tests use the real Secrets Manager adapter over
 * aws-sdk-client-mock plus an in-process Momento fake.
 */

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPENDING = 'AWSPENDING';
export const AWSPREVIOUS = 'AWSPREVIOUS';

export interface SecretMetadata {
  readonly arn: string;
  readonly name: string;
  /** As DescribeSecret reports it; only an explicit `false` means rotation is off. */
  readonly rotationEnabled: boolean | undefined;
  /** versionId → staging labels, as DescribeSecret / ListSecrets report them. */
  readonly versions: Readonly<Record<string, readonly string[]>>;
  /** Secrets Manager refuses every write to a secret scheduled for deletion (DescribeSecret's DeletedDate). */
  readonly scheduledForDeletion?: boolean;
  /** The rotation function Secrets Manager invokes, when rotation was ever configured. */
  readonly rotationLambdaArn?: string;
  /**
   * A Secrets Manager rotation schedule (`RotationRules`), as text: the stack sets none (its sweep decides when), so
   * one found here is a leftover that rotates on its own clock.
   */
  readonly rotationSchedule?: string;
  /** Epoch ms of the last rotation Secrets Manager saw succeed. */
  readonly lastRotatedDate?: number;
  /** The secret's tags, key → value. */
  readonly tags?: Readonly<Record<string, string>>;
}

/** A tag that selects managed secrets: its key alone, or key and value. */
export interface SecretTag {
  readonly key: string;
  readonly value?: string;
}

export interface SecretVersion {
  readonly arn: string;
  readonly name: string;
  readonly versionId: string;
  /** Undefined when the version holds no string (binary secrets are not ours). */
  readonly secretString: string | undefined;
  /** Creation time of this version, epoch ms. */
  readonly createdDate: number | undefined;
}

export interface BatchEntry {
  /** The id as configured. */
  readonly secretId: string;
  readonly current?: SecretVersion;
  /** The service's error code and message for this secret (no values). */
  readonly error?: string;
}

export interface MetadataListing {
  readonly found: ReadonlyMap<string, SecretMetadata>;
  /** Why an id could not be listed (service error code and message, no values). */
  readonly errors: ReadonlyMap<string, string>;
}

export interface SecretStore {
  describe(secretId: string): Promise<SecretMetadata>;
  /**
   * GetSecretValue by version id and/or stage. `undefined` only for ResourceNotFoundException (no such
   * version, or no value); every other error throws.
   */
  getVersion(
    secretId: string,
    select: { versionId?: string; stage?: string },
  ): Promise<SecretVersion | undefined>;
  /**
   * One PutSecretValue of a new AWSPENDING version under `versionId` (the ClientRequestToken). Throws
   * PendingVersionConflictError when the token already holds another value; anything else may be retried.
   */
  putPending(
    secretId: string,
    versionId: string,
    secretString: string,
    rotationToken: string | undefined,
    signal?: AbortSignal,
  ): Promise<void>;
  /**
   * When a version was created (epoch ms), from ListSecretVersionIds; undefined when the secret lists no such
   * version. DescribeSecret's labels carry no dates, and healing must know how young a pending version is.
   */
  versionCreatedDate(secretId: string, versionId: string): Promise<number | undefined>;
  /** UpdateSecretVersionStage(AWSCURRENT, MoveToVersionId, RemoveFromVersionId). */
  promote(secretId: string, toVersionId: string, fromVersionId: string): Promise<void>;
  /** UpdateSecretVersionStage(AWSPENDING, RemoveFromVersionId). */
  clearPending(secretId: string, versionId: string): Promise<void>;
  /** UpdateSecretVersionStage(AWSPENDING, MoveToVersionId, RemoveFromVersionId when another version has it). */
  labelPending(secretId: string, versionId: string, fromVersionId: string | undefined): Promise<void>;
  /**
   * RotateSecret: Secrets Manager then runs the four steps. Returns the new version id. With `wireTo`, the secret
   * is also wired to that rotation function (RotationLambdaARN); a schedule (RotationRules) is never set.
   */
  startRotation(secretId: string, wireTo?: string): Promise<string>;
  /** AWSCURRENT values of many secrets, in as few calls as the service allows. One entry per id. */
  batchGetCurrent(secretIds: readonly string[]): Promise<BatchEntry[]>;
  /**
   * Staging labels of many secrets, in as few calls as the service allows. Only exact matches. A failed call
   * fails only the ids it was for (in `errors`). The labels may lag by minutes (ListSecrets is eventually
   * consistent): act on them only after DescribeSecret confirms.
   */
  listMetadata(secretIds: readonly string[]): Promise<MetadataListing>;
  /**
   * Every secret whose tags match the tag as ListSecrets' filters do (prefix matches: check the tags exactly),
   * in pages of 100. The listing may lag by minutes, like listMetadata's.
   */
  listTagged(tag: SecretTag): Promise<SecretMetadata[]>;
}

export interface KeyPair {
  readonly apiKey: string;
  readonly refreshToken: string;
  /** Epoch seconds. */
  readonly validUntil: number;
}

/**
 * A key as Momento's SDK takes it. v1: the SDK's base64 form, endpoint inside, the kind that refreshes. v2: what
 * the console creates today, a JWT with the endpoint stored beside it, never refreshed (no public API does).
 */
export type MomentoKey =
  | { readonly version: 'v1'; readonly apiKey: string }
  | { readonly version: 'v2'; readonly apiKey: string; readonly endpoint: string };

export interface MomentoAuth {
  /**
   * One RefreshApiToken call. Settles only when the call does (the SDK's own deadline bounds it): an answer
   * Momento committed is never dropped by the adapter, however late. The engine bounds its own wait and keeps
   * an answer that arrives after it (see LateAnswers). Throws MomentoCallError.
   */
  refresh(current: { apiKey: string; refreshToken: string }): Promise<KeyPair>;
  /** One call that needs only the key. Resolves when Momento accepts the key; throws MomentoCallError. */
  verifyKey(key: MomentoKey, timeoutMs: number): Promise<void>;
}

export type CountMetric =
  | 'RotationSucceeded'
  | 'RotationFailed'
  | 'RotationStarted'
  | 'StuckRotationHealed'
  | 'Uninitialised'
  | 'ChainAtRisk'
  | 'MalformedSecret'
  /** A managed secret that cannot be read: access denied, its KMS key refused, deleted, not listed. */
  | 'SecretUnreadable'
  /** A managed secret that Secrets Manager also rotates on a schedule of its own (RotationRules). */
  | 'LeftoverRotationSchedule'
  /** A v2 key (never refreshed) reached the due rule: a person must put a new one before it expires. */
  | 'ManualRenewalDue'
  | 'SweepCompleted';

/** Logs and metrics. Fields are identifiers and numbers only: never pass secret material. */
export interface Telemetry {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  count(metric: CountMetric): void;
  secondsUntilExpiry(secretName: string, seconds: number): void;
  /** How long an uninitialised secret has held its value without a key pair (since that version was stored). */
  secondsUninitialised(secretName: string, seconds: number): void;
}

/** What the engine needs of the Lambda context. */
export interface Invocation {
  getRemainingTimeInMillis(): number;
}

export type Clock = () => number;
