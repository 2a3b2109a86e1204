import pRetry from 'p-retry';
import {
  describeError,
  MalformedSecretError,
  PendingVersionConflictError,
  SecretUnavailableError,
} from '../errors';
import { IssuedPairs } from './issued-pairs';
import { carriesTag, type DueRule, isManaged, versionWith } from './policy';
import {
  AWSCURRENT,
  type BatchEntry,
  type Clock,
  type Invocation,
  type MetadataListing,
  type MomentoAuth,
  type SecretMetadata,
  type SecretStore,
  type SecretTag,
  type SecretVersion,
  type Telemetry,
} from './ports';
import { type ParsedSecret, parseRotatable, parseSecret } from './secret-value';
import { VersionValues } from './version-values';

export interface Timing {
  /**
   * The least time a RefreshApiToken call is given: a refresh starts only when the invocation has this, the
   * write reserve and the margin left. Its answer is then awaited for as long as the invocation can still store
   * it (everything but the write reserve and the margin), up to the SDK's own 60 s deadline.
   */
  readonly refreshMinWaitMs: number;
  /** Deadline of the key check (ListCaches). */
  readonly verifyTimeoutMs: number;
  /** Time kept for writing the new pair after the refresh returns. */
  readonly writeReserveMs: number;
  /** Time kept at the very end of an invocation for logging and metrics. */
  readonly safetyMarginMs: number;
  /** Pause between DescribeSecret polls while a manual rotation runs. */
  readonly pollIntervalMs: number;
  /** First pause between pending-write attempts (doubles up to 2 s). */
  readonly writeRetryMinMs: number;
}

export const DEFAULT_TIMING: Timing = Object.freeze({
  refreshMinWaitMs: 10_000,
  verifyTimeoutMs: 5_000,
  writeReserveMs: 20_000,
  safetyMarginMs: 1_500,
  pollIntervalMs: 1_000,
  writeRetryMinMs: 100,
});

export interface EngineDeps {
  /** The secrets managed by name. */
  readonly secretIds: readonly string[];
  /** The tag that selects further managed secrets. */
  readonly secretTag?: SecretTag;
  /** This function: a managed secret wired to no rotation function, or to another, is wired to it. */
  readonly rotationFunctionArn?: string;
  readonly dueRule: DueRule;
  readonly store: SecretStore;
  readonly momento: MomentoAuth;
  readonly telemetry: Telemetry;
  readonly clock: Clock;
  readonly timing?: Partial<Timing>;
}

/**
 * What the three doors share: the ports, the timing, and this container's memory of version values. Its own
 * module, below the doors, so that the engine facade can sit above them without an import loop.
 */
export class EngineContext {
  readonly deps: EngineDeps;
  readonly timing: Timing;
  /** Values of versions this container has read or written (one engine per container). */
  readonly #values = new VersionValues();
  /** Pairs Momento issued to this container that are not stored yet (see IssuedPairs). */
  readonly issued = new IssuedPairs();

  constructor(deps: EngineDeps) {
    this.deps = deps;
    this.timing = { ...DEFAULT_TIMING, ...deps.timing };
  }

  /** A stored value, judged on the engine's clock (plausibility of validUntil is relative to now). */
  parse(version: SecretVersion, secretName: string): ParsedSecret {
    return parseSecret(version.secretString, secretName, version.versionId, this.deps.clock());
  }

  /** A stored value that must be a pair that can be rotated. */
  parseRotatable(version: SecretVersion, secretName: string): ReturnType<typeof parseRotatable> {
    return parseRotatable(version.secretString, secretName, version.versionId, this.deps.clock());
  }

  /**
   * Counts what a door's failure says about the secret itself, once per failure: a stored value that cannot be
   * used (MalformedSecret, which an alarm watches).
   */
  noteFailure(error: unknown): void {
    if (error instanceof MalformedSecretError) this.deps.telemetry.count('MalformedSecret');
    if (error instanceof SecretUnavailableError) this.deps.telemetry.count('SecretUnreadable');
  }

