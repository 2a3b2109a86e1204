import {
  describeError,
  echo,
  InsufficientTimeError,
  KeyExpiredError,
  ManualRenewalError,
  NeverExpiresError,
  RotationInProgressError,
  SecretUnavailableError,
  SweepFailedError,
  UninitialisedSecretError,
} from '../errors';
import type { EngineContext } from './context';
import { Healer } from './heal';
import { type DueRule, expiryOf, unfinishedPendingVersion, versionWith } from './policy';
import {
  AWSCURRENT,
  type BatchEntry,
  type Invocation,
  type MetadataListing,
  type SecretMetadata,
  type SecretVersion,
} from './ports';
import type { RotationSteps } from './steps';

export type SecretState =
  | 'not-due'
  | 'due'
  | 'rotation-started'
  | 'rotation-pending'
  | 'never-expires'
  | 'uninitialised'
  | 'expired'
  /** A Momento v2 key: watched, never refreshed; a person renews it before it expires. */
  | 'manual-renewal'
  /** Status only: the stored value fails the shape or plausibility checks (`error` says which field). */
  | 'malformed'
  /** Status only: the secret could not be read (`error` says why). */
  | 'unreadable';

export interface SecretReport {
  readonly secretId: string;
  readonly versionId: string | undefined;
  readonly state: SecretState;
  /** Epoch seconds; null when the key never expires or the secret is uninitialised. */
  readonly validUntil: number | null;
  readonly expiresAt: string | null;
  readonly secondsUntilExpiry: number | null;
  /** Version id of the rotation started by this call, or of the one under way (`rotation-pending`). */
  readonly rotationVersionId?: string;
  readonly healed?: 'finished' | 'cleared';
  /** Why a secret is malformed or unreadable: its error's message, which names fields, never values. */
  readonly error?: string;
  /**
   * The Secrets Manager rotation schedule (RotationRules) the secret still carries, so that Secrets Manager also
   * rotates it on that schedule: see LEFTOVER_SCHEDULE_RUNBOOK.
   */
  readonly leftoverSchedule?: string;
}

/** What a person does about a leftover schedule; the stack cannot (a RotationSchedule without rules keeps them). */
export const LEFTOVER_SCHEDULE_RUNBOOK =
  'Secrets Manager also rotates this secret on a schedule of its own (RotationRules), whatever its expiry. ' +
  'Turn that schedule off with aws secretsmanager cancel-rotate-secret --secret-id <secret>, then wire rotation ' +
  'back to this function without a schedule: aws secretsmanager rotate-secret --secret-id <secret> ' +
  '--rotation-lambda-arn <the FunctionArn stack output> --no-rotate-immediately';

/** The schedule of a secret whose rotation is enabled with one: Secrets Manager rotates it on it as well. */
export function leftoverSchedule(meta: SecretMetadata): Pick<SecretReport, 'leftoverSchedule'> {
  return meta.rotationSchedule !== undefined && meta.rotationEnabled !== false
    ? { leftoverSchedule: meta.rotationSchedule }
    : {};
}

/**
 * What is known of a v2 key's expiry: `manual-renewal` with its time left, `expired` past it, and no figures when
 * neither the secret nor the key tells an expiry.
 */
export function manualRenewalFacts(
  validUntil: number | undefined,
  nowMs: number,
): Pick<SecretReport, 'state' | 'validUntil' | 'expiresAt' | 'secondsUntilExpiry'> {
  if (validUntil === undefined) {
    return { state: 'manual-renewal', validUntil: null, expiresAt: null, secondsUntilExpiry: null };
  }
  const remaining = validUntil - Math.floor(nowMs / 1000);
  return {
    state: remaining <= 0 ? 'expired' : 'manual-renewal',
    validUntil,
    expiresAt: new Date(validUntil * 1000).toISOString(),
    secondsUntilExpiry: remaining,
  };
}

export { EMPTY_PENDING_GRACE_SECONDS } from './heal';

/**
 * Where a refreshable key stands: `rotation-pending` while an unfinished rotation holds AWSPENDING, else
 * `expired`, `due` or `not-due` by the due rule, with its expiry and time left.
 */
export function refreshableKeyFacts(
  meta: SecretMetadata,
  validUntil: number,
  createdDateMs: number | undefined,
  nowMs: number,
  dueRule: DueRule,
): Pick<SecretReport, 'state' | 'validUntil' | 'expiresAt' | 'secondsUntilExpiry'> {
  const expiry = expiryOf(validUntil, createdDateMs, nowMs, dueRule);
  const state: SecretState =
    unfinishedPendingVersion(meta) !== undefined
      ? 'rotation-pending'
      : expiry.remaining <= 0
        ? 'expired'
        : expiry.due
          ? 'due'
          : 'not-due';
  return {
    state,
    validUntil,
    expiresAt: new Date(validUntil * 1000).toISOString(),
    secondsUntilExpiry: expiry.remaining,
  };
}

