import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { DAY, Harness, HOUR } from '../support/harness';
import { capturedOutput, metricCount } from '../support/secret-material';
import { rotationInProgress, throttled } from '../support/service-errors';

const TOKEN = '9c2d4b61-0000-4000-8000-00000000cafe';

let h: Harness;
beforeEach(() => {
  h = new Harness();
});

describe('healing leaves a rotation that is under way alone', () => {
  it('does not clear an empty AWSPENDING a moment old, and reports it as rotation-pending, not a failure', async () => {
    // Prepare: RotateSecret created the version a second ago; its createSecret has not written yet.
    const secret = h.addManagedSecret('momento/api-key', { ageSeconds: 20 * DAY });
    const pendingId = h.model.addPendingStub(secret.arn);
    h.nowMs += 1_000;

    // Act
    const summary = await h.invoke(h.scheduledEvent());

    // Assess
    expect(summary).toMatchObject({
      healed: 0,
      rotationsStarted: 0,
      secrets: [{ state: 'rotation-pending', rotationVersionId: pendingId }],
    });
    expect(h.model.sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
    expect(h.model.sm.commandCalls(RotateSecretCommand)).toHaveLength(0);
    expect(h.model.stagesOf(secret.arn)[pendingId]).toEqual(['AWSPENDING']);
    expect(metricCount('StuckRotationHealed')).toBe(0);
  });

  it('clears it once it is older than the 15-minute grace period', async () => {
    const secret = h.addManagedSecret('momento/api-key', { ageSeconds: 20 * DAY });
    const pendingId = h.model.addPendingStub(secret.arn);
    h.nowMs += 15 * 60 * 1000;

    const summary = await h.invoke(h.scheduledEvent());

    expect(summary).toMatchObject({ healed: 1, secrets: [{ healed: 'cleared' }] });
    expect(h.model.stagesOf(secret.arn)[pendingId]).toEqual([]);
  });

  it('does not fail the sweep when the clear loses a race with the rotation it was clearing', async () => {
    // Prepare: an old empty pending version; its rotation finishes just as the sweep clears it, so the clear is
    // refused (the label has moved) — a race, not a failure.
    const secret = h.addManagedSecret('momento/api-key', { ageSeconds: DAY });
    const pendingId = h.addAbandonedPendingStub(secret.arn);
    h.model.sm
      .on(UpdateSecretVersionStageCommand, { VersionStage: 'AWSPENDING', RemoveFromVersionId: pendingId })
      .callsFakeOnce(() => {
        const version = h.model.find(secret.arn).versions.get(pendingId);
        if (version) version.stages = [];
        throw new Error('InvalidParameterException: the version does not hold AWSPENDING');
      });

    // Act
    const summary = await h.invoke(h.scheduledEvent());

    // Assess
    expect(summary).toMatchObject({ checked: 1, healed: 0, secrets: [{ state: 'not-due' }] });
  });

  it('lets a forced rotation follow a rotation already under way, and answer with its outcome', async () => {
    // Prepare: a console rotation has just begun; RotateSecret refuses a second one.
    h.wireRotateSecret();
    const secret = h.addManagedSecret('momento/api-key', { ageSeconds: DAY });
    const pendingId = h.model.addPendingStub(secret.arn);
    h.model.sm.on(RotateSecretCommand).rejects(rotationInProgress());
    setTimeout(() => void h.rotateAllSteps(secret.arn, pendingId).catch(() => undefined), 20);

    // Act
    const result = await h.invoke({ action: 'rotate', force: true, secretId: secret.name });

    // Assess
    expect(result).toMatchObject({ outcome: 'rotated', versionId: pendingId });
    expect(h.momento.refreshCalls).toHaveLength(1);
  });
});

describe('a refusal is never replaced by a later error', () => {
  it('reports ChainAtRisk and the refusal when reading AWSPREVIOUS for a twin fails after Momento refused', async () => {
    // Prepare
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    h.momento.failures.refresh.push({ kind: 'invalid', code: 'INVALID_ARGUMENT_ERROR' });
    h.model.sm
      .on(GetSecretValueCommand, { SecretId: secret.arn, VersionStage: 'AWSPREVIOUS' })
      .rejects(throttled());

    // Act
    const outcome = h.step('createSecret', secret.arn, TOKEN);

    // Assess
    await expect(outcome).rejects.toMatchObject({
      name: 'RefreshFailedError',
      message: expect.stringMatching(/INVALID_ARGUMENT_ERROR/),
    });
    expect(metricCount('ChainAtRisk')).toBe(1);
    expect(capturedOutput()).toMatch(/ChainAtRisk: Momento refused the stored key/);
  });
});

describe('what can be known before a token is spent is checked first', () => {
  it('makes no refresh for a secret scheduled for deletion, whose writes Secrets Manager refuses', async () => {
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    h.model.sm.on(DescribeSecretCommand).callsFake((input) => {
      const s = h.model.find(input.SecretId);
      return {
        ARN: s.arn,
        Name: s.name,
        RotationEnabled: true,
        VersionIdsToStages: h.model.stagesOf(s.arn),
        DeletedDate: new Date(h.nowMs - HOUR * 1000),
      };
    });

    await expect(h.step('createSecret', secret.arn, TOKEN)).rejects.toMatchObject({
      name: 'CannotStoreNewPairError',
      message: expect.stringMatching(/scheduled for deletion.*no refresh was made/),
    });
    expect(h.momento.refreshCalls).toHaveLength(0);
    expect(h.model.sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it("makes no refresh when the rotated value could not fit Secrets Manager's 65,536 characters", async () => {
    const secret = h.addManagedSecret('momento/api-key', {
      shape: { extra: { notes: 'x'.repeat(65_000) } },
    });
    h.model.addPendingStub(secret.arn, TOKEN);

    await expect(h.step('createSecret', secret.arn, TOKEN)).rejects.toMatchObject({
      name: 'CannotStoreNewPairError',
      message: expect.stringMatching(/65536.*no refresh was made/),
    });
    expect(h.momento.refreshCalls).toHaveLength(0);
  });
});

describe('status', () => {
  it('names an id that does not exist', async () => {
    h.addManagedSecret('momento/api-key');

    await expect(h.invoke({ action: 'status', secretId: 'momento/missing' })).rejects.toMatchObject({
      message: expect.stringMatching(/^secret momento\/missing: status: ResourceNotFoundException/),
    });
  });

  it('reports a secret that cannot be read as unreadable, beside the others', async () => {
    h.addManagedSecret('momento/good');
    h.secretIds.push('momento/deleted-meanwhile');

    const status = (await h.invoke({ action: 'status' })) as { secrets: unknown[] };

    expect(status.secrets).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ secretId: 'momento/good', state: 'due' }),
        expect.objectContaining({
          secretId: 'momento/deleted-meanwhile',
          state: 'unreadable',
          error: expect.stringMatching(/could not be read/),
        }),
      ]),
    );
  });
});

