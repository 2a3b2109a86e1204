import {
  PutSecretValueCommand,
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_PLAUSIBLE_LIFETIME_SECONDS, parseSecret } from '../../src/rotation/secret-value';
import { DAY, Harness } from '../support/harness';
import { capturedOutput, metricCount, secretMaterial } from '../support/secret-material';

const TOKEN = '5a0c7e21-0000-4000-8000-00000000beef';

let h: Harness;
beforeEach(() => {
  h = new Harness();
});

/** The harness's clock at the start of every test (cases are built when the file is collected). */
const NOW_MS = new Harness().nowMs;
const nowSeconds = () => Math.floor(NOW_MS / 1000);

/**
 * Values that cannot be true, each with the field the refusal must name. Keys and tokens are registered
 * material, so that an error or a log quoting any part of them fails the file's no-secret check.
 */
function implausibleValues(): Array<[string, Record<string, unknown>, string]> {
  const apiKey = secretMaterial('key');
  const refreshToken = secretMaterial('rt');
  const inSeconds = nowSeconds() + 30 * DAY;
  return [
    ['validUntil in milliseconds', { apiKey, refreshToken, validUntil: inSeconds * 1000 }, 'validUntil'],
    ['validUntil in microseconds', { apiKey, refreshToken, validUntil: inSeconds * 1_000_000 }, 'validUntil'],
    ['validUntil in the year 3000', { apiKey, refreshToken, validUntil: 32_503_680_000 }, 'validUntil'],
    ['validUntil of 2^32', { apiKey, refreshToken, validUntil: 2 ** 32 }, 'validUntil'],
    [
      'validUntil of MAX_SAFE_INTEGER',
      { apiKey, refreshToken, validUntil: Number.MAX_SAFE_INTEGER },
      'validUntil',
    ],
    ['a 400-digit validUntil string', { apiKey, refreshToken, validUntil: '9'.repeat(400) }, 'validUntil'],
    [
      'validUntil one second past the ten-year bound',
      { apiKey, refreshToken, validUntil: nowSeconds() + MAX_PLAUSIBLE_LIFETIME_SECONDS + 1 },
      'validUntil',
    ],
    ['a duration instead of an epoch', { apiKey, refreshToken, validUntil: 3600 }, 'validUntil'],
    ['a refresh token without validUntil', { apiKey, refreshToken }, 'validUntil'],
    [
      'a refresh token with ValidUntil spelt with a capital V',
      { apiKey, refreshToken, ValidUntil: inSeconds },
      'validUntil',
    ],
    ['a refresh token with validUntil null', { apiKey, refreshToken, validUntil: null }, 'validUntil'],
    ['a newline inside the key', { apiKey: `${apiKey}\n`, refreshToken, validUntil: inSeconds }, 'apiKey'],
    [
      'a tab inside the refresh token',
      {
        apiKey,
        refreshToken: `${refreshToken.slice(0, 10)}\t${refreshToken.slice(10)}`,
        validUntil: inSeconds,
      },
      'refreshToken',
    ],
    [
      'a no-break space inside the key',
      { apiKey: `${apiKey}\u00a0`, refreshToken, validUntil: inSeconds },
      'apiKey',
    ],
    [
      'an emoji inside the refresh token',
      { apiKey, refreshToken: `${refreshToken}🔑`, validUntil: inSeconds },
      'refreshToken',
    ],
    [
      'a space inside authToken',
      { authToken: ` ${apiKey}`, refreshToken, validUntil: inSeconds },
      'authToken',
    ],
  ];
}