  /**
   * One batched look at every managed secret: the AWSCURRENT values (BatchGetSecretValue, 20 a call) and the
   * metadata (ListSecrets: labels, tags, rotation wiring and schedule). Named secrets by name (10 a call); tagged
   * ones by the tag (100 a call), kept only when they carry it exactly. A secret both named and tagged is one.
   * Entries carry the configured id, or the ARN of a tagged secret.
   */
  async readAllManaged(): Promise<{ values: BatchEntry[]; metadata: MetadataListing }> {
    const { store, secretIds, secretTag } = this.deps;
    const tagged =
      secretTag === undefined
        ? []
        : (await store.listTagged(secretTag)).filter(
            (meta) => carriesTag(secretTag, meta) && !isManaged({ secretIds }, meta),
          );
    const ids = [...secretIds, ...tagged.map((meta) => meta.arn)];
    const [values, named] = await Promise.all([store.batchGetCurrent(ids), store.listMetadata(secretIds)]);
    const found = new Map(named.found);
    for (const meta of tagged) found.set(meta.arn, meta);
    return { values, metadata: { found, errors: named.errors } };
  }

  /** Only for a value Secrets Manager returned or accepted under its version id: it never changes after. */
  remember(version: SecretVersion): void {
    this.#values.remember(version);
  }

  /**
   * A rotation step's read of a version that this invocation's DescribeSecret named with `stage`: from this
   * container's memory when an earlier step here read or wrote it, else from Secrets Manager. Sound because a
   * version's value never changes (see VersionValues); only values are remembered, never their absence.
   */
  async readNamedVersion(
    meta: SecretMetadata,
    versionId: string,
    stage: string,
  ): Promise<SecretVersion | undefined> {
    const known = this.#values.get(meta.arn, versionId);
    if (known !== undefined) return known;
    const version = await this.deps.store.getVersion(meta.arn, { versionId, stage });
    if (version !== undefined) this.#values.remember(version);
    return version;
  }

  /** AWSCURRENT for a rotation step: the version DescribeSecret named, remembered or read. */
  async readStepCurrent(meta: SecretMetadata): Promise<SecretVersion> {
    const currentVersionId = versionWith(meta, AWSCURRENT);
    const known = currentVersionId === undefined ? undefined : this.#values.get(meta.arn, currentVersionId);
    if (known !== undefined) return known;
    const current = await this.readCurrent(meta.arn);
    this.#values.remember(current);
    return current;
  }

  async readCurrent(secretArn: string): Promise<SecretVersion> {
    const current = await this.deps.store.getVersion(secretArn, { stage: AWSCURRENT });
    if (current === undefined)
      throw new SecretUnavailableError(`secret ${secretArn} has no AWSCURRENT value`);
    return current;
  }

  /**
   * Repeats one Secrets Manager call, with backoff, until it succeeds or the invocation's time runs out. For the
   * calls a refresh chain depends on: the write of a new pair and the checks that keep it labelled.
   */
  async untilItSticks<T>(
    invocation: Invocation,
    what: string,
    where: Record<string, string>,
    call: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const budgetMs = Math.max(0, invocation.getRemainingTimeInMillis() - this.timing.safetyMarginMs);
    const signal = AbortSignal.timeout(budgetMs);
    return pRetry(() => call(signal), {
      retries: 1_000,
      factor: 2,
      minTimeout: this.timing.writeRetryMinMs,
      maxTimeout: 2_000,
      randomize: true,
      maxRetryTime: budgetMs,
      signal,
      shouldRetry: ({ error }) => !(error instanceof PendingVersionConflictError),
      onFailedAttempt: ({ error, attemptNumber }) =>
        this.deps.telemetry.warn(`${what} failed; retrying`, {
          ...where,
          attempt: attemptNumber,
          ...describeError(error),
        }),
    });
  }
}