describe('echoed input', () => {
  it('repeats at most a short prefix of a huge SecretId in the error and the log', async () => {
    const huge = `momento/${'a'.repeat(2_000)}`;
    h.addManagedSecret('momento/api-key');

    const outcome = h.invoke({ action: 'rotate', force: true, secretId: huge });

    const error = (await outcome.then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;
    expect(error.message.length).toBeLessThan(600);
    expect(error.message).toMatch(/… \(2008 characters\)/);
    expect(capturedOutput()).not.toContain('a'.repeat(200));
  });

  it('refuses a SecretId longer than Secrets Manager allows before any call', async () => {
    h.addManagedSecret('momento/api-key');
    const event = { Step: 'createSecret', SecretId: 'x'.repeat(1_000_000), ClientRequestToken: TOKEN };

    await expect(h.invoke(event)).rejects.toMatchObject({ name: 'UnknownEventError' });
    expect(h.model.callCount()).toBe(0);
    expect(capturedOutput()).not.toContain('x'.repeat(200));
  });
});

describe('a key in its last margin', () => {
  it('does not wait out the grace: a young empty AWSPENDING is cleared when the key has less than ROTATE_WITHIN_SECONDS left', async () => {
    // Prepare: a 30-minute key issued 20 minutes ago (10 minutes left, the margin is 2 hours); a rotation failed
    // a minute ago and left its empty AWSPENDING. Waiting 15 minutes would outlast the key.
    const secret = h.addManagedSecret('momento/short-lived', { lifetime: 30 * 60, ageSeconds: 20 * 60 });
    const pendingId = h.model.addPendingStub(secret.arn);
    h.nowMs += 60_000;

    // Act
    const summary = await h.invoke(h.scheduledEvent());

    // Assess
    expect(summary).toMatchObject({ healed: 1, secrets: [{ healed: 'cleared', state: 'rotation-started' }] });
    expect(h.model.stagesOf(secret.arn)[pendingId]).toEqual([]);
  });
});
