import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';

const valid = { ROTATOR_SECRET_IDS: 'momento/api-key' };

describe('configuration from the environment', () => {
  it('reads the defaults when only the secret ids are set', () => {
    expect(loadConfig(valid)).toEqual({
      secretIds: ['momento/api-key'],
      rotateAtRemainingFraction: 0.5,
      rotateWithinSeconds: 7200,
      momentoEndpointOverride: undefined,
    });
  });

  it('reads every variable, trimming the comma-separated ids', () => {
    const config = loadConfig({
      ROTATOR_SECRET_IDS: ' a , arn:aws:secretsmanager:us-east-1:123456789012:secret:b-AbCdEf ,',
      ROTATE_AT_REMAINING_FRACTION: '0.25',
      ROTATE_WITHIN_SECONDS: '600',
      MOMENTO_ENDPOINT_OVERRIDE: '127.0.0.1:50051',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:4566',
    });

    expect(config).toEqual({
      secretIds: ['a', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:b-AbCdEf'],
      rotateAtRemainingFraction: 0.25,
      rotateWithinSeconds: 600,
      momentoEndpointOverride: '127.0.0.1:50051',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    ['ROTATOR_SECRET_IDS', {}],
    ['ROTATOR_SECRET_IDS', { ROTATOR_SECRET_IDS: ' , ' }],
    ['ROTATOR_SECRET_IDS', { ROTATOR_SECRET_IDS: 'a,a' }],
    ['ROTATOR_SECRET_IDS', { ROTATOR_SECRET_IDS: 'arn:x' }],
    ['ROTATOR_SECRET_IDS', { ROTATOR_SECRET_IDS: 'arn:aws:lambda:us-east-1:123456789012:function:f' }],
    ['ROTATOR_SECRET_IDS', { ROTATOR_SECRET_IDS: 'momento/api key' }],
    ['ROTATE_AT_REMAINING_FRACTION', { ...valid, ROTATE_AT_REMAINING_FRACTION: 'half' }],
    ['ROTATE_AT_REMAINING_FRACTION', { ...valid, ROTATE_AT_REMAINING_FRACTION: '1.5' }],
    ['ROTATE_AT_REMAINING_FRACTION', { ...valid, ROTATE_AT_REMAINING_FRACTION: '0' }],
    ['ROTATE_WITHIN_SECONDS', { ...valid, ROTATE_WITHIN_SECONDS: '-1' }],
    ['ROTATE_WITHIN_SECONDS', { ...valid, ROTATE_WITHIN_SECONDS: '1.5' }],
    ['ROTATE_WITHIN_SECONDS', { ...valid, ROTATE_WITHIN_SECONDS: 'two hours' }],
    ['MOMENTO_ENDPOINT_OVERRIDE', { ...valid, MOMENTO_ENDPOINT_OVERRIDE: 'localhost' }],
    ['MOMENTO_ENDPOINT_OVERRIDE', { ...valid, MOMENTO_ENDPOINT_OVERRIDE: '127.0.0.1:99999' }],
    ['MOMENTO_ENDPOINT_OVERRIDE', { ...valid, MOMENTO_ENDPOINT_OVERRIDE: 'http://127.0.0.1:50051' }],
    ['AWS_ENDPOINT_URL_SECRETS_MANAGER', { ...valid, AWS_ENDPOINT_URL_SECRETS_MANAGER: '127.0.0.1:4566' }],
  ])('rejects a bad %s naming the variable (%j)', (variable, env) => {
    const load = () => loadConfig(env);

    expect(load).toThrow(ConfigError);
    expect(load).toThrow(new RegExp(`^${variable}: `));
  });
});

describe('the Lambda entry module', () => {
  it('fails at start with a ConfigError naming the variable when the environment is wrong', async () => {
    vi.stubEnv('ROTATOR_SECRET_IDS', '');
    vi.resetModules();

    await expect(import('../../src/handler')).rejects.toThrow(/^ROTATOR_SECRET_IDS: /);

    vi.unstubAllEnvs();
  });

  it('loads and exports a handler when the environment is right', async () => {
    vi.stubEnv('ROTATOR_SECRET_IDS', 'momento/api-key');
    vi.resetModules();

    const entry = await import('../../src/handler');

    expect(typeof entry.handler).toBe('function');
    vi.unstubAllEnvs();
  });
});
