import { setTimeout as sleep } from 'node:timers/promises';
import pRetry from 'p-retry';
import {
  describeError,
  InsufficientTimeError,
  inContext,
  KeyCheckFailedError,
  KeyExpiredError,
  MomentoCallError,
  NeverExpiresError,
  PendingPairRejectedError,
  PendingVersionConflictError,
  PendingWriteFailedError,
  RefreshFailedError,
  RotationInProgressError,
  RotationStateError,
  RotationTimeoutError,
  SecretUnavailableError,
  SweepFailedError,
  UninitialisedSecretError,
  UnknownEventError,
  UnmanagedSecretError,
} from '../errors';
import type { RotateCommand, RotationEvent, StatusCommand } from './events';
import { type DueRule, expiryOf, isManaged, unfinishedPendingVersion, versionWith } from './policy';
import {
  AWSCURRENT,
  AWSPENDING,
  AWSPREVIOUS,
  type BatchEntry,
  type Clock,
  type Invocation,
  type KeyPair,
  type MetadataListing,
  type MomentoAuth,
  type SecretMetadata,
  type SecretStore,
  type SecretVersion,
  type Telemetry,
} from './ports';
import { parseRotatable, parseSecret, serialiseRotated } from './secret-value';
import { VersionValues } from './version-values';

export interface Timing {
  /** Deadline of the one RefreshApiToken call. The SDK's own is 60 s and it does not retry this call. */
  readonly refreshTimeoutMs: number;
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
  refreshTimeoutMs: 10_000,
  verifyTimeoutMs: 5_000,
  writeReserveMs: 20_000,
  safetyMarginMs: 1_500,
  pollIntervalMs: 1_000,
  writeRetryMinMs: 100,
});

export interface EngineDeps {
  readonly secretIds: readonly string[];
  readonly dueRule: DueRule;
  readonly store: SecretStore;
  readonly momento: MomentoAuth;
  readonly telemetry: Telemetry;
  readonly clock: Clock;
  readonly timing?: Partial<Timing>;
}

export interface StepResult {
  readonly step: RotationEvent['Step'];
  readonly secretId: string;
  readonly versionId: string;
  readonly outcome: 'done' | 'already-done' | 'already-current';
}

export type SecretState =
  | 'not-due'
  | 'due'
  | 'rotation-started'
  | 'rotation-pending'
  | 'never-expires'
  | 'uninitialised'
  | 'expired';

export interface SecretReport {
  readonly secretId: string;
  readonly versionId: string | undefined;
  readonly state: SecretState;
  /** Epoch seconds; null when the key never expires or the secret is uninitialised. */
  readonly validUntil: number | null;
  readonly expiresAt: string | null;
  readonly secondsUntilExpiry: number | null;
  /** Version id of the rotation started by this call. */
  readonly rotationVersionId?: string;
  readonly healed?: 'finished' | 'cleared';
}

export interface SweepSummary {
  readonly checked: number;
  readonly rotationsStarted: number;
  readonly healed: number;
  readonly secrets: readonly SecretReport[];
}

export interface RotateResult {
  readonly secretId: string;
  readonly outcome: 'rotated' | 'not-due';
  readonly versionId: string;
  readonly validUntil: number;
  readonly expiresAt: string;
  readonly secondsUntilExpiry: number;
}

interface Mode {
  /** Rotate even when not due. */
  readonly force: boolean;
  /** Uninitialised and never-expiring secrets reject (manual door) instead of being reported (sweep). */
  readonly strict: boolean;
  /** The labels came from ListSecrets, which may lag by minutes: confirm with DescribeSecret before healing. */
  readonly labelsMayLag: boolean;
  readonly invocation: Invocation;
}

/**
 * Whether `pending` is a later link of the chain than `current`. A refresh issues a pair valid for the same
 * duration from now, so a later validUntil is a later link. Two refreshes within one second give an equal
 * validUntil, and nothing in Secrets Manager tells which of the two pairs is the live link (a version's
 * CreatedDate is when RotateSecret created it, not when its pair was written). A different pair with an equal
 * expiry is therefore taken as newer; if it was the older one, Momento refuses its refresh token and
 * createSecret finds the live twin in AWSPREVIOUS (see #refreshChain).
 */
function isNewerPair(
  pending: { validUntil: number; refreshToken: string },
  current: { validUntil: number; refreshToken: string },
): boolean {
  if (pending.validUntil !== current.validUntil) return pending.validUntil > current.validUntil;
  return pending.refreshToken !== current.refreshToken;
}