describe('values that cannot be true are refused, naming the secret, the version and the field', () => {
  it.each(implausibleValues())('parse refuses %s', (_label, value, field) => {
    expect(() => parseSecret(JSON.stringify(value), 'momento/api-key', 'v-1', h.nowMs)).toThrow(
      expect.objectContaining({
        name: 'MalformedSecretError',
        field,
        message: expect.stringMatching(new RegExp(`^secret momento/api-key version v-1: field "${field}"`)),
      }),
    );
  });

  it('accepts a key valid for exactly ten years, and one that expired yesterday', () => {
    const apiKey = secretMaterial('key');
    const refreshToken = secretMaterial('rt');
    for (const validUntil of [nowSeconds() + MAX_PLAUSIBLE_LIFETIME_SECONDS, nowSeconds() - DAY]) {
      expect(
        parseSecret(JSON.stringify({ apiKey, refreshToken, validUntil }), 'momento/api-key', 'v-1', h.nowMs),
      ).toMatchObject({ kind: 'rotatable', validUntil });
    }
  });

  it.each(implausibleValues())(
    'the sweep rejects %s naming the secret, counts MalformedSecret, and writes nothing',
    async (_label, value, field) => {
      // Prepare: one bad secret beside a good, due one.
      const bad = h.addManagedValue('team/bad-key', JSON.stringify(value));
      const good = h.addManagedSecret('team/good-key');

      // Act
      const outcome = h.invoke(h.scheduledEvent());

      // Assess
      await expect(outcome).rejects.toMatchObject({
        name: 'SweepFailedError',
        message: expect.stringMatching(/team\/bad-key \(MalformedSecretError\)/),
      });
      expect(capturedOutput()).toMatch(new RegExp(`field \\\\?"${field}\\\\?"`));
      expect(metricCount('MalformedSecret')).toBe(1);
      expect(h.model.sm.commandCalls(RotateSecretCommand).map((c) => c.args[0].input.SecretId)).toEqual([
        good.arn,
      ]);
      expect(h.model.sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
      expect(h.momento.refreshCalls).toHaveLength(0);
      expect(bad.arn).toBeDefined();
    },
  );

  it('status reports a malformed secret as malformed, naming the field, without failing the others', async () => {
    const [, value] = implausibleValues()[0] as [string, Record<string, unknown>, string];
    h.addManagedValue('team/bad-key', JSON.stringify(value));
    h.addManagedSecret('team/good-key');

    const status = await h.invoke({ action: 'status' });

    expect(status).toMatchObject({
      secrets: expect.arrayContaining([
        expect.objectContaining({
          secretId: 'team/bad-key',
          state: 'malformed',
          error: expect.stringMatching(/field "validUntil"/),
        }),
        expect.objectContaining({ secretId: 'team/good-key', state: 'due' }),
      ]),
    });
    expect(metricCount('MalformedSecret')).toBe(1);
  });

  it('a forced rotation of a malformed secret rejects naming the field, with no refresh and nothing written', async () => {
    const [, value] = implausibleValues()[0] as [string, Record<string, unknown>, string];
    const bad = h.addManagedValue('team/bad-key', JSON.stringify(value));

    await expect(h.invoke({ action: 'rotate', force: true, secretId: bad.name })).rejects.toMatchObject({
      name: 'MalformedSecretError',
      message: expect.stringMatching(/team\/bad-key.*field "validUntil"/),
    });
    expect(metricCount('MalformedSecret')).toBe(1);
    expect(h.model.sm.commandCalls(RotateSecretCommand)).toHaveLength(0);
    expect(h.momento.refreshCalls).toHaveLength(0);
  });

  it.each(implausibleValues())(
    'createSecret refuses %s before any refresh, with nothing written',
    async (_label, value) => {
      const bad = h.addManagedValue('team/bad-key', JSON.stringify(value));
      h.model.addPendingStub(bad.arn, TOKEN);

      await expect(h.step('createSecret', bad.arn, TOKEN)).rejects.toMatchObject({
        name: 'MalformedSecretError',
      });
      expect(metricCount('MalformedSecret')).toBe(1);
      expect(h.momento.refreshCalls).toHaveLength(0);
      expect(h.model.sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
      expect(h.model.sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
    },
  );
});
