import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { type ContextSource, readDeployContext } from '../../bin/context';
import { projectContext } from './synth';

/** The context `cdk deploy -c key=value ...` gives the app: cdk.json's flags plus the options, as strings. */
function context(options: Record<string, unknown>): ContextSource {
  const all = { ...projectContext(), 'aws:cdk:enable-path-metadata': true, ...options };
  return {
    tryGetContext: (key) => all[key as keyof typeof all],
    getAllContext: () => all,
  };
}

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:team/momento-AbCdEf';

describe('deploy options', () => {
  it('reads the one-command deployment', () => {
    expect(readDeployContext(context({ secretName: 'momento/api-key' }))).toEqual({
      secretNames: ['momento/api-key'],
      existingSecretArns: undefined,
      existingSecretsKeyArn: undefined,
      alarmEmail: undefined,
      alarmTopicArn: undefined,
      schedulePeriod: undefined,
      rotateAtRemainingFraction: undefined,
    });
  });

  it('reads every option, splitting comma-separated lists', () => {
    const props = readDeployContext(
      context({
        secretName: 'a, b ,c',
        existingSecretArn: `${ARN},${ARN.replace('AbCdEf', 'XyZ123')}`,
        existingSecretKmsKeyArn:
          'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        alarmEmail: 'ops@example.com',
        alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:on-call',
        scheduleMinutes: '60',
        rotateAtRemainingFraction: '0.5',
      }),
    );
    expect(props).toEqual({
      secretNames: ['a', 'b', 'c'],
      existingSecretArns: [ARN, ARN.replace('AbCdEf', 'XyZ123')],
      existingSecretsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      alarmEmail: 'ops@example.com',
      alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:on-call',
      schedulePeriod: Duration.minutes(60),
      rotateAtRemainingFraction: 0.5,
    });
  });

  it('accepts numbers and lists written in cdk.json', () => {
    const props = readDeployContext(context({ secretName: ['a', 'b'], scheduleMinutes: 15 }));
    expect(props.secretNames).toEqual(['a', 'b']);
    expect(props.schedulePeriod?.toMinutes()).toBe(15);
  });

  it.each([
    [{}, 'name the secrets to manage: -c secretName=momento/api-key to create one'],
    [
      { secretName: ' , ' },
      '-c secretName must be secret names to create, comma-separated (letters, digits and /_+=.@-) (received " , ")',
    ],
    [
      { secretName: 'bad name' },
      '-c secretName must be secret names to create, comma-separated (letters, digits and /_+=.@-) (received "bad name")',
    ],
    [{ secretName: 'a,a' }, '-c secretName names "a" twice (received "a,a")'],
    [
      { existingSecretArn: 'team/momento' },
      '-c existingSecretArn must be complete ARNs of existing secrets to manage, comma-separated (received "team/momento")',
    ],
    [{ existingSecretArn: ARN.replace('-AbCdEf', '') }, `(received "${ARN.replace('-AbCdEf', '')}")`],
    [
      { secretName: 'a', existingSecretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/k' },
      '-c existingSecretKmsKeyArn applies to the secrets of -c existingSecretArn, which is not given',
    ],
    [
      { existingSecretArn: ARN, existingSecretKmsKeyArn: 'alias/mine' },
      '-c existingSecretKmsKeyArn must be ARN of the customer managed KMS key of the existing secrets (received "alias/mine")',
    ],
    [
      { secretName: 'a', alarmEmail: 'ops' },
      '-c alarmEmail must be an email address to subscribe to the alarm topic (received "ops")',
    ],
    [
      { secretName: 'a', alarmTopicArn: 'on-call' },
      '-c alarmTopicArn must be ARN of an existing SNS topic for the alarms (received "on-call")',
    ],
    [
      { secretName: 'a', scheduleMinutes: '4' },
      '-c scheduleMinutes must be minutes between sweeps, a whole number from 5 to 1440 (received "4")',
    ],
    [{ secretName: 'a', scheduleMinutes: '1441' }, '(received "1441")'],
    [{ secretName: 'a', scheduleMinutes: '7.5' }, '(received "7.5")'],
    [{ secretName: 'a', scheduleMinutes: 'hourly' }, '(received "hourly")'],
    [{ secretName: 'a', scheduleMinutes: '0x10' }, '(received "0x10")'],
    [{ secretName: 'a', scheduleMinutes: '1e1' }, '(received "1e1")'],
    [{ secretName: 'a', scheduleMinutes: ' ' }, undefined],
    [
      { secretName: 'a', rotateAtRemainingFraction: '1' },
      '-c rotateAtRemainingFraction must be rotate when this fraction of a key lifetime remains, greater than 0 and less than 1 (received "1")',
    ],
    [{ secretName: 'a', rotateAtRemainingFraction: '0' }, '(received "0")'],
    [{ secretName: 'a', rotateAtRemainingFraction: 'half' }, '(received "half")'],
    [{ secretName: 'a', rotateAtRemainingFraction: '5e-1' }, '(received "5e-1")'],
    [{ secretName: 'a', rotateAtRemainingFraction: '0x1' }, '(received "0x1")'],
    [
      { existingSecretArn: `${ARN},${ARN.replace('eu-west-1', 'us-east-1').replace('team/', 'other/')}` },
      '-c existingSecretArn must name secrets in the account and region of the first ARN (123456789012, eu-west-1); ' +
        'received "arn:aws:secretsmanager:us-east-1:123456789012:secret:other/momento-AbCdEf", in 123456789012, us-east-1',
    ],
    [
      { secretName: 'a', schedulMinutes: '5' },
      'unknown option -c schedulMinutes; the options are: secretName, existingSecretArn',
    ],
  ])('refuses %o, showing the value received and what is allowed', (options, message) => {
    expect(() => readDeployContext(context(options))).toThrow(message);
  });

  it('accepts fractions written with or without a leading zero', () => {
    for (const written of ['0.25', '.25']) {
      const props = readDeployContext(context({ secretName: 'a', rotateAtRemainingFraction: written }));
      expect(props.rotateAtRemainingFraction).toBe(0.25);
    }
  });

  it('refuses existing secrets outside the account and region the CLI deploys to', () => {
    const options = context({ existingSecretArn: ARN });
    expect(
      readDeployContext(options, { account: '123456789012', region: 'eu-west-1' }).existingSecretArns,
    ).toEqual([ARN]);
    expect(() => readDeployContext(options, { account: '123456789012', region: 'us-east-1' })).toThrow(
      '-c existingSecretArn must name secrets in the account and region of the deployment (123456789012, us-east-1); ' +
        `received "${ARN}", in 123456789012, eu-west-1`,
    );
    expect(() => readDeployContext(options, { account: '210987654321' })).toThrow(
      'of the deployment (210987654321, eu-west-1)',
    );
  });
});
