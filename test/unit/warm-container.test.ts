import { beforeEach, describe, expect, it } from 'vitest';
import type { SecretVersion } from '../../src/rotation/ports';
import { VersionValues } from '../../src/rotation/version-values';
import { consoleJson, DAY, Harness, HOUR, STEPS } from '../support/harness';

const TOKEN = '0b7d2f9a-0000-4000-8000-0000000000aa';

let h: Harness;
beforeEach(() => {
  h = new Harness();
});

/** Secrets Manager calls made so far, by operation. */
function callsByOperation(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const call of h.model.sm.calls()) {
    const name = (call.args[0] as object).constructor.name.replace(/Command$/, '');
    out[name] = (out[name] ?? 0) + 1;
  }
  return out;
}

describe('the four steps on one warm container', () => {
  it('makes 8 Secrets Manager calls instead of 11: values read or written by an earlier step are not read again', async () => {
    // Prepare
    const warm = h.addManagedSecret('momento/warm');
    h.model.addPendingStub(warm.arn, TOKEN);
    const container = h.container();

    // Act
    for (const step of STEPS) await container.step(step, warm.arn, TOKEN);
    const warmCalls = callsByOperation();
    h.model.sm.resetHistory();
    const cold = h.addManagedSecret('momento/cold');
    h.model.addPendingStub(cold.arn, TOKEN);
    for (const step of STEPS) await h.step(step, cold.arn, TOKEN);
    const coldCalls = callsByOperation();

    // Assess
    expect(warmCalls).toEqual({
      DescribeSecret: 4,
      GetSecretValue: 2,
      PutSecretValue: 1,
      UpdateSecretVersionStage: 1,
    });
    expect(coldCalls).toEqual({
      DescribeSecret: 4,
      GetSecretValue: 5,
      PutSecretValue: 1,
      UpdateSecretVersionStage: 1,
    });
    for (const secret of [warm, cold]) {
      expect(h.model.stagesOf(secret.arn)[TOKEN]).toContain('AWSCURRENT');
    }
    expect(h.momento.refreshCalls).toHaveLength(2);
    expect(h.momento.verifyCalls).toHaveLength(2);
  });

  it('checks the pending pair against the version AWSCURRENT names now, not the one an earlier step read', async () => {
    // Prepare: createSecret here reads AWSCURRENT; then a newer pair becomes AWSCURRENT behind its back.
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    const container = h.container();
    await container.step('createSecret', secret.arn, TOKEN);
    h.nowMs += HOUR * 1000;
    const newer = h.momento.mint(30 * DAY);
    h.model.putSecretValue({ SecretId: secret.arn, SecretString: consoleJson(newer) });

    // Act
    const test = container.step('testSecret', secret.arn, TOKEN);

    // Assess
    await expect(test).rejects.toThrow(/is not later than AWSCURRENT's/);
    expect(h.momento.verifyCalls).toHaveLength(0);
  });

  it('never promotes an empty version, even right after passing it as a configuration test', async () => {
    // Prepare
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    const container = h.container();
    await container.step('testSecret', secret.arn, TOKEN);

    // Act
    const finish = container.step('finishSecret', secret.arn, TOKEN);

    // Assess
    await expect(finish).rejects.toThrow(/holds no value; an empty version/);
    expect(h.model.stagesOf(secret.arn)[secret.versionId]).toContain('AWSCURRENT');
  });

  it("never lends one secret's version value to another secret's version with the same id", async () => {
    // Prepare: the same ClientRequestToken on two secrets; only the first one's pending version holds a pair.
    const first = h.addManagedSecret('momento/first');
    const second = h.addManagedSecret('momento/second');
    h.model.addPendingStub(first.arn, TOKEN);
    h.model.addPendingStub(second.arn, TOKEN);
    const container = h.container();
    await container.step('createSecret', first.arn, TOKEN);

    // Act
    const finish = container.step('finishSecret', second.arn, TOKEN);

    // Assess
    await expect(finish).rejects.toThrow(/holds no value; an empty version/);
    expect(h.model.stagesOf(second.arn)[second.versionId]).toContain('AWSCURRENT');
  });

  it('still asks Secrets Manager, not its memory, whether a createSecret re-run already wrote its pair', async () => {
    // Prepare: a first createSecret wrote the pair; somebody removed the pending version's label since.
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    const container = h.container();
    await container.step('createSecret', secret.arn, TOKEN);
    const probes = () =>
      h.model.sm
        .calls()
        .filter(
          (call) =>
            (call.args[0] as { input: { VersionId?: string } }).input.VersionId === TOKEN &&
            (call.args[0] as object).constructor.name === 'GetSecretValueCommand',
        ).length;
    const before = probes();

    // Act
    await container.step('createSecret', secret.arn, TOKEN);

    // Assess
    expect(probes()).toBe(before + 1);
    expect(h.momento.refreshCalls).toHaveLength(1);
  });
});

describe('VersionValues', () => {
  const version = (versionId: string, secretString: string | undefined): SecretVersion => ({
    arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf',
    name: 's',
    versionId,
    secretString,
    createdDate: undefined,
  });

  it('forgets the least recently used value beyond its capacity', () => {
    // Prepare
    const values = new VersionValues(2);
    values.remember(version('a', '{}'));
    values.remember(version('b', '{}'));

    // Act
    values.get(version('a', '{}').arn, 'a');
    values.remember(version('c', '{}'));

    // Assess
    expect(values.size).toBe(2);
    expect(values.get(version('a', '{}').arn, 'a')?.versionId).toBe('a');
    expect(values.get(version('b', '{}').arn, 'b')).toBeUndefined();
    expect(values.get(version('c', '{}').arn, 'c')?.versionId).toBe('c');
  });

  it('never remembers a version without a value', () => {
    // Prepare
    const values = new VersionValues();

    // Act
    values.remember(version('empty', undefined));

    // Assess
    expect(values.get(version('empty', undefined).arn, 'empty')).toBeUndefined();
  });
});
