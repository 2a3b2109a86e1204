import { setTimeout as sleep } from 'node:timers/promises';
import {
  describeError,
  ManualRenewalError,
  NeverExpiresError,
  RotationInProgressError,
  UninitialisedSecretError,
} from '../errors';
import { unfinishedPendingVersion } from '../rotation/policy';
import { AWSCURRENT, AWSPENDING, type SecretMetadata } from '../rotation/ports';
import { parseRotatable } from '../rotation/secret-value';
import { CliError, EXIT, type ExitCode } from './exit-codes';
import { isoSeconds, timeLeft } from './format';
import { readKeyFacts } from './key-facts';
import { RotationLog, type StepRecord } from './rotation-log';
import type { Services } from './services';

export interface RotateOptions {
  readonly secretId: string;
  /** Seconds to follow the rotation before giving up on it (it goes on in Secrets Manager). */
  readonly timeoutSeconds: number;
  /** Pause between looks, ms. */
  readonly pollIntervalMs: number;
}

const NO_DUE_RULE = { rotateAtRemainingFraction: 0, rotateWithinSeconds: 0 };

/**
 * Starts a rotation the way the console's "Rotate secret immediately" does (RotateSecret), then follows it until
 * AWSCURRENT moves or a step fails: each step as the function logs it, the new pair as it lands in AWSPENDING.
 */
export async function rotate(options: RotateOptions, services: Services): Promise<ExitCode> {
  const { store, out } = services;
  const meta = await store.describe(options.secretId);
  if (meta.rotationEnabled !== true || meta.rotationLambdaArn === undefined) {
    throw new CliError(
      `rotation is not configured on ${meta.name}: deploy the stack that manages it (npx cdk deploy); nothing started`,
      EXIT.refused,
    );
  }
  const before = await readKeyFacts(meta, services, NO_DUE_RULE);
  try {
    parseRotatable(before.secretString, meta.name, before.facts.versionId ?? undefined, services.now());
  } catch (error) {
    if (
      error instanceof ManualRenewalError ||
      error instanceof UninitialisedSecretError ||
      error instanceof NeverExpiresError
    ) {
      throw new CliError(`${error.message}; nothing started`, EXIT.refused, { cause: error });
    }
    throw new CliError(`${describeError(error).errorMessage}; nothing started`, EXIT.refused, {
      cause: error,
    });
  }
  const pending = unfinishedPendingVersion(meta);
  if (pending !== undefined) throw inProgress(meta, pending);

  out(`rotating ${meta.name}`);
  out(
    `  AWSCURRENT ${before.facts.versionId}  key ${before.facts.fingerprint}  ${expiry(before.facts.validUntil, services)}`,
  );
  const startTime = services.now();
  let versionId: string;
  try {
    versionId = await store.startRotation(meta.arn);
  } catch (error) {
    if (error instanceof RotationInProgressError) throw inProgress(meta, undefined);
    throw error;
  }
  out(`  ✓ RotateSecret: rotation started, version ${versionId}`);
  const log = new RotationLog(services, meta.rotationLambdaArn, versionId, startTime - 60_000);
  const follow = { log, logProblem: undefined as string | undefined, pairSeen: false };
  const deadline = startTime + options.timeoutSeconds * 1000;
  for (;;) {
    const failure = await showSteps(follow, services);
    if (failure !== undefined) {
      throw new CliError(
        `rotation ${versionId} of ${meta.name} failed at ${failure.step ?? 'an unknown step'}: ${failure.errorName}: ` +
          `${failure.errorMessage}. AWSCURRENT is unchanged; Secrets Manager may retry, and the next sweep finishes or ` +
          'clears the rotation',
        EXIT.failed,
      );
    }
    const now = await store.describe(meta.arn);
    if (now.versions[versionId]?.includes(AWSCURRENT)) {
      await showSteps(follow, services);
      const after = await readKeyFacts(now, services, NO_DUE_RULE);
      out(`  ✓ AWSCURRENT moved to version ${versionId}`);
      out(
        `rotated ${meta.name}: key ${after.facts.fingerprint}, ${expiry(after.facts.validUntil, services)}`,
      );
      return EXIT.ok;
    }
    if (
      !follow.pairSeen &&
      (await store.getVersion(meta.arn, { versionId, stage: AWSPENDING })) !== undefined
    ) {
      follow.pairSeen = true;
      out('  ✓ new pair stored as AWSPENDING');
    }
    if (services.now() >= deadline) {
      throw new CliError(
        `rotation ${versionId} of ${meta.name} did not finish within ${options.timeoutSeconds} s ` +
          `(${follow.pairSeen ? 'the new pair is stored as AWSPENDING' : 'no new pair stored yet'}); it goes on in ` +
          "Secrets Manager: look again with status, or at the function's logs",
        EXIT.failed,
      );
    }
    await sleep(options.pollIntervalMs);
  }
}

/** Prints the function's new records for this rotation; returns the first failure among them. */
async function showSteps(
  follow: { log: RotationLog; logProblem: string | undefined },
  services: Services,
): Promise<StepRecord | undefined> {
  let records: StepRecord[];
  try {
    records = await follow.log.newRecords();
  } catch (error) {
    if (follow.logProblem === undefined) {
      const { errorName, errorMessage } = describeError(error);
      follow.logProblem = `${errorName}: ${errorMessage}`;
      services.out(`  (step details unavailable: the function's logs cannot be read: ${follow.logProblem})`);
    }
    return undefined;
  }
  for (const record of records) {
    const step = record.step ?? '';
    if (record.level === 'ERROR' && record.errorName !== undefined && record.step !== undefined) {
      // The invocation's own failure record names the step; what Secrets Manager retried after it is the same story.
      services.out(`  ✗ ${step} failed: ${record.errorName}: ${record.errorMessage ?? ''}`);
      return record;
    }
    const message = record.message.startsWith(`${step}: `)
      ? record.message.slice(step.length + 2)
      : record.message;
    services.out(`  ${record.level === 'ERROR' ? '✗' : '·'} ${step ? `${step}: ` : ''}${message}`);
  }
  return undefined;
}

function inProgress(meta: SecretMetadata, pending: string | undefined): CliError {
  return new CliError(
    `a rotation of ${meta.name} is already in progress${pending ? ` (AWSPENDING on version ${pending})` : ''}: ` +
      'Secrets Manager retries it and the next sweep finishes or clears it; doctor tells more. Nothing started',
    EXIT.refused,
  );
}

function expiry(validUntil: number | null, services: Services): string {
  if (validUntil === null) return 'never expires';
  return `valid until ${isoSeconds(validUntil)} (${timeLeft(validUntil - Math.floor(services.now() / 1000))} left)`;
}
