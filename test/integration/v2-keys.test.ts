import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RotatorHandler } from '../../src/app';
import { EMPTY_PENDING_GRACE_SECONDS } from '../../src/rotation/sweep';
import { FUNCTION_ARN, type LocalAws } from '../support/local-aws';
import {
  emittedMetrics,
  loggedRecords,
  metricCount,
  recordError,
  registerSecret,
} from '../support/secret-material';
import {
  advance,
  contextWith,
  HOUR,
  loadHandler,
  scheduledEvent,
  startOnFakeClock,
  stopOnFakeClock,
} from './support';

/**
 * A secret holding a Momento v2 key, through every door of the real handler against the emulators: reported as
 * manual-renewal with its time left, never refreshed, whoever asks for a rotation.
 */
let aws: LocalAws;
let handler: RotatorHandler;
let arn: string;
const NAME = 'v2/api-key';

beforeAll(async () => {
  aws = await startOnFakeClock(2);
  const key = aws.momento.mintV2Key({ lifetimeSeconds: 10 * 24 * HOUR });
  registerSecret(`v2-${key.apiKey.slice(key.apiKey.indexOf('.') + 1)}`);
  ({ arn } = aws.sm.createSecret(NAME, JSON.stringify({ apiKey: key.apiKey, endpoint: key.endpoint })));
  aws.sm.configureRotation(arn, FUNCTION_ARN);
  handler = await loadHandler(aws, [NAME]);
});

afterAll(async () => {
  await stopOnFakeClock(aws);
});

async function sweep() {
  return (await handler(scheduledEvent(), contextWith(180_000))) as {
    secrets: Array<{ state: string; secondsUntilExpiry: number | null; healed?: string }>;
  };
}

describe('a v2 key through the doors', () => {
  it('is reported by the sweep as manual-renewal with its time left, as SecondsUntilExpiry', async () => {
    advance(HOUR);

    const summary = await sweep();

    expect(summary.secrets).toEqual([
      expect.objectContaining({
        secretId: NAME,
        state: 'manual-renewal',
        secondsUntilExpiry: 10 * 24 * HOUR - HOUR,
      }),
    ]);
    expect(emittedMetrics()).toContainEqual(
      expect.objectContaining({
        name: 'SecondsUntilExpiry',
        value: 10 * 24 * HOUR - HOUR,
        dimensions: expect.objectContaining({ SecretName: NAME }),
      }),
    );
    expect(metricCount('ManualRenewalDue')).toBe(0);
    expect(aws.momento.stats.calls.RefreshApiToken).toBe(0);
  });

  it('fails a rotation started from the console at createSecret without any refresh; a sweep after the grace clears it', async () => {
    const { VersionId } = await aws.client.send(new RotateSecretCommand({ SecretId: NAME }));
    await aws.sm.whenRotationsIdle();

    const rotation = aws.sm.rotationLog.at(-1);
    expect(rotation).toMatchObject({ versionId: VersionId, outcome: 'failed', failedStep: 'createSecret' });
    expect(rotation?.error).toContain('ManualRenewalError');
    expect(aws.momento.stats.calls.RefreshApiToken).toBe(0);

    const underWay = await sweep();
    advance(EMPTY_PENDING_GRACE_SECONDS + 60);
    const summary = await sweep();
    expect(underWay.secrets[0]).toMatchObject({ state: 'manual-renewal' });
    expect(underWay.secrets[0]?.healed).toBeUndefined();
    expect(summary.secrets[0]).toMatchObject({ state: 'manual-renewal', healed: 'cleared' });
    expect(aws.versionIdWith(arn, 'AWSPENDING')).not.toBe(VersionId);
  });

  it('refuses a forced rotation with how to renew, and reports it in status', async () => {
    const forced = handler({ action: 'rotate', force: true, secretId: NAME }, contextWith(180_000)).catch(
      (error: unknown) => {
        recordError(error);
        return error;
      },
    );
    const status = (await handler({ action: 'status' }, contextWith())) as { secrets: unknown[] };

    const error = (await forced) as Error;
    expect(error.name).toBe('ManualRenewalError');
    expect(error.message).toContain('create a new key in the Momento console before');
    expect(status.secrets).toEqual([
      expect.objectContaining({ state: 'manual-renewal', validUntil: expect.any(Number) }),
    ]);
    expect(aws.momento.stats.calls.RefreshApiToken).toBe(0);
  });

  it('warns and counts ManualRenewalDue at every sweep once a v1 key would be due, and fails the sweep once the key has expired', async () => {
    advance(6 * 24 * HOUR);
    await sweep();
    const warned = loggedRecords().filter((r) => r.message.startsWith('v2 key due for manual renewal'));
    // The manual-renewal alarm's metric: days before the expiry alarm, since nothing but a person renews it.
    const dueCounted = metricCount('ManualRenewalDue');

    advance(4 * 24 * HOUR);
    const expired = await sweep().catch((error: unknown) => {
      recordError(error);
      return error as Error;
    });

    expect(warned).toHaveLength(1);
    expect(dueCounted).toBe(1);
    expect(warned[0]).toMatchObject({ level: 'WARN', secretArn: arn });
    expect((expired as Error).name).toBe('SweepFailedError');
    expect((expired as Error).message).toContain('KeyExpiredError');
    expect(aws.momento.stats.calls.RefreshApiToken).toBe(0);
  });
});
