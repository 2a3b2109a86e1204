import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { consoleJson, DAY, Harness, STEPS } from '../support/harness';
import { bareKeyMaterial, capturedOutput, metricCount, secretMaterial } from '../support/secret-material';
import { serviceError, throttled } from '../support/service-errors';

const TOKEN = '6f1c2a4e-0000-4000-8000-00000000c0de';

let h: Harness;
beforeEach(() => {
  h = new Harness();
});

function pendingValue(arn: string, token = TOKEN) {
  return h.model.find(arn).versions.get(token)?.value;
}

describe('the four steps', () => {
  it('rotates end to end: one refresh, AWSPENDING under the event token, pending key verified, AWSCURRENT moved', async () => {
    // Prepare
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);

    // Act
    for (const step of STEPS) await h.step(step, secret.arn, TOKEN);

    // Assess
    expect(h.momento.refreshCalls).toHaveLength(1);
    const put = h.model.sm.commandCalls(PutSecretValueCommand);
    expect(put).toHaveLength(1);
    expect(put[0]?.args[0].input).toMatchObject({ ClientRequestToken: TOKEN, VersionStages: ['AWSPENDING'] });
    const written = JSON.parse(pendingValue(secret.arn) ?? '{}');
    expect(h.momento.verifyCalls).toEqual([written.apiKey]);
    const update = h.model.sm.commandCalls(UpdateSecretVersionStageCommand)[0]?.args[0].input;
    expect(update).toEqual({
      SecretId: secret.arn,
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: TOKEN,
      RemoveFromVersionId: secret.versionId,
    });
    expect(h.model.stagesOf(secret.arn)[TOKEN]).toContain('AWSCURRENT');
    expect(h.model.stagesOf(secret.arn)[secret.versionId]).toEqual(['AWSPREVIOUS']);
    expect(h.momento.isLive(written.refreshToken)).toBe(true);
    expect(metricCount('RotationSucceeded')).toBe(1);
  });

  it('makes no second refresh when createSecret runs again after it succeeded', async () => {
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    await h.step('createSecret', secret.arn, TOKEN);
    const first = pendingValue(secret.arn);

    await expect(h.step('createSecret', secret.arn, TOKEN)).resolves.toMatchObject({
      outcome: 'already-done',
    });

    expect(h.momento.refreshCalls).toHaveLength(1);
    expect(pendingValue(secret.arn)).toBe(first);
  });

  it('makes no second refresh when the whole rotation runs again', async () => {
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    await h.rotateAllSteps(secret.arn, TOKEN);

    for (const step of STEPS) {
      await expect(h.step(step, secret.arn, TOKEN)).resolves.toMatchObject({ outcome: 'already-current' });
    }

    expect(h.momento.refreshCalls).toHaveLength(1);
    expect(h.model.sm.commandCalls(PutSecretValueCommand)).toHaveLength(1);
    expect(h.model.sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(1);
  });

  it('forwards the RotationToken to PutSecretValue', async () => {
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);

    await h.step('createSecret', secret.arn, TOKEN, { RotationToken: 'rotation-token-1' });

    expect(h.model.sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input.RotationToken).toBe(
      'rotation-token-1',
    );
    expect(h.model.find(secret.arn).versions.get(TOKEN)?.rotationToken).toBe('rotation-token-1');
  });

  it('sends no RotationToken when the event has none', async () => {
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);

    await h.step('createSecret', secret.arn, TOKEN);

    expect(h.model.sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input).not.toHaveProperty(
      'RotationToken',
    );
  });

  it('reads AWSCURRENT by its stage and probes the pending version by its token and the AWSPENDING stage', async () => {
    // Prepare
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);

    // Act
    await h.step('createSecret', secret.arn, TOKEN);

    // Assess
    const reads = h.model.sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input);
    expect(reads).toEqual([
      { SecretId: secret.arn, VersionStage: 'AWSCURRENT' },
      { SecretId: secret.arn, VersionId: TOKEN, VersionStage: 'AWSPENDING' },
    ]);
  });

  it('names the stage in every read of a whole rotation', async () => {
    // Prepare
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);

    // Act
    await h.rotateAllSteps(secret.arn, TOKEN);

    // Assess
    const reads = h.model.sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input);
    expect(reads.length).toBeGreaterThan(2);
    for (const read of reads) {
      expect(read).toEqual(
        read.VersionId === undefined
          ? { SecretId: secret.arn, VersionStage: 'AWSCURRENT' }
          : { SecretId: secret.arn, VersionId: TOKEN, VersionStage: 'AWSPENDING' },
      );
    }
  });

  it('sends PutSecretValue with an abort signal, so that the write loop can cancel an attempt at its deadline', async () => {
    // Prepare
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);

    // Act
    await h.step('createSecret', secret.arn, TOKEN);

    // Assess
    const put = h.model.sm.commandCalls(PutSecretValueCommand);
    expect(put).toHaveLength(1);
    // aws-sdk-client-mock records client.send(command, options): the options are the second argument.
    const options = (put[0]?.args as unknown[] | undefined)?.[1] as { abortSignal?: unknown } | undefined;
    expect(options?.abortSignal).toBeInstanceOf(AbortSignal);
  });
});

