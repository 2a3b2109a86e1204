import {
  echo,
  inContext,
  KeyCheckFailedError,
  KeyExpiredError,
  MomentoCallError,
  PendingPairRejectedError,
  RotationStateError,
  UnmanagedSecretError,
} from '../errors';
import type { EngineContext } from './context';
import type { RotationEvent } from './events';
import { isManaged, versionWith } from './policy';
import {
  AWSCURRENT,
  AWSPENDING,
  type Invocation,
  type MomentoAuth,
  type SecretMetadata,
  type SecretVersion,
} from './ports';
import { ChainRefresher } from './refresh';

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

/**
 * Door 1: the Secrets Manager four-step protocol, one step per call, in protocol order. Every step first checks
 * the version's stages and is safe to re-run. Also the finishing of a stuck pair, which the sweep's healing
 * reuses: it is finishSecret's promotion behind testSecret's checks.
 */
export class RotationSteps {
  readonly #ctx: EngineContext;
  readonly #refresher: ChainRefresher;

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
    this.#refresher = new ChainRefresher(ctx);
  }

  async runStep(event: RotationEvent, invocation: Invocation): Promise<StepResult> {
    try {
      return await this.#runStep(event, invocation);
    } catch (error) {
      this.#ctx.noteFailure(error);
      throw inContext(
        error,
        `secret ${echo(event.SecretId)} version ${event.ClientRequestToken}: ${event.Step}`,
      );
    }
  }

  async #runStep(event: RotationEvent, invocation: Invocation): Promise<StepResult> {
    const { store, telemetry } = this.#ctx.deps;
    const token = event.ClientRequestToken;
    const meta = await store.describe(event.SecretId);
    if (!isManaged(this.#ctx.deps, meta)) throw new UnmanagedSecretError(event.SecretId);
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
    const pair = this.#ctx.parseRotatable(current, meta.name);

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
    this.#refresher.ensureStorable(meta, token, pair);

    const link = await this.#refresher.next(meta, token, pair, invocation);
    if (link === 'written-meanwhile') {
      telemetry.info(
        'Momento refused the pair, but an earlier attempt of this step has written its pair meanwhile; no refresh needed',
        where,
      );
      return 'already-done';
    }
    // From here on the new pair exists only in this process: nothing happens before it is written.
    await this.#refresher.writePending(meta, token, pair, link, rotationToken, invocation);
    telemetry.info('new pair written as AWSPENDING', { ...where, validUntil: link.next.validUntil });
    return 'done';
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
    const pending = this.#ctx.parseRotatable(pendingVersion, meta.name);
    const current = await this.#ctx.readStepCurrent(meta);
    const currentPair = this.#ctx.parseRotatable(current, meta.name);
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
    const pendingPair = this.#ctx.parseRotatable(pending, meta.name);
    const currentParsed = this.#ctx.parse(current, meta.name);
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