export interface SweepSummary {
  readonly checked: number;
  readonly rotationsStarted: number;
  readonly healed: number;
  readonly secrets: readonly SecretReport[];
}

export interface Mode {
  /** Rotate even when not due. */
  readonly force: boolean;
  /** Uninitialised and never-expiring secrets reject (manual door) instead of being reported (sweep). */
  readonly strict: boolean;
  /** The labels came from ListSecrets, which may lag by minutes: confirm with DescribeSecret before healing. */
  readonly labelsMayLag: boolean;
  readonly invocation: Invocation;
}

/** A secret the batch reads returned both a value and labels for; else why not, as an error naming it. */
export function readable(
  entry: BatchEntry,
  metadata: MetadataListing,
): { meta: SecretMetadata; current: SecretVersion } {
  const meta = metadata.found.get(entry.secretId);
  if (entry.current !== undefined && meta !== undefined) return { meta, current: entry.current };
  const why = entry.error ?? metadata.errors.get(entry.secretId);
  throw new SecretUnavailableError(
    `secret ${echo(entry.secretId)} could not be read${why ? `: ${why}` : ''}`,
  );
}

/**
 * Door 2: the scheduled sweep. One batched look at every managed secret, then per secret: heal an unfinished
 * rotation, report the time left, and start a rotation when the due rule says so.
 */
export class Sweep {
  readonly #ctx: EngineContext;
  readonly #healer: Healer;

  constructor(ctx: EngineContext, steps: RotationSteps) {
    this.#ctx = ctx;
    this.#healer = new Healer(ctx, steps);
  }