/** A secret the batch reads returned both a value and labels for; else why not, as an error naming it. */
function readable(
  entry: BatchEntry,
  metadata: MetadataListing,
): { meta: SecretMetadata; current: SecretVersion } {
  const meta = metadata.found.get(entry.secretId);
  if (entry.current !== undefined && meta !== undefined) return { meta, current: entry.current };
  const why = entry.error ?? metadata.errors.get(entry.secretId);
  throw new SecretUnavailableError(`secret ${entry.secretId} could not be read${why ? `: ${why}` : ''}`);
}

/** A Momento failure of the refresh, named; anything else is left to runStep, which adds secret, version and step. */
function refreshFailed(meta: SecretMetadata, token: string, error: unknown): unknown {
  return error instanceof MomentoCallError ? new RefreshFailedError(meta.arn, token, error) : error;
}

/**
 * The rotation engine: the Secrets Manager four-step protocol (door 1), the scheduled sweep (door 2) and the
 * manual commands (door 3), over the ports only. Every failure throws; nothing is turned into a result.
 */
export class RotationEngine {
  readonly #deps: EngineDeps;
  readonly #timing: Timing;
  /** Values of versions this container has read or written (one engine per container). */
  readonly #values = new VersionValues();

  constructor(deps: EngineDeps) {
    this.#deps = deps;
    this.#timing = { ...DEFAULT_TIMING, ...deps.timing };
  }

  // ---------------------------------------------------------------- door 1: one rotation step

  async runStep(event: RotationEvent, invocation: Invocation): Promise<StepResult> {
    try {
      return await this.#runStep(event, invocation);
    } catch (error) {
      throw inContext(error, `secret ${event.SecretId} version ${event.ClientRequestToken}: ${event.Step}`);
    }
  }

  async #runStep(event: RotationEvent, invocation: Invocation): Promise<StepResult> {
    const { store, telemetry, secretIds } = this.#deps;
    const token = event.ClientRequestToken;
    const meta = await store.describe(event.SecretId);
    if (!isManaged(secretIds, meta)) throw new UnmanagedSecretError(event.SecretId);
    const where = { secretArn: meta.arn, versionId: token, step: event.Step };
    if (meta.rotationEnabled === false) {
      throw new RotationStateError(`secret ${meta.arn}: rotation is not enabled`);
    }
    const stages = meta.versions[token];
    if (stages === undefined) {
      throw new RotationStateError(`secret ${meta.arn}: version ${token} is not a version of this secret`);
    }
    const result = (outcome: StepResult['outcome']): StepResult => ({
      step: event.Step,
      secretId: meta.name,
      versionId: token,
      outcome,
    });
    if (stages.includes(AWSCURRENT)) {
      telemetry.info('version is already AWSCURRENT; nothing to do', where);
      return result('already-current');
    }
    if (!stages.includes(AWSPENDING)) {
      throw new RotationStateError(`secret ${meta.arn}: version ${token} is not AWSPENDING`);
    }
    switch (event.Step) {
      case 'createSecret':
        return result(await this.#createSecret(meta, token, event.RotationToken, invocation));
      case 'setSecret':
        // Momento holds nothing to set: the new key is already live at Momento since the refresh.
        telemetry.info('setSecret: nothing to set at Momento', where);
        return result('done');
      case 'testSecret':
        await this.#testSecret(meta, token);
        return result('done');
      case 'finishSecret':
        await this.#finishSecret(meta, token);
        return result('done');
    }
  }

