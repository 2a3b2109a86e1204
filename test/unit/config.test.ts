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

describe('secrets selected by a tag', () => {
  const FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:team-b-rotator';

  it('reads the tag, key alone or key=value split at the first =, with the function to wire them to', () => {
    expect(
      loadConfig({ ROTATOR_SECRET_TAG: 'team=platform', ROTATOR_FUNCTION_ARN: FUNCTION_ARN }),
    ).toMatchObject({
      secretIds: [],
      secretTag: { key: 'team', value: 'platform' },
      rotationFunctionArn: FUNCTION_ARN,
    });
    expect(
      loadConfig({ ROTATOR_SECRET_TAG: 'momento', ROTATOR_FUNCTION_ARN: FUNCTION_ARN }).secretTag,
    ).toEqual({
      key: 'momento',
    });
    expect(
      loadConfig({ ROTATOR_SECRET_TAG: 'owner=a=b', ROTATOR_FUNCTION_ARN: FUNCTION_ARN }).secretTag,
    ).toEqual({ key: 'owner', value: 'a=b' });
  });

  it('manages named secrets beside the tagged ones', () => {
    const config = loadConfig({ ...valid, ROTATOR_SECRET_TAG: 'team', ROTATOR_FUNCTION_ARN: FUNCTION_ARN });
    expect(config.secretIds).toEqual(['momento/api-key']);
    expect(config.secretTag).toEqual({ key: 'team' });
  });

  it.each([
    [
      'ROTATOR_SECRET_TAG',
      { ROTATOR_SECRET_TAG: 'aws:cloudformation:stack-name', ROTATOR_FUNCTION_ARN: FUNCTION_ARN },
    ],
    ['ROTATOR_SECRET_TAG', { ROTATOR_SECRET_TAG: 'team=', ROTATOR_FUNCTION_ARN: FUNCTION_ARN }],
    ['ROTATOR_SECRET_TAG', { ROTATOR_SECRET_TAG: 'team =x', ROTATOR_FUNCTION_ARN: FUNCTION_ARN }],
    ['ROTATOR_SECRET_TAG', { ROTATOR_SECRET_TAG: 'te*m', ROTATOR_FUNCTION_ARN: FUNCTION_ARN }],
    ['ROTATOR_FUNCTION_ARN', { ROTATOR_SECRET_TAG: 'team' }],
    ['ROTATOR_FUNCTION_ARN', { ROTATOR_SECRET_TAG: 'team', ROTATOR_FUNCTION_ARN: `${FUNCTION_ARN}:live` }],
    ['ROTATOR_FUNCTION_ARN', { ...valid, ROTATOR_FUNCTION_ARN: 'team-b-rotator' }],
  ])('rejects a bad %s naming the variable (%j)', (variable, env) => {
    const load = () => loadConfig(env);

    expect(load).toThrow(ConfigError);
    expect(load).toThrow(new RegExp(`^${variable}: `));
  });

  it('still requires a secret when no tag selects any', () => {
    expect(() => loadConfig({})).toThrow(
      'ROTATOR_SECRET_IDS: is required: comma-separated names or ARNs of the managed secrets (or set ' +
        'ROTATOR_SECRET_TAG to select them by tag) (received null)',
    );
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