  async run(invocation: Invocation): Promise<SweepSummary> {
    const { telemetry } = this.#ctx.deps;
    const { values, metadata } = await this.#ctx.readAllManaged();
    const reports: SecretReport[] = [];
    const failures: { secretId: string; error: string }[] = [];
    for (const entry of values) {
      try {
        if (
          invocation.getRemainingTimeInMillis() <
          this.#ctx.timing.verifyTimeoutMs + this.#ctx.timing.safetyMarginMs
        ) {
          throw new InsufficientTimeError(
            `secret ${entry.secretId}: not reached before the invocation ran out of time`,
          );
        }
        const { meta, current } = readable(entry, metadata);
        reports.push(
          await this.evaluate(meta, current, {
            force: false,
            strict: false,
            labelsMayLag: true,
            invocation,
          }),
        );
      } catch (error) {
        this.#ctx.noteFailure(error);
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
  async evaluate(meta: SecretMetadata, current: SecretVersion, mode: Mode): Promise<SecretReport> {
    const { telemetry, store } = this.#ctx.deps;
    let state = current;
    let healed: SecretReport['healed'];
    let labels = meta;
    if (mode.labelsMayLag && unfinishedPendingVersion(meta) !== undefined) {
      // Healing moves labels: do it on what DescribeSecret says now, never on a listing minutes old (a rotation
      // finished since would otherwise be "healed" against a stale AWSCURRENT).
      labels = await store.describe(meta.arn);
      if (versionWith(labels, AWSCURRENT) !== current.versionId)
        state = await this.#ctx.readCurrent(meta.arn);
    }
    const pendingVersionId = unfinishedPendingVersion(labels);
    let rotationUnderWay = false;
    if (pendingVersionId !== undefined) {
      const outcome = await this.#healer.heal(labels, state, pendingVersionId, mode.invocation);
      state = outcome.current;
      if (outcome.healed === 'under-way') rotationUnderWay = true;
      else healed = outcome.healed;
    }

    const leftover = leftoverSchedule(labels);
    if (leftover.leftoverSchedule !== undefined) {
      telemetry.count('LeftoverRotationSchedule');
      telemetry.warn(`leftover rotation schedule: ${LEFTOVER_SCHEDULE_RUNBOOK}`, {
        secretArn: meta.arn,
        schedule: leftover.leftoverSchedule,
      });
    }
    const parsed = this.#ctx.parse(state, meta.name);
    const base = {
      secretId: meta.name,
      versionId: state.versionId,
      ...(healed ? { healed } : {}),
      ...leftover,
    };
    if (parsed.kind === 'uninitialised') {
      if (mode.strict) throw new UninitialisedSecretError(meta.name);
      telemetry.count('Uninitialised');
      if (state.createdDate !== undefined) {
        const seconds = Math.max(0, Math.floor((this.#ctx.deps.clock() - state.createdDate) / 1000));
        telemetry.secondsUninitialised(meta.name, seconds);
      }
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
    if (parsed.kind === 'manual-renewal') {
      if (mode.strict) throw new ManualRenewalError(meta.name, parsed.validUntil);
      return { ...base, ...this.#watchV2Key(meta, parsed.validUntil, state.createdDate) };
    }

    const expiry = expiryOf(
      parsed.validUntil,
      state.createdDate,
      this.#ctx.deps.clock(),
      this.#ctx.deps.dueRule,
    );
    telemetry.secondsUntilExpiry(meta.name, expiry.remaining);
    const facts = {
      ...base,
      validUntil: parsed.validUntil,
      expiresAt: new Date(parsed.validUntil * 1000).toISOString(),
      secondsUntilExpiry: expiry.remaining,
    };
    if (expiry.remaining <= 0) throw new KeyExpiredError(meta.name, parsed.validUntil);
    if (rotationUnderWay && pendingVersionId !== undefined) {
      return { ...facts, state: 'rotation-pending', rotationVersionId: pendingVersionId };
    }
    // A pair this container was issued for the stored token but could not store: its old token is spent, so
    // rotate now, and the rotation's createSecret (when it reaches this container) writes the kept pair.
    const holdsIssuedPair = this.#ctx.issued.find(meta.arn, parsed.refreshToken) !== undefined;
    if (!expiry.due && !mode.force && !holdsIssuedPair) return { ...facts, state: 'not-due' };

    let rotationVersionId: string;
    const wireTo = this.#wiring(labels);
    try {
      rotationVersionId = await store.startRotation(meta.arn, wireTo);
    } catch (error) {
      // A rotation started since the labels were read (the console button, a manual invoke) is not a failure of
      // the sweep: Secrets Manager is running it, and the next sweep heals it if it gets stuck.
      if (!(error instanceof RotationInProgressError)) throw error;
      if (!mode.strict) {
        telemetry.info('a rotation is already in progress; not starting another', { secretArn: meta.arn });
        return { ...facts, state: 'rotation-pending' };
      }
      // A manual rotation follows the rotation under way instead, when there is one to follow.
      const underWay = unfinishedPendingVersion(await store.describe(meta.arn));
      if (underWay === undefined) throw error;
      telemetry.info('a rotation is already in progress; following it', {
        secretArn: meta.arn,
        versionId: underWay,
      });
      return { ...facts, state: 'rotation-pending', rotationVersionId: underWay };
    }
    telemetry.count('RotationStarted');
    telemetry.info('rotation started', {
      secretArn: meta.arn,
      versionId: rotationVersionId,
      due: expiry.due,
      forced: mode.force,
      ...(holdsIssuedPair ? { storingIssuedPair: true } : {}),
      secondsUntilExpiry: expiry.remaining,
    });
    return { ...facts, state: 'rotation-started', rotationVersionId };
  }

  /**
   * The function to wire the secret to as its rotation starts: this one, when the secret is wired to none (a
   * tagged secret the stack never saw) or to another (say, the official example's). Never a schedule.
   */
  #wiring(meta: SecretMetadata): string | undefined {
    const own = this.#ctx.deps.rotationFunctionArn;
    if (own === undefined || meta.rotationLambdaArn === own) return undefined;
    this.#ctx.deps.telemetry.info('wiring the secret to this rotation function as its rotation starts', {
      secretArn: meta.arn,
      wiredTo: meta.rotationLambdaArn ?? null,
      rotationFunctionArn: own,
    });
    return own;
  }

  /**
   * A v2 key is never refreshed: the sweep reports its time left (SecondsUntilExpiry, so the expiry alarm covers
   * it) and, from the moment a v1 key would be due, warns at every sweep that a person must renew it.
   */
  #watchV2Key(
    meta: SecretMetadata,
    validUntil: number | undefined,
    createdDate: number | undefined,
  ): ReturnType<typeof manualRenewalFacts> {
    const { telemetry, clock, dueRule } = this.#ctx.deps;
    const facts = manualRenewalFacts(validUntil, clock());
    if (validUntil === undefined) {
      telemetry.info('v2 key without expiry: watched, never refreshed', { secretArn: meta.arn });
      return facts;
    }
    const expiry = expiryOf(validUntil, createdDate, clock(), dueRule);
    telemetry.secondsUntilExpiry(meta.name, expiry.remaining);
    if (expiry.remaining <= 0) throw new KeyExpiredError(meta.name, validUntil);
    const fields = { secretArn: meta.arn, expiresAt: facts.expiresAt, secondsUntilExpiry: expiry.remaining };
    if (expiry.due) {
      telemetry.count('ManualRenewalDue');
      telemetry.warn(
        'v2 key due for manual renewal: create a new key in the Momento console and put it with ' +
          'npx momento-token-rotator put before it expires',
        fields,
      );
    } else {
      telemetry.info('v2 key: watched, never refreshed', fields);
    }
    return facts;
  }
}