  async #createSecret(
    meta: SecretMetadata,
    token: string,
    rotationToken: string | undefined,
    invocation: Invocation,
  ): Promise<StepResult['outcome']> {
    const { store, telemetry } = this.#deps;
    const where = { secretArn: meta.arn, versionId: token, step: 'createSecret' };
    const current = await this.#readStepCurrent(meta);
    const pair = parseRotatable(current.secretString, meta.name, current.versionId);

    // Idempotency: a value under this token means the refresh already happened; never refresh twice. Always
    // asked of Secrets Manager itself, never of this container's memory.
    const pending = await store.getVersion(meta.arn, { versionId: token, stage: AWSPENDING });
    if (pending !== undefined) {
      this.#values.remember(pending);
      telemetry.info('pending version already holds a value; no refresh', where);
      return 'already-done';
    }
    if (pair.validUntil * 1000 <= this.#deps.clock()) throw new KeyExpiredError(meta.name, pair.validUntil);

    this.#ensureTimeToRefresh(meta, token, invocation);
    const next = await this.#refreshChain(meta, token, pair, invocation);
    if (next === 'written-meanwhile') {
      telemetry.info(
        'Momento refused the pair, but an earlier attempt of this step has written its pair meanwhile; no refresh needed',
        where,
      );
      return 'already-done';
    }
    // From here on the new pair exists only in this process: nothing happens before it is written.
    await this.#writePending(
      meta,
      token,
      serialiseRotated(pair, next),
      rotationToken,
      invocation,
      pair.validUntil,
    );
    telemetry.info('new pair written as AWSPENDING', { ...where, validUntil: next.validUntil });
    return 'done';
  }

  /** Invariant 1: a refresh starts only with time left for its own deadline and for writing the new pair. */
  #ensureTimeToRefresh(meta: SecretMetadata, token: string, invocation: Invocation): void {
    const { refreshTimeoutMs, writeReserveMs, safetyMarginMs } = this.#timing;
    const needed = refreshTimeoutMs + writeReserveMs + safetyMarginMs;
    const remaining = invocation.getRemainingTimeInMillis();
    if (remaining < needed) {
      throw new InsufficientTimeError(
        `secret ${meta.arn} version ${token}: ${remaining} ms left, ${needed} ms needed to refresh and write; ` +
          'no refresh was made',
      );
    }
  }

  /**
   * One refresh of AWSCURRENT's pair. When Momento refuses it and AWSPREVIOUS holds a different pair with the
   * same validUntil (two refreshes within one second), that twin may be the chain's live link: it is tried
   * once. Refreshing a spent token is refused and changes nothing, so trying costs nothing but a call.
   */
  async #refreshChain(
    meta: SecretMetadata,
    token: string,
    pair: { apiKey: string; refreshToken: string; validUntil: number },
    invocation: Invocation,
  ): Promise<KeyPair | 'written-meanwhile'> {
    const { momento, telemetry, store } = this.#deps;
    const { refreshTimeoutMs } = this.#timing;
    try {
      return await momento.refresh(
        { apiKey: pair.apiKey, refreshToken: pair.refreshToken },
        refreshTimeoutMs,
      );
    } catch (error) {
      const refused =
        error instanceof MomentoCallError && (error.kind === 'rejected' || error.kind === 'invalid');
      // An earlier attempt of this step that gave up on a slow write may have spent the token and had its write
      // land since: then the chain is safe in the pending version, and "broken" would be the wrong alarm.
      // If that read fails, the refusal is reported as it is.
      const landed = refused
        ? await store.getVersion(meta.arn, { versionId: token, stage: AWSPENDING }).catch(() => undefined)
        : undefined;
      if (landed !== undefined) return 'written-meanwhile';
      const twin = refused ? await this.#twinInPrevious(meta, pair) : undefined;
      if (twin === undefined) {
        this.#reportRefreshFailure(meta, token, pair.validUntil, error);
        throw refreshFailed(meta, token, error);
      }
      telemetry.warn("Momento refused AWSCURRENT's pair; trying its twin in AWSPREVIOUS (same validUntil)", {
        secretArn: meta.arn,
        versionId: token,
      });
      this.#ensureTimeToRefresh(meta, token, invocation);
      try {
        return await momento.refresh(
          { apiKey: twin.apiKey, refreshToken: twin.refreshToken },
          refreshTimeoutMs,
        );
      } catch (twinError) {
        this.#reportRefreshFailure(meta, token, twin.validUntil, twinError);
        throw refreshFailed(meta, token, twinError);
      }
    }
  }

  async #twinInPrevious(
    meta: SecretMetadata,
    pair: { refreshToken: string; validUntil: number },
  ): Promise<{ apiKey: string; refreshToken: string; validUntil: number } | undefined> {
    const previous = await this.#deps.store.getVersion(meta.arn, { stage: AWSPREVIOUS });
    if (previous === undefined) return undefined;
    try {
      const twin = parseSecret(previous.secretString, meta.name, previous.versionId);
      const isTwin =
        twin.kind === 'rotatable' &&
        twin.validUntil === pair.validUntil &&
        twin.refreshToken !== pair.refreshToken;
      return isTwin ? twin : undefined;
    } catch {
      return undefined;
    }
  }

  #reportRefreshFailure(
    meta: SecretMetadata,
    token: string,
    currentValidUntil: number,
    error: unknown,
  ): void {
    const { telemetry } = this.#deps;
    const fields = {
      secretArn: meta.arn,
      versionId: token,
      currentKeyValidUntil: new Date(currentValidUntil * 1000).toISOString(),
      ...describeError(error),
    };
    if (!(error instanceof MomentoCallError)) return;
    if (error.kind === 'unavailable') {
      // The call may have been committed at Momento with the response lost: the old refresh token may be spent.
      telemetry.count('ChainAtRisk');
      telemetry.error(
        'ChainAtRisk: refresh outcome unknown; if Momento committed it the refresh chain is lost. ' +
          'The next attempt tells: a refused refresh token means a new key is needed from the Momento console ' +
          'before the current key expires',
        fields,
      );
    } else if (error.kind === 'rejected' || error.kind === 'invalid') {
      // Momento answers a spent, expired or unknown pair with INVALID_ARGUMENT or UNAUTHENTICATED: either way the
      // stored pair can no longer be refreshed.
      telemetry.count('ChainAtRisk');
      telemetry.error(
        'ChainAtRisk: Momento refused the stored key and refresh token (spent, expired or revoked): the refresh chain is broken. ' +
          'Create a new key in the Momento console and put its JSON into the secret before the current key expires',
        fields,
      );
    }
  }

  async #writePending(
    meta: SecretMetadata,
    token: string,
    secretString: string,
    rotationToken: string | undefined,
    invocation: Invocation,
    currentValidUntil: number,
  ): Promise<void> {
    const { store, telemetry } = this.#deps;
    try {
      await this.#untilItSticks(
        invocation,
        'writing the pending version',
        { secretArn: meta.arn, versionId: token },
        (signal) => store.putPending(meta.arn, token, secretString, rotationToken, signal),
      );
      // Accepted under this token means the version holds exactly this value, for good.
      this.#values.remember({
        arn: meta.arn,
        name: meta.name,
        versionId: token,
        secretString,
        createdDate: undefined,
      });
    } catch (error) {
      telemetry.count('ChainAtRisk');
      telemetry.error(
        'ChainAtRisk: Momento issued a new pair but it could not be written as AWSPENDING; the refresh chain ' +
          'is lost unless a retry of this step finds the version written. Create a new key in the Momento ' +
          'console before the current key expires',
        {
          secretArn: meta.arn,
          versionId: token,
          currentKeyValidUntil: new Date(currentValidUntil * 1000).toISOString(),
          ...describeError(error),
        },
      );
      throw new PendingWriteFailedError(
        `secret ${meta.arn} version ${token}: the new pair could not be written as AWSPENDING in the time left`,
        { cause: error },
      );
    }
  }

  /**
   * Repeats one Secrets Manager call, with backoff, until it succeeds or the invocation's time runs out. For the
   * calls a refresh chain depends on: the write of a new pair and the checks that keep it labelled.
   */
  async #untilItSticks<T>(
    invocation: Invocation,
    what: string,
    where: Record<string, string>,
    call: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const budgetMs = Math.max(0, invocation.getRemainingTimeInMillis() - this.#timing.safetyMarginMs);
    const signal = AbortSignal.timeout(budgetMs);
    return pRetry(() => call(signal), {
      retries: 1_000,
      factor: 2,
      minTimeout: this.#timing.writeRetryMinMs,
      maxTimeout: 2_000,
      randomize: true,
      maxRetryTime: budgetMs,
      signal,
      shouldRetry: ({ error }) => !(error instanceof PendingVersionConflictError),
      onFailedAttempt: ({ error, attemptNumber }) =>
        this.#deps.telemetry.warn(`${what} failed; retrying`, {
          ...where,
          attempt: attemptNumber,
          ...describeError(error),
        }),
    });
  }

  async #testSecret(meta: SecretMetadata, token: string): Promise<void> {
    const { momento, telemetry } = this.#deps;
    const pendingVersion = await this.#readNamedVersion(meta, token, AWSPENDING);
    if (pendingVersion === undefined) {
      // RotateSecret with RotateImmediately=false (how the stack wires rotation) tests the configuration by
      // running testSecret alone on an empty AWSPENDING version. Nothing to test; finishSecret refuses to
      // promote a version without a value, so only a tested pair is ever promoted.
      telemetry.info('testSecret: the pending version holds no value (configuration test); nothing to test', {
        secretArn: meta.arn,
        versionId: token,
        step: 'testSecret',
      });
      return;
    }
    const pending = parseRotatable(pendingVersion.secretString, meta.name, token);
    const current = await this.#readStepCurrent(meta);
    const currentPair = parseRotatable(current.secretString, meta.name, current.versionId);
    if (!isNewerPair(pending, currentPair)) {
      throw new PendingPairRejectedError(
        `secret ${meta.arn} version ${token}: pending validUntil ${pending.validUntil} is not later than ` +
          `AWSCURRENT's ${currentPair.validUntil}`,
      );
    }
    await this.#verifyKey(meta, token, pending.apiKey, momento);
    telemetry.info('pending key accepted by Momento', {
      secretArn: meta.arn,
      versionId: token,
      step: 'testSecret',
    });
  }

  /** Only the key is sent: the refresh token never leaves the secret for a test. */
  async #verifyKey(
    meta: SecretMetadata,
    versionId: string,
    apiKey: string,
    momento: MomentoAuth,
  ): Promise<void> {
    try {
      await momento.verifyKey(apiKey, this.#timing.verifyTimeoutMs);
    } catch (error) {
      if (error instanceof MomentoCallError && error.kind === 'forbidden') {
        // Authenticated but without the permission for this call: the key itself is valid.
        return;
      }
      if (error instanceof MomentoCallError && error.kind !== 'unavailable') {
        throw new PendingPairRejectedError(
          `secret ${meta.arn} version ${versionId}: Momento did not accept the pending key (${error.code})`,
          { cause: error },
        );
      }
      if (error instanceof MomentoCallError) throw new KeyCheckFailedError(meta.arn, versionId, error);
      throw error;
    }
  }

  async #finishSecret(meta: SecretMetadata, token: string): Promise<void> {
    const { store, telemetry } = this.#deps;
    const currentVersionId = versionWith(meta, AWSCURRENT);
    if (currentVersionId === undefined) {
      throw new RotationStateError(`secret ${meta.arn}: no version is AWSCURRENT`);
    }
    if ((await this.#readNamedVersion(meta, token, AWSPENDING)) === undefined) {
      throw new RotationStateError(
        `secret ${meta.arn}: version ${token} holds no value; an empty version is never promoted to AWSCURRENT`,
      );
    }
    await store.promote(meta.arn, token, currentVersionId);
    telemetry.count('RotationSucceeded');
    telemetry.info('rotation finished: AWSCURRENT moved', {
      secretArn: meta.arn,
      versionId: token,
      previousVersionId: currentVersionId,
      step: 'finishSecret',
    });
  }

  // ---------------------------------------------------------------- door 2: the scheduled sweep

  async sweep(invocation: Invocation): Promise<SweepSummary> {
    const { store, telemetry, secretIds } = this.#deps;
    const [values, metadata] = await Promise.all([
      store.batchGetCurrent(secretIds),
      store.listMetadata(secretIds),
    ]);
    const reports: SecretReport[] = [];
    const failures: { secretId: string; error: string }[] = [];
    for (const entry of values) {
      try {
        if (
          invocation.getRemainingTimeInMillis() <
          this.#timing.verifyTimeoutMs + this.#timing.safetyMarginMs
        ) {
          throw new InsufficientTimeError(
            `secret ${entry.secretId}: not reached before the invocation ran out of time`,
          );
        }
        const { meta, current } = readable(entry, metadata);
        reports.push(
          await this.#evaluate(meta, current, {
            force: false,
            strict: false,
            labelsMayLag: true,
            invocation,
          }),
        );
      } catch (error) {
        const { errorName, errorMessage } = describeError(error);
        // Name the secret the way people know it; the configured id when it could not even be read.
        const secretId = entry.current?.name ?? entry.secretId;
        failures.push({ secretId, error: errorName });
        telemetry.error('sweep: secret failed', { secretId, errorName, errorMessage });
      }
    }
    telemetry.count('SweepCompleted');
    const summary: SweepSummary = {
      checked: values.length,
      rotationsStarted: reports.filter((r) => r.state === 'rotation-started').length,
      healed: reports.filter((r) => r.healed !== undefined).length,
      secrets: reports,
    };
    telemetry.info('sweep completed', {
      checked: summary.checked,
      rotationsStarted: summary.rotationsStarted,
      healed: summary.healed,
      failed: failures.length,
    });
    if (failures.length > 0) throw new SweepFailedError(failures);
    return summary;
  }

  /**
   * One secret, for the sweep and the manual door: heal an unfinished rotation, report the time left, and start
   * a rotation when due (or forced).
   */
  async #evaluate(meta: SecretMetadata, current: SecretVersion, mode: Mode): Promise<SecretReport> {
    const { telemetry, store } = this.#deps;
    let state = current;
    let healed: SecretReport['healed'];
    let labels = meta;
    if (mode.labelsMayLag && unfinishedPendingVersion(meta) !== undefined) {
      // Healing moves labels: do it on what DescribeSecret says now, never on a listing minutes old (a rotation
      // finished since would otherwise be "healed" against a stale AWSCURRENT).
      labels = await store.describe(meta.arn);
      if (versionWith(labels, AWSCURRENT) !== current.versionId) state = await this.#readCurrent(meta.arn);
    }
    const pendingVersionId = unfinishedPendingVersion(labels);
    if (pendingVersionId !== undefined) {
      const outcome = await this.#heal(labels, state, pendingVersionId, mode.invocation);
      state = outcome.current;
      healed = outcome.healed;
    }

    const parsed = parseSecret(state.secretString, meta.name, state.versionId);
    const base = { secretId: meta.name, versionId: state.versionId, ...(healed ? { healed } : {}) };
    if (parsed.kind === 'uninitialised') {
      if (mode.strict) throw new UninitialisedSecretError(meta.name);
      telemetry.count('Uninitialised');
      telemetry.warn('secret is uninitialised: put the JSON downloaded from the Momento console', {
        secretArn: meta.arn,
      });
      return { ...base, state: 'uninitialised', validUntil: null, expiresAt: null, secondsUntilExpiry: null };
    }
    if (parsed.kind === 'never-expires') {
      if (mode.strict) throw new NeverExpiresError(meta.name);
      telemetry.info('key never expires; not rotated', { secretArn: meta.arn });
      return { ...base, state: 'never-expires', validUntil: null, expiresAt: null, secondsUntilExpiry: null };
    }

    const expiry = expiryOf(parsed.validUntil, state.createdDate, this.#deps.clock(), this.#deps.dueRule);
    telemetry.secondsUntilExpiry(meta.name, expiry.remaining);
    const facts = {
      ...base,
      validUntil: parsed.validUntil,
      expiresAt: new Date(parsed.validUntil * 1000).toISOString(),
      secondsUntilExpiry: expiry.remaining,
    };
    if (expiry.remaining <= 0) throw new KeyExpiredError(meta.name, parsed.validUntil);
    if (!expiry.due && !mode.force) return { ...facts, state: 'not-due' };

    let rotationVersionId: string;
    try {
      rotationVersionId = await store.startRotation(meta.arn);
    } catch (error) {
      // A rotation started since the labels were read (the console button, a manual invoke) is not a failure of
      // the sweep: Secrets Manager is running it, and the next sweep heals it if it gets stuck.
      if (!(error instanceof RotationInProgressError) || mode.strict) throw error;
      telemetry.info('a rotation is already in progress; not starting another', { secretArn: meta.arn });
      return { ...facts, state: 'rotation-pending' };
    }
    telemetry.count('RotationStarted');
    telemetry.info('rotation started', {
      secretArn: meta.arn,
      versionId: rotationVersionId,
      due: expiry.due,
      forced: mode.force,
      secondsUntilExpiry: expiry.remaining,
    });
    return { ...facts, state: 'rotation-started', rotationVersionId };
  }

  /**
   * Invariant 7: an AWSPENDING version that is not AWSCURRENT blocks every later rotation. A newer pair that
   * Momento accepts is finished (it may be the only live link of the chain); an empty one is cleared; anything
   * else is left in place and reported, for a person to look at.
   */
  async #heal(
    meta: SecretMetadata,
    current: SecretVersion,
    pendingVersionId: string,
    invocation: Invocation,
  ): Promise<{ current: SecretVersion; healed: 'finished' | 'cleared' }> {
    const { store, telemetry } = this.#deps;
    const where = { secretArn: meta.arn, versionId: pendingVersionId };
    const pending = await store.getVersion(meta.arn, { versionId: pendingVersionId, stage: AWSPENDING });
    if (pending !== undefined) {
      return { current: await this.#finishPending(meta, current, pending), healed: 'finished' };
    }

    // The label cannot be removed on condition: a createSecret of this very rotation may write its pair
    // between the read above and the clear, and a failed clear may still have happened. So whatever the
    // clear answered, look at the version again until Secrets Manager answers: a pair found there is the
    // newest link of the chain and must keep a label.
    const cleared = await store.clearPending(meta.arn, pendingVersionId).then(
      () => undefined,
      (error: unknown) => error,
    );
    const late = await this.#untilItSticks(invocation, 'reading the cleared pending version', where, () =>
      store.getVersion(meta.arn, { versionId: pendingVersionId }),
    );
    if (late === undefined) {
      if (cleared !== undefined) throw cleared;
      telemetry.count('StuckRotationHealed');
      telemetry.warn('unfinished rotation with an empty pending version: AWSPENDING removed', where);
      return { current, healed: 'cleared' };
    }
    telemetry.warn(
      'a rotation wrote its pair while the sweep cleared its pending version; finishing it',
      where,
    );
    try {
      return { current: await this.#finishPending(meta, current, late), healed: 'finished' };
    } catch (error) {
      await this.#relabelPending(meta, pendingVersionId, invocation);
      throw error;
    }
  }

  /** Finishes an unfinished rotation whose pending pair is newer and accepted by Momento; else throws. */
  async #finishPending(
    meta: SecretMetadata,
    current: SecretVersion,
    pending: SecretVersion,
  ): Promise<SecretVersion> {
    const { store, momento, telemetry } = this.#deps;
    const pendingPair = parseRotatable(pending.secretString, meta.name, pending.versionId);
    const currentParsed = parseSecret(current.secretString, meta.name, current.versionId);
    if (currentParsed.kind === 'rotatable' && !isNewerPair(pendingPair, currentParsed)) {
      throw new RotationStateError(
        `secret ${meta.arn}: unfinished rotation ${pending.versionId} holds a pair no newer than AWSCURRENT; ` +
          'left in place for a person to check',
      );
    }
    await this.#verifyKey(meta, pending.versionId, pendingPair.apiKey, momento);
    await store.promote(meta.arn, pending.versionId, current.versionId);
    telemetry.count('StuckRotationHealed');
    telemetry.count('RotationSucceeded');
    telemetry.warn('unfinished rotation with a newer, accepted pair: finished (AWSCURRENT moved)', {
      secretArn: meta.arn,
      versionId: pending.versionId,
      previousVersionId: current.versionId,
    });
    return pending;
  }

  /**
   * Puts AWSPENDING back on a version that holds a pair, so that the next sweep finds it again. Never takes
   * the label from another version: that one belongs to a rotation started since, which must not lose it.
   */
  async #relabelPending(meta: SecretMetadata, versionId: string, invocation: Invocation): Promise<void> {
    const { store, telemetry } = this.#deps;
    const where = { secretArn: meta.arn, versionId };
    try {
      const holder = await this.#untilItSticks(invocation, 'labelling the pending pair', where, async () => {
        const stages = (await store.describe(meta.arn)).versions;
        if (stages[versionId]?.includes(AWSPENDING)) return versionId;
        const other = versionWith({ ...meta, versions: stages }, AWSPENDING);
        if (other === undefined) await store.labelPending(meta.arn, versionId, undefined);
        return other ?? versionId;
      });
      if (holder === versionId) return;
      telemetry.count('ChainAtRisk');
      telemetry.error(
        'ChainAtRisk: a pair written by an interrupted rotation sits in a version without a staging label while ' +
          'another rotation holds AWSPENDING; if that rotation fails, restore this version with aws secretsmanager ' +
          'update-secret-version-stage --version-stage AWSPENDING --move-to-version-id <versionId>',
        { ...where, pendingHeldBy: holder },
      );
    } catch (error) {
      telemetry.count('ChainAtRisk');
      telemetry.error(
        'ChainAtRisk: the newest pair sits in a version without a staging label; restore it with ' +
          'aws secretsmanager update-secret-version-stage --version-stage AWSPENDING --move-to-version-id <versionId>',
        { ...where, ...describeError(error) },
      );
    }
  }

  // ---------------------------------------------------------------- door 3: manual commands

  async rotate(command: RotateCommand, invocation: Invocation): Promise<RotateResult> {
    const { telemetry } = this.#deps;
    const where = `secret ${command.secretId ?? this.#deps.secretIds[0]}: manual rotation`;
    const meta = await this.#describeManaged(command.secretId).catch((error: unknown) => {
      throw inContext(error, where);
    });
    try {
      const current = await this.#readCurrent(meta.arn);
      const report = await this.#evaluate(meta, current, {
        force: command.force === true,
        strict: true,
        labelsMayLag: false,
        invocation,
      });
      if (report.rotationVersionId === undefined) {
        return {
          secretId: meta.name,
          outcome: 'not-due',
          versionId: report.versionId ?? current.versionId,
          validUntil: report.validUntil ?? 0,
          expiresAt: report.expiresAt ?? '',
          secondsUntilExpiry: report.secondsUntilExpiry ?? 0,
        };
      }
      const versionId = report.rotationVersionId;
      await this.#waitUntilCurrent(meta, versionId, invocation);
      const rotated = await this.#readCurrent(meta.arn);
      const pair = parseRotatable(rotated.secretString, meta.name, rotated.versionId);
      const remaining = pair.validUntil - Math.floor(this.#deps.clock() / 1000);
      telemetry.secondsUntilExpiry(meta.name, remaining);
      return {
        secretId: meta.name,
        outcome: 'rotated',
        versionId: rotated.versionId,
        validUntil: pair.validUntil,
        expiresAt: new Date(pair.validUntil * 1000).toISOString(),
        secondsUntilExpiry: remaining,
      };
    } catch (error) {
      telemetry.count('RotationFailed');
      throw inContext(error, `secret ${meta.arn}: manual rotation`);
    }
  }

  async #waitUntilCurrent(meta: SecretMetadata, versionId: string, invocation: Invocation): Promise<void> {
    const { pollIntervalMs, safetyMarginMs } = this.#timing;
    for (;;) {
      if (invocation.getRemainingTimeInMillis() < pollIntervalMs + safetyMarginMs) {
        throw new RotationTimeoutError(
          `secret ${meta.arn}: rotation ${versionId} did not reach AWSCURRENT before this invocation ran out of ` +
            'time; Secrets Manager may still finish or retry it, and the next scheduled run heals it if not',
        );
      }
      await sleep(pollIntervalMs);
      const now = await this.#deps.store.describe(meta.arn);
      if (now.versions[versionId]?.includes(AWSCURRENT)) return;
    }
  }

  async status(command: StatusCommand): Promise<{ secrets: SecretReport[] }> {
    const { store, secretIds } = this.#deps;
    const ids =
      command.secretId === undefined ? secretIds : [(await this.#describeManaged(command.secretId)).arn];
    const [values, metadata] = await Promise.all([store.batchGetCurrent(ids), store.listMetadata(ids)]);
    const now = this.#deps.clock();
    const secrets = values.map((entry): SecretReport => {
      const { meta, current } = readable(entry, metadata);
      const parsed = parseSecret(current.secretString, meta.name, current.versionId);
      const base = { secretId: meta.name, versionId: current.versionId };
      if (parsed.kind !== 'rotatable') {
        return { ...base, state: parsed.kind, validUntil: null, expiresAt: null, secondsUntilExpiry: null };
      }
      const expiry = expiryOf(parsed.validUntil, current.createdDate, now, this.#deps.dueRule);
      const state: SecretState =
        unfinishedPendingVersion(meta) !== undefined
          ? 'rotation-pending'
          : expiry.remaining <= 0
            ? 'expired'
            : expiry.due
              ? 'due'
              : 'not-due';
      return {
        ...base,
        state,
        validUntil: parsed.validUntil,
        expiresAt: new Date(parsed.validUntil * 1000).toISOString(),
        secondsUntilExpiry: expiry.remaining,
      };
    });
    return { secrets };
  }

  /** `secretId` may be left out only when the function manages exactly one secret. */
  async #describeManaged(secretId: string | undefined): Promise<SecretMetadata> {
    const { secretIds, store } = this.#deps;
    let id = secretId;
    if (id === undefined) {
      if (secretIds.length !== 1) {
        throw new UnknownEventError(
          `"secretId" is required: this function manages ${secretIds.length} secrets (${secretIds.join(', ')})`,
        );
      }
      id = secretIds[0] as string;
    }
    const meta = await store.describe(id);
    if (!isManaged(secretIds, meta)) throw new UnmanagedSecretError(id);
    return meta;
  }

  /**
   * A rotation step's read of a version that this invocation's DescribeSecret named with `stage`: from this
   * container's memory when an earlier step here read or wrote it, else from Secrets Manager. Sound because a
   * version's value never changes (see VersionValues); only values are remembered, never their absence.
   */
  async #readNamedVersion(
    meta: SecretMetadata,
    versionId: string,
    stage: string,
  ): Promise<SecretVersion | undefined> {
    const known = this.#values.get(meta.arn, versionId);
    if (known !== undefined) return known;
    const version = await this.#deps.store.getVersion(meta.arn, { versionId, stage });
    if (version !== undefined) this.#values.remember(version);
    return version;
  }

  /** AWSCURRENT for a rotation step: the version DescribeSecret named, remembered or read. */
  async #readStepCurrent(meta: SecretMetadata): Promise<SecretVersion> {
    const currentVersionId = versionWith(meta, AWSCURRENT);
    const known = currentVersionId === undefined ? undefined : this.#values.get(meta.arn, currentVersionId);
    if (known !== undefined) return known;
    const current = await this.#readCurrent(meta.arn);
    this.#values.remember(current);
    return current;
  }

  async #readCurrent(secretArn: string): Promise<SecretVersion> {
    const current = await this.#deps.store.getVersion(secretArn, { stage: AWSCURRENT });
    if (current === undefined)
      throw new SecretUnavailableError(`secret ${secretArn} has no AWSCURRENT value`);
    return current;
  }
}
