import {
  describeError,
  InsufficientTimeError,
  inContext,
  KeyCheckFailedError,
  KeyExpiredError,
  MomentoCallError,
  PendingPairRejectedError,
  PendingWriteFailedError,
  RefreshFailedError,
  RotationStateError,
  UnmanagedSecretError,
} from '../errors';
import type { EngineContext } from './context';
import type { RotationEvent } from './events';
import { isManaged, versionWith } from './policy';
import {
  AWSCURRENT,
  AWSPENDING,
  AWSPREVIOUS,
  type Invocation,
  type KeyPair,
  type MomentoAuth,
  type SecretMetadata,
  type SecretVersion,
} from './ports';
import { parseRotatable, parseSecret, serialiseRotated } from './secret-value';

export interface StepResult {
  readonly step: RotationEvent['Step'];
  readonly secretId: string;
  readonly versionId: string;
  readonly outcome: 'done' | 'already-done' | 'already-current';
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

/** A Momento failure of the refresh, named; anything else is left to runStep, which adds secret, version and step. */
function refreshFailed(meta: SecretMetadata, token: string, error: unknown): unknown {
  return error instanceof MomentoCallError ? new RefreshFailedError(meta.arn, token, error) : error;
}

/**
 * Door 1: the Secrets Manager four-step protocol, one step per call, in protocol order. Every step first checks
 * the version's stages and is safe to re-run. Also the finishing of a stuck pair, which the sweep's healing
 * reuses: it is finishSecret's promotion behind testSecret's checks.
 */
export class RotationSteps {
  readonly #ctx: EngineContext;

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
  }

  async runStep(event: RotationEvent, invocation: Invocation): Promise<StepResult> {
    try {
      return await this.#runStep(event, invocation);
    } catch (error) {
      throw inContext(error, `secret ${event.SecretId} version ${event.ClientRequestToken}: ${event.Step}`);
    }
  }

  async #runStep(event: RotationEvent, invocation: Invocation): Promise<StepResult> {
    const { store, telemetry, secretIds } = this.#ctx.deps;
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
    const { store, telemetry } = this.#ctx.deps;
    const where = { secretArn: meta.arn, versionId: token, step: 'createSecret' };
    const current = await this.#ctx.readStepCurrent(meta);
    const pair = parseRotatable(current.secretString, meta.name, current.versionId);

    // Idempotency: a value under this token means the refresh already happened; never refresh twice. Always
    // asked of Secrets Manager itself, never of this container's memory.
    const pending = await store.getVersion(meta.arn, { versionId: token, stage: AWSPENDING });
    if (pending !== undefined) {
      this.#ctx.remember(pending);
      telemetry.info('pending version already holds a value; no refresh', where);
      return 'already-done';
    }
    if (pair.validUntil * 1000 <= this.#ctx.deps.clock())
      throw new KeyExpiredError(meta.name, pair.validUntil);

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
    const { refreshTimeoutMs, writeReserveMs, safetyMarginMs } = this.#ctx.timing;
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
    const { momento, telemetry, store } = this.#ctx.deps;
    const { refreshTimeoutMs } = this.#ctx.timing;
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
    const previous = await this.#ctx.deps.store.getVersion(meta.arn, { stage: AWSPREVIOUS });
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
    const { telemetry } = this.#ctx.deps;
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
    const { store, telemetry } = this.#ctx.deps;
    try {
      await this.#ctx.untilItSticks(
        invocation,
        'writing the pending version',
        { secretArn: meta.arn, versionId: token },
        (signal) => store.putPending(meta.arn, token, secretString, rotationToken, signal),
      );
      // Accepted under this token means the version holds exactly this value, for good.
      this.#ctx.remember({
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

  async #testSecret(meta: SecretMetadata, token: string): Promise<void> {
    const { momento, telemetry } = this.#ctx.deps;
    const pendingVersion = await this.#ctx.readNamedVersion(meta, token, AWSPENDING);
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
    const current = await this.#ctx.readStepCurrent(meta);
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
      await momento.verifyKey({ version: 'v1', apiKey }, this.#ctx.timing.verifyTimeoutMs);
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
    const { store, telemetry } = this.#ctx.deps;
    const currentVersionId = versionWith(meta, AWSCURRENT);
    if (currentVersionId === undefined) {
      throw new RotationStateError(`secret ${meta.arn}: no version is AWSCURRENT`);
    }
    if ((await this.#ctx.readNamedVersion(meta, token, AWSPENDING)) === undefined) {
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

  /** Finishes an unfinished rotation whose pending pair is newer and accepted by Momento; else throws. */
  async finishPending(
    meta: SecretMetadata,
    current: SecretVersion,
    pending: SecretVersion,
  ): Promise<SecretVersion> {
    const { store, momento, telemetry } = this.#ctx.deps;
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
}
