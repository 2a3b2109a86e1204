import {
  PutSecretValueCommand,
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { DAY, Harness } from '../support/harness';
import { capturedOutput, secretMaterial } from '../support/secret-material';

let h: Harness;
beforeEach(() => {
  h = new Harness();
});

describe('forced rotation', () => {
  it('rotates a key that is not due, waits for AWSCURRENT and returns the new validUntil', async () => {
    const secret = h.addManagedSecret('momento/api-key', { lifetime: 30 * DAY, ageSeconds: DAY });
    h.wireRotateSecret();

    const result = await h.invoke({ action: 'rotate', force: true });

    const expected = Math.floor(h.nowMs / 1000) + 30 * DAY;
    expect(result).toEqual({
      secretId: 'momento/api-key',
      outcome: 'rotated',
      versionId: expect.any(String),
      validUntil: expected,
      expiresAt: new Date(expected * 1000).toISOString(),
      secondsUntilExpiry: 30 * DAY,
    });
    const { versionId } = result as { versionId: string };
    expect(h.model.stagesOf(secret.arn)[versionId]).toContain('AWSCURRENT');
    expect(h.momento.refreshCalls).toHaveLength(1);
  });

  it('returns no key material, only expiry facts', async () => {
    const secret = h.addManagedSecret('momento/api-key');
    h.wireRotateSecret();

    const result = await h.invoke({ action: 'rotate', force: true, secretId: 'momento/api-key' });

    const text = JSON.stringify(result);
    const current = h.model.versionWith(secret.arn, 'AWSCURRENT')?.[1].value ?? '';
    const { apiKey, refreshToken } = JSON.parse(current);
    expect(text).not.toContain(apiKey);
    expect(text).not.toContain(refreshToken);
    expect(Object.keys(result as object).sort()).toEqual(
      ['expiresAt', 'outcome', 'secondsUntilExpiry', 'secretId', 'validUntil', 'versionId'].sort(),
    );
  });

  it('rejects when the rotation does not finish before the invocation runs out of time', async () => {
    h.addManagedSecret('momento/api-key');
    // RotateSecret answers, but Secrets Manager never runs the steps (the model's default).

    await expect(h.invoke({ action: 'rotate', force: true }, 200)).rejects.toThrow(
      /did not reach AWSCURRENT/,
    );
  });

  it('rejects a forced rotation of an uninitialised secret with the put-secret-value command', async () => {
    h.addManagedValue('momento/api-key', JSON.stringify({ placeholder: true }));

    await expect(h.invoke({ action: 'rotate', force: true })).rejects.toThrow(
      /uninitialised.*aws secretsmanager put-secret-value --secret-id momento\/api-key/,
    );
    expect(h.model.sm.commandCalls(RotateSecretCommand)).toHaveLength(0);
  });

  it('rejects a forced rotation of a key that never expires', async () => {
    h.addManagedValue('momento/api-key', JSON.stringify({ apiKey: secretMaterial('key') }));

    await expect(h.invoke({ action: 'rotate', force: true })).rejects.toThrow(/never expires/);
    expect(h.model.sm.commandCalls(RotateSecretCommand)).toHaveLength(0);
  });
});

describe('rotation without force', () => {
  it('does nothing to a key that is not due and says so', async () => {
    const secret = h.addManagedSecret('momento/api-key', { lifetime: 30 * DAY, ageSeconds: DAY });

    const result = await h.invoke({ action: 'rotate' });

    expect(result).toMatchObject({
      outcome: 'not-due',
      versionId: secret.versionId,
      secondsUntilExpiry: 29 * DAY,
    });
    expect(h.model.sm.commandCalls(RotateSecretCommand)).toHaveLength(0);
  });

  it('rotates a key that is due', async () => {
    h.addManagedSecret('momento/api-key', { lifetime: 30 * DAY, ageSeconds: 20 * DAY });
    h.wireRotateSecret();

    await expect(h.invoke({ action: 'rotate' })).resolves.toMatchObject({ outcome: 'rotated' });
  });
});

describe('the log stream', () => {
  it('stays JSON: an invocation that counts nothing writes no plain-text metrics warning', async () => {
    h.addManagedSecret('a', { lifetime: 30 * DAY, ageSeconds: DAY });

    await h.invoke({ action: 'status' });

    expect(capturedOutput()).not.toContain('No application metrics to publish');
  });
});

describe('status', () => {
  it('returns expiry facts for every managed secret', async () => {
    h.addManagedSecret('a', { lifetime: 30 * DAY, ageSeconds: DAY });
    h.addManagedSecret('b', { lifetime: 30 * DAY, ageSeconds: 20 * DAY });
    h.addManagedValue('c', JSON.stringify({ placeholder: true }));

    const result = (await h.invoke({ action: 'status' })) as { secrets: Array<Record<string, unknown>> };

    expect(result.secrets.map((s) => [s.secretId, s.state, s.secondsUntilExpiry])).toEqual([
      ['a', 'not-due', 29 * DAY],
      ['b', 'due', 10 * DAY],
      ['c', 'uninitialised', null],
    ]);
    expect(h.model.sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    expect(h.model.sm.commandCalls(RotateSecretCommand)).toHaveLength(0);
  });

  it('reports a secret with an unfinished AWSPENDING version as rotation-pending', async () => {
    // Prepare: 'stuck' has AWSPENDING on a version of its own; 'done' has it on its AWSCURRENT version.
    const stuck = h.addManagedSecret('stuck', { lifetime: 30 * DAY, ageSeconds: DAY });
    h.model.addPendingStub(stuck.arn);
    const done = h.addManagedSecret('done', { lifetime: 30 * DAY, ageSeconds: DAY });
    h.model.find(done.arn).versions.get(done.versionId)?.stages.push('AWSPENDING');

    // Act
    const result = (await h.invoke({ action: 'status' })) as { secrets: Array<Record<string, unknown>> };

    // Assess
    expect(result.secrets.map((s) => [s.secretId, s.state, s.secondsUntilExpiry])).toEqual([
      ['stuck', 'rotation-pending', 29 * DAY],
      ['done', 'not-due', 29 * DAY],
    ]);
    expect(h.model.sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
  });

  it('returns one secret when asked by name', async () => {
    h.addManagedSecret('a');
    h.addManagedSecret('b');

    const result = await h.invoke({ action: 'status', secretId: 'b' });

    expect(result).toMatchObject({ secrets: [{ secretId: 'b' }] });
  });
});

describe('refused commands', () => {
  it('requires secretId for a rotation when the function manages several secrets', async () => {
    h.addManagedSecret('a');
    h.addManagedSecret('b');

    await expect(h.invoke({ action: 'rotate', force: true })).rejects.toThrow(
      /"secretId" is required.*2 secrets/,
    );
    expect(h.model.sm.calls()).toHaveLength(0);
  });

  it('refuses a secret the function does not manage, and writes nothing', async () => {
    h.addManagedSecret('a');
    h.model.addSecret('not-ours', JSON.stringify({ password: 'x' }));

    await expect(h.invoke({ action: 'rotate', force: true, secretId: 'not-ours' })).rejects.toThrow(
      /not managed/,
    );
    expect(h.model.sm.commandCalls(RotateSecretCommand)).toHaveLength(0);
  });

  it.each([
    ['an unknown action', { action: 'delete' }],
    ['a misspelt flag', { action: 'rotate', forced: true }],
    ['a force that is not a boolean', { action: 'rotate', force: 'yes' }],
    ['a string payload', 'rotate'],
  ])('rejects %s listing the accepted shapes, and calls nothing', async (_label, event) => {
    h.addManagedSecret('a');

    const outcome = h.invoke(event);

    await expect(outcome).rejects.toThrow(/accepted shapes:.*"action":"rotate".*"action":"status"/);
    expect(h.model.sm.calls()).toHaveLength(0);
    expect(capturedOutput()).toContain('"door":"unrecognised"');
  });
});
