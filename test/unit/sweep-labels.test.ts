import {
  BatchGetSecretValueCommand,
  ListSecretsCommand,
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { DAY, Harness } from '../support/harness';
import { metricCount } from '../support/secret-material';
import { rotationInProgress, throttled } from '../support/service-errors';

const TOKEN = '5a2b8c1d-0000-4000-8000-0000000000bb';

let h: Harness;
beforeEach(() => {
  h = new Harness();
});

/**
 * ListSecrets "might not reflect changes from the last five minutes": from now on it answers with the staging
 * labels as they are at this moment, whatever happens later.
 */
function freezeListing(): void {
  const frozen = [...h.model.secrets.values()].map((s) => ({
    ARN: s.arn,
    Name: s.name,
    RotationEnabled: s.rotationEnabled,
    SecretVersionsToStages: h.model.stagesOf(s.arn),
  }));
  h.model.sm.on(ListSecretsCommand).resolves({ SecretList: frozen });
}

describe('labels that ListSecrets reports minutes late', () => {
  it('does not "heal" a rotation that finished since: it acts on what DescribeSecret says now', async () => {
    // Prepare: the listing still shows the version AWSPENDING; the rotation has finished since.
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    for (const step of ['createSecret', 'setSecret', 'testSecret'] as const)
      await h.step(step, secret.arn, TOKEN);
    freezeListing();
    await h.step('finishSecret', secret.arn, TOKEN);
    h.model.sm.resetHistory();

    // Act
    const summary = (await h.invoke(h.scheduledEvent())) as {
      secrets: { versionId: string; healed?: string }[];
    };

    // Assess
    expect(summary.secrets).toEqual([expect.objectContaining({ versionId: TOKEN, state: 'not-due' })]);
    expect(summary.secrets[0]?.healed).toBeUndefined();
    expect(h.model.sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
    expect(metricCount('StuckRotationHealed')).toBe(0);
  });

  it('does not clear an empty pending version that is no longer pending', async () => {
    // Prepare: an empty AWSPENDING stub that somebody cleared after the listing was taken.
    const secret = h.addManagedSecret('momento/api-key', { ageSeconds: DAY });
    h.model.addPendingStub(secret.arn, TOKEN);
    freezeListing();
    const stub = h.model.find(secret.arn).versions.get(TOKEN);
    if (stub) stub.stages = [];
    h.model.sm.resetHistory();

    // Act
    await h.invoke(h.scheduledEvent());

    // Assess
    expect(h.model.sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
    expect(metricCount('StuckRotationHealed')).toBe(0);
  });

  it('still heals what DescribeSecret confirms', async () => {
    // Prepare: the listing and DescribeSecret agree on an empty, stuck AWSPENDING.
    const secret = h.addManagedSecret('momento/api-key', { ageSeconds: DAY });
    h.addAbandonedPendingStub(secret.arn, TOKEN);
    freezeListing();

    // Act
    const summary = (await h.invoke(h.scheduledEvent())) as { healed: number };

    // Assess
    expect(summary.healed).toBe(1);
    expect(h.model.stagesOf(secret.arn)[TOKEN]).toEqual([]);
  });
});

describe('a rotation that started since the sweep read the labels', () => {
  it('is reported as pending, not as a failure of the sweep', async () => {
    // Prepare: due, but RotateSecret answers that a rotation is running.
    h.addManagedSecret('momento/api-key');
    h.model.sm.on(RotateSecretCommand).rejects(rotationInProgress());

    // Act
    const summary = (await h.invoke(h.scheduledEvent())) as { secrets: { state: string }[] };

    // Assess
    expect(summary.secrets.map((s) => s.state)).toEqual(['rotation-pending']);
    expect(metricCount('RotationStarted')).toBe(0);
    expect(metricCount('SweepCompleted')).toBe(1);
  });

  it('makes a forced manual rotation reject, saying a previous rotation is not complete', async () => {
    // Prepare
    const secret = h.addManagedSecret('momento/api-key');
    h.model.sm.on(RotateSecretCommand).rejects(rotationInProgress());

    // Act
    const outcome = h.invoke({ action: 'rotate', force: true });

    // Assess
    await expect(outcome).rejects.toMatchObject({
      name: 'RotationInProgressError',
      message: expect.stringContaining(`secret ${secret.arn}: a previous rotation is not complete`),
    });
  });
});

describe('a failed batch call', () => {
  it('fails only the secrets it was for: the sweep handles the others, then rejects naming those', async () => {
    // Prepare: 25 secrets, so two BatchGetSecretValue calls (20 + 5); the second one is throttled.
    const names = Array.from({ length: 25 }, (_, i) => `momento/s${String(i).padStart(2, '0')}`);
    for (const name of names) h.addManagedSecret(name, { ageSeconds: DAY });
    h.model.sm.on(BatchGetSecretValueCommand, { SecretIdList: h.secretIds.slice(20) }).rejects(throttled());

    // Act
    const outcome = h.invoke(h.scheduledEvent());

    // Assess
    const error = (await outcome.then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;
    expect(error.message).toMatch(/^sweep failed for 5 secret\(s\)/);
    for (const arn of h.secretIds.slice(20)) expect(error.message).toContain(arn);
    for (const name of names.slice(0, 20)) expect(error.message).not.toContain(name);
    expect(metricCount('SweepCompleted')).toBe(1);
  });

  it('fails only the secrets a failed ListSecrets call was for', async () => {
    // Prepare: 12 secrets, so two ListSecrets calls (10 + 2); the first one fails.
    const names = Array.from({ length: 12 }, (_, i) => `momento/l${String(i).padStart(2, '0')}`);
    for (const name of names) h.addManagedSecret(name, { ageSeconds: DAY });
    let calls = 0;
    h.model.sm.on(ListSecretsCommand).callsFake((input) => {
      calls += 1;
      if (calls === 1) throw throttled();
      const prefixes: string[] = input.Filters?.[0]?.Values ?? [];
      const listed = [...h.model.secrets.values()].filter((s) => prefixes.some((p) => s.name.startsWith(p)));
      return {
        SecretList: listed.map((s) => ({
          ARN: s.arn,
          Name: s.name,
          RotationEnabled: s.rotationEnabled,
          SecretVersionsToStages: h.model.stagesOf(s.arn),
        })),
      };
    });

    // Act
    const error = (await h.invoke(h.scheduledEvent()).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;

    // Assess
    expect(error.message).toMatch(/^sweep failed for 10 secret\(s\)/);
    for (const name of names.slice(0, 10))
      expect(error.message).toContain(`${name} (SecretUnavailableError)`);
    for (const name of names.slice(10)) expect(error.message).not.toContain(name);
  });
});
