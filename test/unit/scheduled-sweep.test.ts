import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import type { KeyPair } from '../../src/rotation/ports';
import { consoleJson, DAY, Harness, HOUR } from '../support/harness';
import { bareKeyMaterial, emittedMetrics, metricCount, secretMaterial } from '../support/secret-material';

let h: Harness;
beforeEach(() => {
  h = new Harness();
});

/**
 * createSecret's PutSecretValue lands between the sweep's read of an empty pending version and its removal of
 * the AWSPENDING label: the clear then takes the label off a version that holds the new pair.
 */
function racePutIntoClear(
  secretArn: string,
  pendingId: string,
  pair: KeyPair,
  clear: 'answers' | 'answers an error',
) {
  h.model.sm
    .on(UpdateSecretVersionStageCommand, { VersionStage: 'AWSPENDING', RemoveFromVersionId: pendingId })
    .callsFakeOnce(() => {
      const version = h.model.find(secretArn).versions.get(pendingId);
      if (version) {
        version.value = consoleJson(pair);
        version.stages = [];
      }
      if (clear === 'answers an error') throw new Error('InternalServiceError after the change was made');
      return {};
    });
}

const rotationsStarted = () =>
  h.model.sm.commandCalls(RotateSecretCommand).map((c) => c.args[0].input.SecretId);

describe('the due rule', () => {
  it('starts a rotation when the remaining time falls exactly to the fraction of the lifetime', async () => {
    // Prepare: a 30-day key created 15 days ago: remaining 15 d = 0.5 * 30 d.
    const secret = h.addManagedSecret('due-by-fraction', { lifetime: 30 * DAY, ageSeconds: 15 * DAY });

    // Act
    await h.invoke(h.scheduledEvent());

    // Assess
    expect(rotationsStarted()).toEqual([secret.arn]);
  });

  it('does not rotate a key with one second more than the fraction of its lifetime left', async () => {
    // Prepare: remaining 15 d + 1 s > 0.5 * 30 d (a lifetime off by a day would flip it).
    h.addManagedSecret('fresh', { lifetime: 30 * DAY, ageSeconds: 15 * DAY - 1 });

    // Act
    const summary = await h.invoke(h.scheduledEvent());

    // Assess
    expect(rotationsStarted()).toEqual([]);
    expect(summary).toMatchObject({ checked: 1, rotationsStarted: 0, secrets: [{ state: 'not-due' }] });
  });

  it('starts a rotation within the absolute margin even when the fraction is not reached', async () => {
    // A 3-hour key created 30 minutes ago: 2.5 h left > 0.1 * 3 h, but the margin is 3 h.
    h.rotateAtRemainingFraction = 0.1;
    h.rotateWithinSeconds = 3 * HOUR;
    const secret = h.addManagedSecret('due-by-margin', { lifetime: 3 * HOUR, ageSeconds: 1800 });

    await h.invoke(h.scheduledEvent());

    expect(rotationsStarted()).toEqual([secret.arn]);
  });

  it.each([
    ['starts a rotation when the remaining time is exactly the margin', 2 * HOUR, true],
    ['does not rotate a key with one second more than the margin left', 2 * HOUR - 1, false],
  ])('%s', async (_label, ageSeconds, due) => {
    // Prepare: a 3-hour key, margin 1 h, fraction 0.1 (18 min): only the margin can make it due.
    h.rotateAtRemainingFraction = 0.1;
    h.rotateWithinSeconds = HOUR;
    const secret = h.addManagedSecret('margin-edge', { lifetime: 3 * HOUR, ageSeconds });

    // Act
    await h.invoke(h.scheduledEvent());

    // Assess
    expect(rotationsStarted()).toEqual(due ? [secret.arn] : []);
  });

  it('records SecondsUntilExpiry for each secret, with the secret name as a dimension', async () => {
    h.addManagedSecret('a', { lifetime: 30 * DAY, ageSeconds: DAY });
    h.addManagedSecret('b', { lifetime: 30 * DAY, ageSeconds: 2 * DAY });

    await h.invoke(h.scheduledEvent());

    const seconds = emittedMetrics().filter((m) => m.name === 'SecondsUntilExpiry');
    expect(seconds).toEqual([
      {
        name: 'SecondsUntilExpiry',
        value: 29 * DAY,
        dimensions: { service: 'momento-token-rotator', SecretName: 'a' },
      },
      {
        name: 'SecondsUntilExpiry',
        value: 28 * DAY,
        dimensions: { service: 'momento-token-rotator', SecretName: 'b' },
      },
    ]);
    expect(metricCount('SweepCompleted')).toBe(1);
  });
});