describe('the pending probe in createSecret', () => {
  it.each([
    ['throttled', throttled],
    ['a 500', serviceError],
  ])('rejects without refreshing when the probe is %s', async (_label, makeError) => {
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    h.model.sm.on(GetSecretValueCommand, { SecretId: secret.arn, VersionId: TOKEN }).rejects(makeError());

    await expect(h.step('createSecret', secret.arn, TOKEN)).rejects.toThrow();

    expect(h.momento.refreshCalls).toHaveLength(0);
    expect(h.model.sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });
});

describe('stage checks (AWS rotation template)', () => {
  it.each(STEPS)('%s rejects a token that is not a version of the secret', async (step) => {
    const secret = h.addManagedSecret('momento/api-key');

    await expect(h.step(step, secret.arn, TOKEN)).rejects.toThrow(/is not a version of this secret/);

    expect(h.momento.refreshCalls).toHaveLength(0);
  });

  it.each(STEPS)('%s does nothing when the token is already AWSCURRENT', async (step) => {
    const secret = h.addManagedSecret('momento/api-key');

    await expect(h.step(step, secret.arn, secret.versionId)).resolves.toMatchObject({
      outcome: 'already-current',
    });

    expect(h.momento.refreshCalls).toHaveLength(0);
    expect(h.model.sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    expect(h.model.sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
  });

  it.each(STEPS)('%s rejects a token that is not AWSPENDING', async (step) => {
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    const version = h.model.find(secret.arn).versions.get(TOKEN);
    if (version) version.stages = ['AWSPREVIOUS'];

    await expect(h.step(step, secret.arn, TOKEN)).rejects.toThrow(/is not AWSPENDING/);

    expect(h.momento.refreshCalls).toHaveLength(0);
  });

  it.each(STEPS)('%s rejects when rotation is disabled on the secret', async (step) => {
    const secret = h.addManagedSecret('momento/api-key');
    h.model.find(secret.arn).rotationEnabled = false;
    h.model.addPendingStub(secret.arn, TOKEN);

    await expect(h.step(step, secret.arn, TOKEN)).rejects.toThrow(/rotation is not enabled/);

    expect(h.momento.refreshCalls).toHaveLength(0);
  });

  it.each(STEPS)('%s on a secret this function does not manage rejects and touches nothing', async (step) => {
    h.addManagedSecret('momento/api-key');
    const other = h.model.addSecret('someone/else', '{"password":"x"}');
    h.model.addPendingStub(other.arn, TOKEN);

    await expect(h.step(step, other.arn, TOKEN)).rejects.toThrow(/is not managed by this function/);

    const writes = h.model.sm
      .calls()
      .filter(
        (c) => !(c.args[0] instanceof DescribeSecretCommand || c.args[0] instanceof GetSecretValueCommand),
      );
    expect(writes).toHaveLength(0);
    expect(h.momento.refreshCalls).toHaveLength(0);
    expect(h.momento.verifyCalls).toHaveLength(0);
  });

  it('accepts an event ARN for a secret configured by name', async () => {
    const secret = h.addManagedSecret('momento/api-key');
    h.secretIds = ['momento/api-key'];
    h.model.addPendingStub(secret.arn, TOKEN);

    await expect(h.step('createSecret', secret.arn, TOKEN)).resolves.toMatchObject({ outcome: 'done' });
  });

  it('accepts an event ARN for a secret configured by partial ARN', async () => {
    const secret = h.addManagedSecret('momento/api-key');
    h.secretIds = [secret.arn.slice(0, -7)];
    h.model.addPendingStub(secret.arn, TOKEN);

    await expect(h.step('createSecret', secret.arn, TOKEN)).resolves.toMatchObject({ outcome: 'done' });
  });
});

describe('malformed, never-expiring and uninitialised current values', () => {
  // Built from registered material, so that a leak of a malformed value's content fails the file's
  // no-secret-material check (e.g. an error quoting JSON.parse's message, or a log of the value).
  const key = secretMaterial('key');
  const otherKey = secretMaterial('key');
  const refreshToken = secretMaterial('rt');
  const validUntil = 1_900_000_000;
  const cases: Array<[string, string | undefined, RegExp]> = [
    ['a bare key pasted instead of the console JSON', bareKeyMaterial(), /field "SecretString" is not JSON/],
    [
      'the pair as lines of text',
      `apiKey=${key}\nrefreshToken=${refreshToken}\nvalidUntil=${validUntil}`,
      /field "SecretString" is not JSON/,
    ],
    [
      'a JSON array',
      JSON.stringify([key, refreshToken, validUntil]),
      /field "SecretString" is not a JSON object/,
    ],
    [
      'a missing refresh token',
      JSON.stringify({ apiKey: key, validUntil }),
      /field "refreshToken" is missing/,
    ],
    [
      'a non-numeric validUntil',
      JSON.stringify({ apiKey: key, refreshToken, validUntil: 'soon' }),
      /field "validUntil"/,
    ],
    ['a missing key', JSON.stringify({ refreshToken, validUntil }), /field "apiKey" is missing/],
    ['a key that is a number', JSON.stringify({ apiKey: 42, refreshToken, validUntil }), /field "apiKey"/],
    [
      'an authToken that differs from apiKey',
      JSON.stringify({ apiKey: key, authToken: otherKey, refreshToken, validUntil }),
      /field "authToken" differs from apiKey/,
    ],
    ['a key that never expires', JSON.stringify({ apiKey: key, validUntil: 0 }), /never expires/],
    [
      'an uninitialised placeholder',
      '{"placeholder":"put the console JSON here"}',
      /uninitialised.*put-secret-value/,
    ],
  ];

  it.each(cases)(
    'rejects %s naming the secret and the field, with no refresh and no write',
    async (_label, value, message) => {
      const secret = h.addManagedValue('momento/api-key', value);
      h.model.addPendingStub(secret.arn, TOKEN);

      const outcome = h.step('createSecret', secret.arn, TOKEN);

      await expect(outcome).rejects.toThrow(message);
      await expect(outcome).rejects.toThrow(/momento\/api-key/);
      expect(h.momento.refreshCalls).toHaveLength(0);
      expect(h.model.sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    },
  );
});

describe('the written value keeps the shape of the secret', () => {
  it.each([
    ['apiKey', 'number'],
    ['apiKey', 'string'],
    ['authToken', 'number'],
    ['authToken', 'string'],
  ] as const)(
    'keeps the %s field and a %s validUntil, and every other field',
    async (keyField, validUntilAs) => {
      const extra = { cacheName: 'orders', team: { owner: 'platform' }, note: null };
      const secret = h.addManagedSecret('momento/api-key', { shape: { keyField, validUntilAs, extra } });
      h.model.addPendingStub(secret.arn, TOKEN);

      await h.step('createSecret', secret.arn, TOKEN);

      const written = JSON.parse(pendingValue(secret.arn) ?? '{}');
      expect(Object.keys(written).sort()).toEqual(
        ['cacheName', keyField, 'note', 'refreshToken', 'team', 'validUntil'].sort(),
      );
      expect(written).toMatchObject(extra);
      expect(typeof written.validUntil).toBe(validUntilAs);
      expect(Number(written.validUntil)).toBe(Math.floor(h.nowMs / 1000) + 30 * DAY);
      expect(Number(written.validUntil)).toBeGreaterThan(secret.pair.validUntil);
      expect(written[keyField]).not.toBe(secret.pair.apiKey);
      expect(written.refreshToken).not.toBe(secret.pair.refreshToken);
    },
  );

  it('writes the new key into both apiKey and authToken when the secret holds both', async () => {
    // Prepare
    const pair = h.momento.mint(30 * DAY, h.nowMs - 20 * DAY * 1000);
    const both = { apiKey: pair.apiKey, authToken: pair.apiKey, refreshToken: pair.refreshToken };
    const secret = h.addManagedValue(
      'momento/api-key',
      JSON.stringify({ ...both, validUntil: pair.validUntil }),
    );
    h.model.addPendingStub(secret.arn, TOKEN);

    // Act
    await h.step('createSecret', secret.arn, TOKEN);

    // Assess
    const written = JSON.parse(pendingValue(secret.arn) ?? '{}');
    expect(Object.keys(written).sort()).toEqual(['apiKey', 'authToken', 'refreshToken', 'validUntil']);
    expect(written.apiKey).not.toBe(pair.apiKey);
    expect(written.authToken).toBe(written.apiKey);
    expect(h.momento.isLive(written.refreshToken)).toBe(true);
    await expect(
      h.momento.verifyKey({ version: 'v1', apiKey: written.authToken }, 100),
    ).resolves.toBeUndefined();
  });
});

describe('writing the new pair', () => {
  it('retries the write with the same token until it sticks, with one refresh', async () => {
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    // Two failures, then the model answers.
    h.model.sm
      .on(PutSecretValueCommand)
      .rejectsOnce(serviceError())
      .rejectsOnce(throttled())
      .callsFake(h.model.putSecretValue);

    await h.step('createSecret', secret.arn, TOKEN);

    const calls = h.model.sm.commandCalls(PutSecretValueCommand);
    expect(h.momento.refreshCalls).toHaveLength(1);
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.args[0].input.ClientRequestToken))).toEqual(new Set([TOKEN]));
    expect(new Set(calls.map((c) => c.args[0].input.SecretString)).size).toBe(1);
    expect(JSON.parse(pendingValue(secret.arn) ?? '{}').refreshToken).toBe(
      JSON.parse(calls[0]?.args[0].input.SecretString ?? '{}').refreshToken,
    );
  });

  it('rejects with ChainAtRisk when the write never sticks before time runs out', async () => {
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    h.model.sm.on(PutSecretValueCommand).rejects(serviceError());

    // 800 ms left: enough to start (200 refresh + 300 write + 50 margin), so the write loop gets ~750 ms.
    await expect(
      h.invoke({ Step: 'createSecret', SecretId: secret.arn, ClientRequestToken: TOKEN }, 800),
    ).rejects.toThrow(/could not be written as AWSPENDING/);

    expect(h.momento.refreshCalls).toHaveLength(1);
    expect(h.model.sm.commandCalls(PutSecretValueCommand).length).toBeGreaterThan(1);
    expect(metricCount('ChainAtRisk')).toBe(1);
  });

  it('never retries a write refused because the token already holds another value', async () => {
    // Prepare
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    h.model.sm
      .on(PutSecretValueCommand)
      .rejects(new ResourceExistsException({ message: 'version exists with another value', $metadata: {} }));

    // Act: 2 s left, so that a loop retrying the conflict would still end, with many calls.
    const outcome = h.invoke(
      { Step: 'createSecret', SecretId: secret.arn, ClientRequestToken: TOKEN },
      2_000,
    );

    // Assess
    await expect(outcome).rejects.toMatchObject({
      name: 'PendingWriteFailedError',
      cause: { name: 'PendingVersionConflictError' },
    });
    expect(h.model.sm.commandCalls(PutSecretValueCommand)).toHaveLength(1);
    expect(h.momento.refreshCalls).toHaveLength(1);
  });

  it('refuses to refresh when too little of the invocation is left', async () => {
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);

    await expect(
      h.invoke({ Step: 'createSecret', SecretId: secret.arn, ClientRequestToken: TOKEN }, 500),
    ).rejects.toThrow(/ms left.*no refresh was made/);

    expect(h.momento.refreshCalls).toHaveLength(0);
    expect(h.model.sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('reports ChainAtRisk when the refresh outcome is unknown', async () => {
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    h.momento.failures.refresh.push('unavailable');

    await expect(h.step('createSecret', secret.arn, TOKEN)).rejects.toThrow(/Momento refresh failed/);

    expect(metricCount('ChainAtRisk')).toBe(1);
    expect(h.model.sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it.each(['invalid', 'rejected'] as const)(
    'reports ChainAtRisk when Momento refuses the stored pair as %s',
    async (kind) => {
      const secret = h.addManagedSecret('momento/api-key');
      h.model.addPendingStub(secret.arn, TOKEN);
      h.momento.failures.refresh.push(kind);

      await expect(h.step('createSecret', secret.arn, TOKEN)).rejects.toThrow(/Momento refresh failed/);

      expect(metricCount('ChainAtRisk')).toBe(1);
      expect(capturedOutput()).toMatch(/ChainAtRisk: Momento refused the stored key and refresh token/);
    },
  );

  it('reports ChainAtRisk when the stored refresh token was spent outside the rotator', async () => {
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    // Someone spent the token outside the rotator.
    await h.momento.refresh(secret.pair);

    await expect(h.step('createSecret', secret.arn, TOKEN)).rejects.toThrow(/AUTHENTICATION_ERROR/);

    expect(metricCount('ChainAtRisk')).toBe(1);
  });

  it("refreshes AWSPREVIOUS's twin when Momento refuses AWSCURRENT's pair issued in the same second", async () => {
    // Two refreshes within one second: AWSCURRENT got the older pair (its token spent), AWSPREVIOUS the live one.
    const first = h.momento.mint(30 * DAY);
    const live = await h.momento.refresh(first);
    expect(live.validUntil).toBe(first.validUntil);
    const secret = h.addManagedValue('momento/api-key', consoleJson(first));
    h.model.find(secret.arn).versions.set('previous-twin', {
      stages: ['AWSPREVIOUS'],
      value: consoleJson(live),
      createdDate: h.nowMs,
    });
    h.model.addPendingStub(secret.arn, TOKEN);
    h.nowMs += 60_000;
    h.momento.refreshCalls.length = 0;

    await h.step('createSecret', secret.arn, TOKEN);

    expect(h.momento.refreshCalls.map((c) => c.refreshToken)).toEqual([
      first.refreshToken,
      live.refreshToken,
    ]);
    const written = JSON.parse(pendingValue(secret.arn) ?? '{}');
    expect(h.momento.isLive(written.refreshToken)).toBe(true);
    expect(metricCount('ChainAtRisk')).toBe(0);
  });

  it('reports ChainAtRisk once when the twin is refused too', async () => {
    const first = h.momento.mint(30 * DAY);
    const live = await h.momento.refresh(first);
    await h.momento.refresh(live);
    const secret = h.addManagedValue('momento/api-key', consoleJson(first));
    h.model.find(secret.arn).versions.set('previous-twin', {
      stages: ['AWSPREVIOUS'],
      value: consoleJson(live),
      createdDate: h.nowMs,
    });
    h.model.addPendingStub(secret.arn, TOKEN);
    h.momento.refreshCalls.length = 0;

    await expect(h.step('createSecret', secret.arn, TOKEN)).rejects.toThrow(/AUTHENTICATION_ERROR/);

    expect(h.momento.refreshCalls).toHaveLength(2);
    expect(metricCount('ChainAtRisk')).toBe(1);
    expect(h.model.sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('refuses to refresh a key that has already expired', async () => {
    const secret = h.addManagedSecret('momento/api-key', { lifetime: DAY, ageSeconds: 2 * DAY });
    h.model.addPendingStub(secret.arn, TOKEN);

    await expect(h.step('createSecret', secret.arn, TOKEN)).rejects.toThrow(/expired at/);

    expect(h.momento.refreshCalls).toHaveLength(0);
  });
});

describe('testSecret', () => {
  async function prepared() {
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    await h.step('createSecret', secret.arn, TOKEN);
    h.momento.verifyCalls.length = 0;
    return secret;
  }

  it('rejects a pending key Momento does not authenticate', async () => {
    const secret = await prepared();
    h.momento.failures.verify.push('rejected');

    await expect(h.step('testSecret', secret.arn, TOKEN)).rejects.toThrow(/did not accept the pending key/);
  });

  it.each(['MALFORMED_API_KEY', 'INVALID_ARGUMENT_ERROR'])(
    'rejects a pending key Momento refuses as invalid (%s), unlike a permission error',
    async (code) => {
      // Prepare
      const secret = await prepared();
      h.momento.failures.verify.push({ kind: 'invalid', code });

      // Act
      const outcome = h.step('testSecret', secret.arn, TOKEN);

      // Assess
      await expect(outcome).rejects.toMatchObject({
        name: 'PendingPairRejectedError',
        message: expect.stringContaining(`did not accept the pending key (${code})`),
      });
      expect(h.momento.verifyCalls).toHaveLength(1);
    },
  );

  it('passes a pending key that authenticates but lacks the permission for the check', async () => {
    const secret = await prepared();
    h.momento.failures.verify.push('forbidden');

    await expect(h.step('testSecret', secret.arn, TOKEN)).resolves.toMatchObject({ outcome: 'done' });
  });

  it('rejects when the check times out, so Secrets Manager retries', async () => {
    const secret = await prepared();
    h.momento.hangNextVerify();

    await expect(h.step('testSecret', secret.arn, TOKEN)).rejects.toThrow(/CLIENT_DEADLINE/);
  });

  it('sends the key only, never the refresh token', async () => {
    const secret = await prepared();

    await h.step('testSecret', secret.arn, TOKEN);

    const pending = JSON.parse(pendingValue(secret.arn) ?? '{}');
    expect(h.momento.verifyCalls).toEqual([pending.apiKey]);
    expect(h.momento.verifyCalls).not.toContain(pending.refreshToken);
    expect(h.momento.refreshCalls).toHaveLength(1);
  });

  it('rejects a pending pair that is not newer than AWSCURRENT', async () => {
    const secret = h.addManagedSecret('momento/api-key');
    const older = { ...secret.pair, validUntil: secret.pair.validUntil - 60 };
    h.model.addPendingStub(secret.arn, TOKEN, JSON.stringify({ ...older, apiKey: secretMaterial('key') }));

    await expect(h.step('testSecret', secret.arn, TOKEN)).rejects.toThrow(/is not later than AWSCURRENT/);
    expect(h.momento.verifyCalls).toHaveLength(0);
  });

  it('passes a pending pair issued within the same second as the current one (equal validUntil)', async () => {
    const secret = h.addManagedSecret('momento/api-key', { ageSeconds: 0 });
    h.model.addPendingStub(secret.arn, TOKEN);
    h.nowMs += 500;
    await h.step('createSecret', secret.arn, TOKEN);
    const pending = JSON.parse(pendingValue(secret.arn) ?? '{}');
    expect(pending.validUntil).toBe(secret.pair.validUntil);

    await expect(h.step('testSecret', secret.arn, TOKEN)).resolves.toMatchObject({ outcome: 'done' });
  });

  it('rejects a pending version that holds the current pair again', async () => {
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN, JSON.stringify(secret.pair));

    await expect(h.step('testSecret', secret.arn, TOKEN)).rejects.toThrow(/is not later than AWSCURRENT/);
  });

  it("passes an empty pending version: Secrets Manager's configuration test (RotateImmediately=false)", async () => {
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);

    await expect(h.step('testSecret', secret.arn, TOKEN)).resolves.toMatchObject({ outcome: 'done' });

    expect(h.momento.verifyCalls).toHaveLength(0);
    expect(h.momento.refreshCalls).toHaveLength(0);
  });

  it('never lets finishSecret promote an empty pending version', async () => {
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);

    await expect(h.step('finishSecret', secret.arn, TOKEN)).rejects.toThrow(
      /holds no value; an empty version/,
    );

    expect(h.model.sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
    expect(h.model.stagesOf(secret.arn)[secret.versionId]).toEqual(['AWSCURRENT']);
  });
});

describe('failure fails', () => {
  it('rejects (never resolves with an error object) when finishSecret cannot move the label', async () => {
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    await h.step('createSecret', secret.arn, TOKEN);
    h.model.sm.on(UpdateSecretVersionStageCommand).rejects(serviceError());

    await expect(h.step('finishSecret', secret.arn, TOKEN)).rejects.toThrow();
    expect(metricCount('RotationFailed')).toBe(1);
  });

  it.each([
    ['an empty object', {}],
    ['a step name AWS does not send', { Step: 'dropSecret', SecretId: 'x', ClientRequestToken: 'y' }],
    ['a step without a token', { Step: 'createSecret', SecretId: 'x' }],
    ['null', null],
  ])('rejects %s with the accepted shapes, writing nothing', async (_label, event) => {
    h.addManagedSecret('momento/api-key');

    await expect(h.invoke(event)).rejects.toThrow(/accepted shapes/);

    expect(h.model.sm.calls()).toHaveLength(0);
    expect(h.momento.refreshCalls).toHaveLength(0);
  });
});
