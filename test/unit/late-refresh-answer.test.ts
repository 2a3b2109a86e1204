import { PutSecretValueCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { DAY, Harness, HOUR } from '../support/harness';
import { loggedRecords, metricCount } from '../support/secret-material';
import { throttled } from '../support/service-errors';

const TOKEN = '3b9e5f10-0000-4000-8000-00000000a1a1';
const RETRY_TOKEN = '3b9e5f10-0000-4000-8000-00000000a1a2';

let h: Harness;
beforeEach(() => {
  h = new Harness();
});

/** A Lambda context whose remaining time runs down with real time from `ms`. */
function invocationOf(ms: number) {
  const started = Date.now();
  return { getRemainingTimeInMillis: () => ms - (Date.now() - started) };
}

const stepEvent = (step: string, secretArn: string, token = TOKEN) => ({
  Step: step,
  SecretId: secretArn,
  ClientRequestToken: token,
});

/** The refresh token of the pair written under `token`, read from the model (never logged). */
function pendingRefreshToken(secretArn: string, token = TOKEN): string | undefined {
  const value = h.model.find(secretArn).versions.get(token)?.value;
  return value === undefined ? undefined : (JSON.parse(value) as { refreshToken: string }).refreshToken;
}

describe('a refresh answer that comes late', () => {
  it('is written as AWSPENDING when it arrives after the minimum wait but while the invocation can store it', async () => {
    // Prepare: Momento commits at once and answers well after the engine's minimum refresh wait (200 ms here),
    // while the invocation still has seconds left. Today's code gave up at 200 ms and dropped the pair.
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    const minimumWait = h.timing.refreshMinWaitMs ?? 0;
    h.momento.answerNextRefreshAfter(minimumWait + 400);

    // Act
    const result = await h.invokeWithContext(stepEvent('createSecret', secret.arn), invocationOf(5_000));

    // Assess
    expect(result).toMatchObject({ outcome: 'done' });
    expect(h.momento.refreshCalls).toHaveLength(1);
    const written = pendingRefreshToken(secret.arn);
    expect(written).toBeDefined();
    expect(h.momento.isLive(written as string)).toBe(true);
    expect(metricCount('ChainAtRisk')).toBe(0);
  });

  it('stops waiting only when the invocation has just the write reserve left, and reports ChainAtRisk then', async () => {
    // Prepare: the answer never comes (a call lost on its way).
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    h.momento.hangNextRefresh();
    const { writeReserveMs = 0, safetyMarginMs = 0, refreshMinWaitMs = 0 } = h.timing;
    const invocationMs = refreshMinWaitMs + writeReserveMs + safetyMarginMs + 500;

    // Act
    const started = Date.now();
    const outcome = h.invokeWithContext(stepEvent('createSecret', secret.arn), invocationOf(invocationMs));
    await expect(outcome).rejects.toMatchObject({
      name: 'RefreshFailedError',
      message: expect.stringMatching(/NO_ANSWER_IN_TIME/),
    });
    const waitedMs = Date.now() - started;

    // Assess: it waited past the minimum, up to what the write needs, and said so while time was left.
    expect(waitedMs).toBeGreaterThanOrEqual(refreshMinWaitMs + 400);
    expect(waitedMs).toBeLessThan(invocationMs);
    expect(metricCount('ChainAtRisk')).toBe(1);
    expect(loggedRecords()).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: expect.stringMatching(/^ChainAtRisk: refresh outcome unknown/),
        secretArn: secret.arn,
        versionId: TOKEN,
      }),
    );
    expect(h.model.sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('is kept by the container when it arrives after the engine stopped waiting, and the retry writes it without a second refresh', async () => {
    // Prepare: the answer arrives after this invocation's time to store it ran out (Momento committed).
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    const container = h.container();

    // Act: the first attempt gives up; the answer arrives; Secrets Manager retries the step on the same container.
    await givesUpOnAnAnswerThatComesLater(container, secret.arn);
    const retry = await container.invokeWith(stepEvent('createSecret', secret.arn), invocationOf(5_000));

    // Assess: the pair Momento issued is the one stored; Momento was asked once.
    expect(retry).toMatchObject({ outcome: 'done' });
    expect(h.momento.refreshCalls).toHaveLength(1);
    const written = pendingRefreshToken(secret.arn);
    expect(written).toBeDefined();
    expect(h.momento.isLive(written as string)).toBe(true);
  });

  it('is used by the next rotation of the secret on the same container, under its new token', async () => {
    // Prepare: the first rotation gave up on its answer; its empty pending version was cleared since, and a new
    // rotation begins with a new token.
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    const container = h.container();
    await givesUpOnAnAnswerThatComesLater(container, secret.arn);
    h.model.find(secret.arn).versions.delete(TOKEN);
    h.model.addPendingStub(secret.arn, RETRY_TOKEN);

    // Act
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
      await container.invokeWith(stepEvent(step, secret.arn, RETRY_TOKEN), invocationOf(5_000));
    }

    // Assess
    expect(h.momento.refreshCalls).toHaveLength(1);
    const current = JSON.parse(h.model.versionWith(secret.arn, 'AWSCURRENT')?.[1].value ?? '{}') as {
      refreshToken: string;
    };
    expect(h.momento.isLive(current.refreshToken)).toBe(true);
  });

  it('makes the next sweep on that container start a rotation, not yet due, that stores the kept pair', async () => {
    // Prepare: a key far from due; a forced rotation's createSecret gives up on its answer, which arrives
    // later; Secrets Manager gives up on the rotation; an hour on, the empty pending version is stale.
    const secret = h.addManagedSecret('momento/api-key', { ageSeconds: DAY });
    h.model.addPendingStub(secret.arn, TOKEN);
    const container = h.container();
    await givesUpOnAnAnswerThatComesLater(container, secret.arn);
    h.nowMs += HOUR * 1000;

    // Act: the sweep clears the stale pending version and starts a rotation; its steps run on this container.
    h.model.sm.on(RotateSecretCommand).callsFake((input) => {
      const versionId = h.model.addPendingStub(h.model.find(input.SecretId).arn);
      setImmediate(async () => {
        for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
          await container.invokeWith(stepEvent(step, secret.arn, versionId), invocationOf(5_000));
        }
      });
      return { ARN: secret.arn, Name: secret.name, VersionId: versionId };
    });
    const summary = await container.invokeWith(h.scheduledEvent(), invocationOf(5_000));
    const started = (summary as { secrets: { rotationVersionId?: string }[] }).secrets[0]?.rotationVersionId;
    await waitUntil(() => h.model.stagesOf(secret.arn)[started ?? '']?.includes('AWSCURRENT') === true);

    // Assess: one refresh in all; AWSCURRENT holds the live link.
    expect(summary).toMatchObject({ rotationsStarted: 1, secrets: [{ state: 'rotation-started' }] });
    expect(h.momento.refreshCalls).toHaveLength(1);
    const current = JSON.parse(h.model.versionWith(secret.arn, 'AWSCURRENT')?.[1].value ?? '{}') as {
      refreshToken: string;
    };
    expect(h.momento.isLive(current.refreshToken)).toBe(true);
  });

  it('keeps a pair whose pending write never stuck, and the retry on the same container writes it', async () => {
    // Prepare: every write fails until the invocation's time runs out.
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    const container = h.container();
    h.model.sm.on(PutSecretValueCommand).rejects(throttled());
    const { writeReserveMs = 0, safetyMarginMs = 0, refreshMinWaitMs = 0 } = h.timing;

    await expect(
      container.invokeWith(
        stepEvent('createSecret', secret.arn),
        invocationOf(refreshMinWaitMs + writeReserveMs + safetyMarginMs + 50),
      ),
    ).rejects.toMatchObject({ name: 'PendingWriteFailedError' });
    h.model.sm.on(PutSecretValueCommand).callsFake(h.model.putSecretValue);

    // Act
    const retry = await container.invokeWith(stepEvent('createSecret', secret.arn), invocationOf(5_000));

    // Assess
    expect(retry).toMatchObject({ outcome: 'done' });
    expect(h.momento.refreshCalls).toHaveLength(1);
    expect(h.momento.isLive(pendingRefreshToken(secret.arn) as string)).toBe(true);
  });
});

/**
 * A createSecret on `container` whose refresh Momento commits at once but answers only after the invocation's
 * time to store it ran out: it rejects (ChainAtRisk), and the answer then reaches the process.
 */
async function givesUpOnAnAnswerThatComesLater(
  container: ReturnType<Harness['container']>,
  secretArn: string,
): Promise<void> {
  const { writeReserveMs = 0, safetyMarginMs = 0, refreshMinWaitMs = 0 } = h.timing;
  const invocationMs = refreshMinWaitMs + writeReserveMs + safetyMarginMs + 100;
  h.momento.answerNextRefreshAfter(invocationMs + 200);
  await expect(
    container.invokeWith(stepEvent('createSecret', secretArn), invocationOf(invocationMs)),
  ).rejects.toMatchObject({ name: 'RefreshFailedError' });
  await waitUntil(() => h.momento.inFlightAnswers === 0);
}

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i += 1) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}