describe('secrets that are not rotated', () => {
  it('reports never-expiring keys and does not rotate them', async () => {
    h.addManagedValue('forever', JSON.stringify({ apiKey: secretMaterial('key'), validUntil: null }));

    const summary = await h.invoke(h.scheduledEvent());

    expect(rotationsStarted()).toEqual([]);
    expect(summary).toMatchObject({ secrets: [{ secretId: 'forever', state: 'never-expires' }] });
  });

  it('reports uninitialised placeholders with a metric, skips them and does not fail the run', async () => {
    h.addManagedValue('placeholder', JSON.stringify({ note: 'put the Momento console JSON here' }));
    h.addManagedSecret('real', { lifetime: 30 * DAY, ageSeconds: DAY });

    const summary = await h.invoke(h.scheduledEvent());

    expect(summary).toMatchObject({ secrets: [{ state: 'uninitialised' }, { state: 'not-due' }] });
    expect(metricCount('Uninitialised')).toBe(1);
    expect(metricCount('SweepCompleted')).toBe(1);
  });
});

describe('healing stuck rotations', () => {
  it('finishes a pending version that holds a newer pair Momento accepts', async () => {
    const secret = h.addManagedSecret('stuck', { lifetime: 30 * DAY, ageSeconds: 20 * DAY });
    const newer = await h.momento.refresh(secret.pair);
    const pendingId = h.model.addPendingStub(secret.arn, undefined, consoleJson(newer));

    const summary = await h.invoke(h.scheduledEvent());

    expect(h.model.stagesOf(secret.arn)[pendingId]).toEqual(expect.arrayContaining(['AWSCURRENT']));
    expect(h.model.stagesOf(secret.arn)[secret.versionId]).toEqual(['AWSPREVIOUS']);
    expect(summary).toMatchObject({ healed: 1, secrets: [{ healed: 'finished', state: 'not-due' }] });
    expect(rotationsStarted()).toEqual([]);
    expect(metricCount('StuckRotationHealed')).toBe(1);
  });

  it('clears AWSPENDING from a pending version that holds no value, then rotates when due', async () => {
    const secret = h.addManagedSecret('stuck-empty', { lifetime: 30 * DAY, ageSeconds: 20 * DAY });
    const pendingId = h.addAbandonedPendingStub(secret.arn);

    const summary = await h.invoke(h.scheduledEvent());

    const clear = h.model.sm.commandCalls(UpdateSecretVersionStageCommand)[0]?.args[0].input;
    expect(clear).toEqual({
      SecretId: secret.arn,
      VersionStage: 'AWSPENDING',
      RemoveFromVersionId: pendingId,
    });
    expect(summary).toMatchObject({ secrets: [{ healed: 'cleared', state: 'rotation-started' }] });
    expect(rotationsStarted()).toEqual([secret.arn]);
  });

  it('finishes the pair a racing createSecret wrote while the sweep was clearing its empty pending version', async () => {
    const secret = h.addManagedSecret('raced', { lifetime: 30 * DAY, ageSeconds: 20 * DAY });
    const pendingId = h.addAbandonedPendingStub(secret.arn);
    const newer = await h.momento.refresh(secret.pair);
    racePutIntoClear(secret.arn, pendingId, newer, 'answers');

    const summary = await h.invoke(h.scheduledEvent());

    expect(h.model.stagesOf(secret.arn)[pendingId]).toEqual(['AWSCURRENT']);
    expect(summary).toMatchObject({ healed: 1, secrets: [{ healed: 'finished', versionId: pendingId }] });
    expect(h.momento.isLive(newer.refreshToken)).toBe(true);
  });

  it('still finds the raced pair when the clear took effect but its answer was an error', async () => {
    const secret = h.addManagedSecret('raced-500', { lifetime: 30 * DAY, ageSeconds: 20 * DAY });
    const pendingId = h.addAbandonedPendingStub(secret.arn);
    const newer = await h.momento.refresh(secret.pair);
    racePutIntoClear(secret.arn, pendingId, newer, 'answers an error');
    h.model.sm
      .on(GetSecretValueCommand, { SecretId: secret.arn, VersionId: pendingId, VersionStage: undefined })
      .rejectsOnce(new Error('ThrottlingException'))
      .callsFake(h.model.getSecretValue);

    const summary = await h.invoke(h.scheduledEvent());

    expect(h.model.stagesOf(secret.arn)[pendingId]).toEqual(['AWSCURRENT']);
    expect(summary).toMatchObject({ healed: 1, secrets: [{ healed: 'finished' }] });
  });

  it('puts AWSPENDING back on a raced pair it cannot finish yet, so that the next sweep finds it', async () => {
    const secret = h.addManagedSecret('raced-unverified', { lifetime: 30 * DAY, ageSeconds: 20 * DAY });
    const pendingId = h.addAbandonedPendingStub(secret.arn);
    const newer = await h.momento.refresh(secret.pair);
    racePutIntoClear(secret.arn, pendingId, newer, 'answers');
    h.momento.failures.verify.push('unavailable');

    await expect(h.invoke(h.scheduledEvent())).rejects.toThrow(/raced-unverified/);

    expect(h.model.stagesOf(secret.arn)[pendingId]).toEqual(['AWSPENDING']);
    expect(h.model.stagesOf(secret.arn)[secret.versionId]).toEqual(['AWSCURRENT']);
  });

  it('leaves a pending pair that is not newer in place, reports it and fails the run naming the secret', async () => {
    const secret = h.addManagedSecret('stuck-old', { lifetime: 30 * DAY, ageSeconds: 20 * DAY });
    const older = h.momento.mint(30 * DAY, h.nowMs - 25 * DAY * 1000);
    const pendingId = h.model.addPendingStub(secret.arn, undefined, consoleJson(older));

    await expect(h.invoke(h.scheduledEvent())).rejects.toThrow(/stuck-old/);

    expect(h.model.stagesOf(secret.arn)[pendingId]).toEqual(['AWSPENDING']);
    expect(h.model.sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
  });

  it('leaves a newer pending pair that Momento rejects in place and fails the run', async () => {
    const secret = h.addManagedSecret('stuck-rejected', { lifetime: 30 * DAY, ageSeconds: 20 * DAY });
    const newer = await h.momento.refresh(secret.pair);
    h.model.addPendingStub(secret.arn, undefined, consoleJson(newer));
    h.momento.failures.verify.push('rejected');

    await expect(h.invoke(h.scheduledEvent())).rejects.toThrow(/stuck-rejected/);

    expect(h.model.sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
  });
});

describe('isolation between secrets', () => {
  it('handles every other secret when one fails, then rejects naming the failed one', async () => {
    const first = h.addManagedSecret('first', { lifetime: 30 * DAY, ageSeconds: 20 * DAY });
    // A key pasted instead of the console JSON: registered, so that its failure report is checked for leaks.
    h.addManagedValue('broken', bareKeyMaterial());
    const last = h.addManagedSecret('last', { lifetime: 30 * DAY, ageSeconds: 20 * DAY });

    const outcome = h.invoke(h.scheduledEvent());

    await expect(outcome).rejects.toThrow(/sweep failed for 1 secret\(s\): .*broken/);
    expect(rotationsStarted()).toEqual([first.arn, last.arn]);
    expect(metricCount('SweepCompleted')).toBe(1);
  });

  it('reports a configured secret that does not exist as failed, after handling the others', async () => {
    const real = h.addManagedSecret('real', { lifetime: 30 * DAY, ageSeconds: 20 * DAY });
    h.secretIds.push('does/not/exist');

    await expect(h.invoke(h.scheduledEvent())).rejects.toThrow(/does\/not\/exist/);

    expect(rotationsStarted()).toEqual([real.arn]);
  });

  it('keeps going when starting one rotation fails', async () => {
    const a = h.addManagedSecret('a', { lifetime: 30 * DAY, ageSeconds: 20 * DAY });
    const b = h.addManagedSecret('b', { lifetime: 30 * DAY, ageSeconds: 20 * DAY });
    h.model.sm.on(RotateSecretCommand, { SecretId: a.arn }).rejects(new Error('InvalidRequestException'));

    await expect(h.invoke(h.scheduledEvent())).rejects.toThrow(/: a \(/);

    expect(rotationsStarted()).toEqual([a.arn, b.arn]);
  });
});

describe('time left in the invocation', () => {
  it('reports the secrets it has no time left for as failed, after handling the ones before', async () => {
    // Prepare: three due secrets; starting the first one's rotation uses up the invocation.
    const first = h.addManagedSecret('first', { lifetime: 30 * DAY, ageSeconds: 20 * DAY });
    h.addManagedSecret('second', { lifetime: 30 * DAY, ageSeconds: 20 * DAY });
    h.addManagedSecret('third', { lifetime: 30 * DAY, ageSeconds: 20 * DAY });
    const neededMs = (h.timing.verifyTimeoutMs ?? 0) + (h.timing.safetyMarginMs ?? 0);
    let remainingMs = 60_000;
    h.model.sm.on(RotateSecretCommand, { SecretId: first.arn }).callsFake(() => {
      remainingMs = neededMs - 1;
      return { ARN: first.arn, Name: first.name, VersionId: h.model.addPendingStub(first.arn) };
    });

    // Act
    const outcome = h.invokeWithContext(h.scheduledEvent(), { getRemainingTimeInMillis: () => remainingMs });

    // Assess
    await expect(outcome).rejects.toThrow(
      'sweep failed for 2 secret(s): second (InsufficientTimeError); third (InsufficientTimeError)',
    );
    expect(rotationsStarted()).toEqual([first.arn]);
    expect(metricCount('SweepCompleted')).toBe(1);
  });
});

describe('cost of a sweep', () => {
  it('reads 100 secrets where nothing is due in at most 20 Secrets Manager calls', async () => {
    for (let i = 0; i < 100; i += 1) {
      h.addManagedSecret(`fleet/key-${String(i).padStart(3, '0')}`, { lifetime: 30 * DAY, ageSeconds: DAY });
    }

    const summary = await h.invoke(h.scheduledEvent());

    expect(summary).toMatchObject({ checked: 100, rotationsStarted: 0 });
    expect(h.model.callCount()).toBeLessThanOrEqual(20);
    expect(h.model.sm.commandCalls(BatchGetSecretValueCommand)).toHaveLength(5);
    expect(h.model.sm.commandCalls(ListSecretsCommand)).toHaveLength(10);
    expect(h.model.sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });
});
