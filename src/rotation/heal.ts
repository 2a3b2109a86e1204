import { describeError } from '../errors';
import type { EngineContext } from './context';
import { unfinishedPendingVersion, versionWith } from './policy';
import { AWSCURRENT, AWSPENDING, type Invocation, type SecretMetadata, type SecretVersion } from './ports';
import type { RotationSteps } from './steps';

/**
 * How long an empty AWSPENDING version is left alone (unless the key is within its last margin, see
 * #keyIsUrgent): RotateSecret creates it and then invokes createSecret,
 * which may run for up to Lambda's longest timeout (15 minutes) before it writes its pair. Clearing it sooner
 * would fail a rotation that is simply under way; an older empty one is a rotation that gave up.
 */
export const EMPTY_PENDING_GRACE_SECONDS = 15 * 60;

/**
 * Invariant 7, for the sweep: an unfinished rotation (AWSPENDING on a version that is not AWSCURRENT) is
 * finished, cleared, left alone while it may still be under way, or left in place for a person.
 */
export class Healer {
  readonly #ctx: EngineContext;
  readonly #steps: RotationSteps;

  constructor(ctx: EngineContext, steps: RotationSteps) {
    this.#ctx = ctx;
    this.#steps = steps;
  }

  /**
   * Invariant 7: an AWSPENDING version that is not AWSCURRENT blocks every later rotation. A newer pair that
   * Momento accepts is finished (it may be the only live link of the chain); an empty one is cleared once it is
   * older than the grace period (a young one is a rotation under way, left alone); anything else is left in
   * place and reported, for a person to look at. `healed` is undefined when the rotation moved on meanwhile.
   */
  async heal(
    meta: SecretMetadata,
    current: SecretVersion,
    pendingVersionId: string,
    invocation: Invocation,
  ): Promise<{ current: SecretVersion; healed: 'finished' | 'cleared' | 'under-way' | undefined }> {
    const { store, telemetry } = this.#ctx.deps;
    const where = { secretArn: meta.arn, versionId: pendingVersionId };
    const pending = await store.getVersion(meta.arn, { versionId: pendingVersionId, stage: AWSPENDING });
    if (pending !== undefined) {
      return { current: await this.#steps.finishPending(meta, current, pending), healed: 'finished' };
    }
    const createdMs = await store.versionCreatedDate(meta.arn, pendingVersionId);
    const ageSeconds = createdMs === undefined ? undefined : (this.#ctx.deps.clock() - createdMs) / 1000;
    const young = ageSeconds !== undefined && ageSeconds < EMPTY_PENDING_GRACE_SECONDS;
    if (ageSeconds === undefined || (young && !this.#keyIsUrgent(meta, current))) {
      // Under way (or gone since the labels were read): its own steps finish it, or a later sweep heals it.
      telemetry.info('a rotation is under way (empty AWSPENDING younger than the grace period); left alone', {
        ...where,
        ageSeconds: ageSeconds === undefined ? null : Math.floor(ageSeconds),
        graceSeconds: EMPTY_PENDING_GRACE_SECONDS,
      });
      return { current, healed: 'under-way' };
    }

    // The label cannot be removed on condition: a createSecret of this very rotation may write its pair
    // between the read above and the clear, and a failed clear may still have happened. So whatever the
    // clear answered, look at the version again until Secrets Manager answers: a pair found there is the
    // newest link of the chain and must keep a label.
    const cleared = await store.clearPending(meta.arn, pendingVersionId).then(
      () => undefined,
      (error: unknown) => error,
    );
    const late = await this.#ctx.untilItSticks(invocation, 'reading the cleared pending version', where, () =>
      store.getVersion(meta.arn, { versionId: pendingVersionId }),
    );
    if (late === undefined) {
      if (cleared !== undefined) return this.#afterFailedClear(meta, current, pendingVersionId, cleared);
      telemetry.count('StuckRotationHealed');
      telemetry.warn('unfinished rotation with an empty pending version: AWSPENDING removed', where);
      return { current, healed: 'cleared' };
    }
    telemetry.warn(
      'a rotation wrote its pair while the sweep cleared its pending version; finishing it',
      where,
    );
    try {
      return { current: await this.#steps.finishPending(meta, current, late), healed: 'finished' };
    } catch (error) {
      await this.#relabelPending(meta, pendingVersionId, invocation);
      throw error;
    }
  }

  /**
   * Whether AWSCURRENT's key is within the due rule's absolute margin (ROTATE_WITHIN_SECONDS) of its expiry. Then
   * a stuck rotation is cleared at once, grace or not: with a short-lived key, waiting out the grace period
   * after a failed rotation could outlast the key itself, and clearing a rotation that was in fact starting
   * costs that rotation one failure, never the chain (a pair written meanwhile is found and finished below).
   */
  #keyIsUrgent(meta: SecretMetadata, current: SecretVersion): boolean {
    let validUntil: number | undefined;
    try {
      const parsed = this.#ctx.parse(current, meta.name);
      if (parsed.kind === 'rotatable' || parsed.kind === 'manual-renewal') validUntil = parsed.validUntil;
    } catch {
      // A malformed current value is reported by the evaluation that follows; here it only means "not urgent".
      return false;
    }
    if (validUntil === undefined) return false;
    const remaining = validUntil - Math.floor(this.#ctx.deps.clock() / 1000);
    return remaining <= this.#ctx.deps.dueRule.rotateWithinSeconds;
  }

  /**
   * The clear failed and the version holds no pair. If the label has moved on meanwhile (the rotation finished,
   * or something else cleared it), that was a race, not a failure: report what is there now. Else the clear's
   * error stands.
   */
  async #afterFailedClear(
    meta: SecretMetadata,
    current: SecretVersion,
    pendingVersionId: string,
    cleared: unknown,
  ): Promise<{ current: SecretVersion; healed: undefined }> {
    const now = await this.#ctx.deps.store.describe(meta.arn);
    if (unfinishedPendingVersion(now) === pendingVersionId) throw cleared;
    this.#ctx.deps.telemetry.info(
      'the unfinished rotation moved on while the sweep cleared it; nothing to heal',
      {
        secretArn: meta.arn,
        versionId: pendingVersionId,
      },
    );
    const currentNow =
      versionWith(now, AWSCURRENT) === current.versionId ? current : await this.#ctx.readCurrent(meta.arn);
    return { current: currentNow, healed: undefined };
  }

  /**
   * Puts AWSPENDING back on a version that holds a pair, so that the next sweep finds it again. Never takes
   * the label from another version: that one belongs to a rotation started since, which must not lose it.
   */
  async #relabelPending(meta: SecretMetadata, versionId: string, invocation: Invocation): Promise<void> {
    const { store, telemetry } = this.#ctx.deps;
    const where = { secretArn: meta.arn, versionId };
    try {
      const holder = await this.#ctx.untilItSticks(
        invocation,
        'labelling the pending pair',
        where,
        async () => {
          const stages = (await store.describe(meta.arn)).versions;
          if (stages[versionId]?.includes(AWSPENDING)) return versionId;
          const other = versionWith({ ...meta, versions: stages }, AWSPENDING);
          if (other === undefined) await store.labelPending(meta.arn, versionId, undefined);
          return other ?? versionId;
        },
      );
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
}
