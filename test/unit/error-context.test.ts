import {
  DescribeSecretCommand,
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { Harness, STEPS } from '../support/harness';
import { throttled } from '../support/service-errors';

const TOKEN = '3c9e1b7d-0000-4000-8000-0000000000ee';

let h: Harness;
beforeEach(() => {
  h = new Harness();
});

/** What the invocation rejected with. */
async function rejection(outcome: Promise<unknown>): Promise<Error & { cause?: unknown }> {
  try {
    await outcome;
  } catch (error) {
    return error as Error;
  }
  throw new Error('the invocation did not reject');
}

describe('every failure names the secret, the version and where it happened', () => {
  it.each(STEPS)('a Secrets Manager failure in %s', async (step) => {
    // Prepare
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    const sdkError = throttled();
    h.model.sm.on(DescribeSecretCommand).rejects(sdkError);

    // Act
    const error = await rejection(h.step(step, secret.arn, TOKEN));

    // Assess
    expect(error.name).toBe('DependencyCallError');
    expect(error.message).toBe(
      `secret ${secret.arn} version ${TOKEN}: ${step}: ThrottlingException: Rate exceeded`,
    );
    expect(error.cause).toBe(sdkError);
  });

  it('a failed promotion in finishSecret', async () => {
    // Prepare
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    for (const step of ['createSecret', 'setSecret', 'testSecret'] as const)
      await h.step(step, secret.arn, TOKEN);
    h.model.sm.on(UpdateSecretVersionStageCommand).rejects(throttled());

    // Act
    const error = await rejection(h.step('finishSecret', secret.arn, TOKEN));

    // Assess
    expect(error.message).toBe(
      `secret ${secret.arn} version ${TOKEN}: finishSecret: ThrottlingException: Rate exceeded`,
    );
  });

  it('a refresh Momento refused', async () => {
    // Prepare
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    h.momento.failures.refresh.push('rejected');

    // Act
    const error = await rejection(h.step('createSecret', secret.arn, TOKEN));

    // Assess
    expect(error.name).toBe('RefreshFailedError');
    expect(error.message).toBe(
      `secret ${secret.arn} version ${TOKEN}: no new pair: Momento refresh failed: FAKE_REJECTED (rejected)`,
    );
    expect(error.cause).toMatchObject({ name: 'MomentoCallError', kind: 'rejected' });
  });

  it('a key check Momento could not answer', async () => {
    // Prepare
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    await h.step('createSecret', secret.arn, TOKEN);
    h.momento.failures.verify.push('unavailable');

    // Act
    const error = await rejection(h.step('testSecret', secret.arn, TOKEN));

    // Assess
    expect(error.name).toBe('KeyCheckFailedError');
    expect(error.message).toBe(
      `secret ${secret.arn} version ${TOKEN}: the pending key could not be checked: ` +
        'Momento verify failed: FAKE_UNAVAILABLE (unavailable)',
    );
  });

  it('a manual rotation that Secrets Manager would not start', async () => {
    // Prepare
    const secret = h.addManagedSecret('momento/api-key');
    h.model.sm.on(RotateSecretCommand).rejects(throttled());

    // Act
    const error = await rejection(h.invoke({ action: 'rotate', force: true }));

    // Assess
    expect(error.name).toBe('DependencyCallError');
    expect(error.message).toBe(`secret ${secret.arn}: manual rotation: ThrottlingException: Rate exceeded`);
  });
});
