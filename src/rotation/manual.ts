import { setTimeout as sleep } from 'node:timers/promises';
import {
  describeError,
  echo,
  inContext,
  MalformedSecretError,
  RotationTimeoutError,
  UnknownEventError,
  UnmanagedSecretError,
} from '../errors';
import type { EngineContext } from './context';
import type { RotateCommand, StatusCommand } from './events';
import { describeTag, isManaged } from './policy';
import {
  AWSCURRENT,
  type BatchEntry,
  type Invocation,
  type MetadataListing,
  type SecretMetadata,
} from './ports';
import {
  leftoverSchedule,
  manualRenewalFacts,
  readable,
  refreshableKeyFacts,
  type SecretReport,
  type Sweep,
} from './sweep';

export interface RotateResult {
  readonly secretId: string;
  readonly outcome: 'rotated' | 'not-due';
  readonly versionId: string;
  readonly validUntil: number;
  readonly expiresAt: string;
  readonly secondsUntilExpiry: number;
}

/** Door 3: the manual commands, a forced rotation followed until AWSCURRENT moves, and status. */
export class ManualCommands {
  readonly #ctx: EngineContext;
  readonly #sweep: Sweep;

  constructor(ctx: EngineContext, sweep: Sweep) {
    this.#ctx = ctx;
    this.#sweep = sweep;
  }

  async rotate(command: RotateCommand, invocation: Invocation): Promise<RotateResult> {
    const { telemetry } = this.#ctx.deps;
    const where = `secret ${echo(command.secretId ?? this.#ctx.deps.secretIds[0] ?? '')}: manual rotation`;
    const meta = await this.#describeManaged(command.secretId).catch((error: unknown) => {
      throw inContext(error, where);
    });
    try {
      const current = await this.#ctx.readCurrent(meta.arn);
      const report = await this.#sweep.evaluate(meta, current, {
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
      const rotated = await this.#ctx.readCurrent(meta.arn);
      const pair = this.#ctx.parseRotatable(rotated, meta.name);
      const remaining = pair.validUntil - Math.floor(this.#ctx.deps.clock() / 1000);
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
      this.#ctx.noteFailure(error);
      throw inContext(error, `secret ${meta.arn}: manual rotation`);
    }
  }

  async #waitUntilCurrent(meta: SecretMetadata, versionId: string, invocation: Invocation): Promise<void> {
    const { pollIntervalMs, safetyMarginMs } = this.#ctx.timing;
    for (;;) {
      if (invocation.getRemainingTimeInMillis() < pollIntervalMs + safetyMarginMs) {
        throw new RotationTimeoutError(
          `secret ${meta.arn}: rotation ${versionId} did not reach AWSCURRENT before this invocation ran out of ` +
            'time; Secrets Manager may still finish or retry it, and the next scheduled run heals it if not',
        );
      }
      await sleep(pollIntervalMs);
      const now = await this.#ctx.deps.store.describe(meta.arn);
      if (now.versions[versionId]?.includes(AWSCURRENT)) return;
    }
  }

  /**
   * Expiry facts of every managed secret, or of one. One secret that cannot be read or parsed is reported as
   * such, with its error, and never hides the others.
   */
  async status(command: StatusCommand): Promise<{ secrets: SecretReport[] }> {
    const { store } = this.#ctx.deps;
    if (command.secretId === undefined) {
      const { values, metadata } = await this.#ctx.readAllManaged();
      return { secrets: values.map((entry) => this.#statusOf(entry, metadata)) };
    }
    const ids = [
      (
        await this.#describeManaged(command.secretId).catch((error: unknown) => {
          throw inContext(error, `secret ${echo(command.secretId ?? '')}: status`);
        })
      ).arn,
    ];
    const [values, metadata] = await Promise.all([store.batchGetCurrent(ids), store.listMetadata(ids)]);
    return { secrets: values.map((entry) => this.#statusOf(entry, metadata)) };
  }

  #statusOf(entry: BatchEntry, metadata: MetadataListing): SecretReport {
    const secretId = entry.current?.name ?? echo(entry.secretId);
    const failed = (state: 'malformed' | 'unreadable', error: unknown): SecretReport => {
      this.#ctx.noteFailure(error);
      const { errorMessage } = describeError(error);
      return {
        secretId,
        versionId: entry.current?.versionId,
        state,
        validUntil: null,
        expiresAt: null,
        secondsUntilExpiry: null,
        error: errorMessage,
      };
    };
    let read: ReturnType<typeof readable>;
    try {
      read = readable(entry, metadata);
    } catch (error) {
      return failed('unreadable', error);
    }
    const { meta, current } = read;
    let parsed: ReturnType<EngineContext['parse']>;
    try {
      parsed = this.#ctx.parse(current, meta.name);
    } catch (error) {
      if (error instanceof MalformedSecretError) return failed('malformed', error);
      throw error;
    }
    const base = {
      secretId: meta.name,
      versionId: current.versionId,
      ...leftoverSchedule(meta),
    };
    if (parsed.kind === 'manual-renewal') {
      return { ...base, ...manualRenewalFacts(parsed.validUntil, this.#ctx.deps.clock()) };
    }
    if (parsed.kind !== 'rotatable') {
      return { ...base, state: parsed.kind, validUntil: null, expiresAt: null, secondsUntilExpiry: null };
    }
    const { clock, dueRule } = this.#ctx.deps;
    return {
      ...base,
      ...refreshableKeyFacts(meta, parsed.validUntil, current.createdDate, clock(), dueRule),
    };
  }

  /** `secretId` may be left out only when the function manages exactly one secret, by name. */
  async #describeManaged(secretId: string | undefined): Promise<SecretMetadata> {
    const { secretIds, secretTag, store } = this.#ctx.deps;
    let id = secretId;
    if (id === undefined) {
      if (secretTag !== undefined) {
        throw new UnknownEventError(
          `"secretId" is required: this function manages the secrets tagged ${echo(describeTag(secretTag))}` +
            (secretIds.length > 0 ? ` and ${secretIds.length} named ones` : ''),
        );
      }
      if (secretIds.length !== 1) {
        throw new UnknownEventError(
          `"secretId" is required: this function manages ${secretIds.length} secrets (${echo(secretIds.join(', '))})`,
        );
      }
      id = secretIds[0] as string;
    }
    const meta = await store.describe(id);
    if (!isManaged(this.#ctx.deps, meta)) throw new UnmanagedSecretError(id);
    return meta;
  }
}
