import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
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
  it('reads the one-command deployment, under the stack name every earlier release used', () => {
    expect(readDeployContext(context({ secretName: 'momento/api-key' }))).toEqual({
      stackName: 'MomentoTokenRotator',
      overridden: [],
      props: {
        secretNames: ['momento/api-key'],
        existingSecretArns: undefined,
        secretTag: undefined,
        existingSecretsKeyArn: undefined,
        alarmEmail: undefined,
        alarmTopicArn: undefined,
        schedulePeriod: undefined,
        rotateAtRemainingFraction: undefined,
      },
    });
  });

  it('reads every option, splitting comma-separated lists', () => {
    const options = readDeployContext(
      context({
        stackName: 'team-b',
        secretName: 'a, b ,c',
        existingSecretArn: `${ARN},${ARN.replace('AbCdEf', 'XyZ123')}`,
        existingSecretKmsKeyArn:
          'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        alarmEmail: 'ops@example.com',
        alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:on-call',
        secretTag: 'team=platform',
        scheduleMinutes: '60',
        rotateAtRemainingFraction: '0.5',
      }),
    );
    expect(options).toEqual({
      stackName: 'team-b',
      overridden: [],
      props: {
        secretNames: ['a', 'b', 'c'],
        existingSecretArns: [ARN, ARN.replace('AbCdEf', 'XyZ123')],
        secretTag: { key: 'team', value: 'platform' },
        existingSecretsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        alarmEmail: 'ops@example.com',
        alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:on-call',
        schedulePeriod: Duration.minutes(60),
        rotateAtRemainingFraction: 0.5,
      },
    });
  });

  it('accepts numbers and lists written in cdk.json', () => {
    const { props } = readDeployContext(context({ secretName: ['a', 'b'], scheduleMinutes: 15 }));
    expect(props.secretNames).toEqual(['a', 'b']);
    expect(props.schedulePeriod?.toMinutes()).toBe(15);
  });

  it.each([
    [{}, 'name the secrets to manage: secretName=momento/api-key to create one'],
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
      '-c existingSecretKmsKeyArn applies to the secrets of existingSecretArn or secretTag, neither of which is given',
    ],
    [
      { existingSecretArn: ARN, existingSecretKmsKeyArn: 'alias/mine' },
      '-c existingSecretKmsKeyArn must be ARN of the customer managed KMS key of the existing or tagged secrets (received "alias/mine")',
    ],
    [
      { secretName: 'a', stackName: '1st' },
      '-c stackName must be the name of this deployment: a letter, then letters, digits and hyphens, at most 56 ' +
        'characters (the function is <stackName>-rotator, and Lambda allows 64) (received "1st")',
    ],
    [{ secretName: 'a', stackName: 'team_b' }, '(received "team_b")'],
    [{ secretName: 'a', stackName: 'x'.repeat(57) }, `(received "${'x'.repeat(57)}")`],
    [
      { secretTag: 'aws:cloudformation:stack-name' },
      '-c secretTag must be a tag that selects secrets to manage, as key or key=value (letters, digits, spaces and ' +
        '_.:/+@-; the key not starting with aws:) (received "aws:cloudformation:stack-name")',
    ],
    [{ secretTag: 'team=' }, '(received "team=")'],
    [{ secretTag: '=platform' }, '(received "=platform")'],
    [{ secretTag: 'team =platform' }, '(received "team =platform")'],
    [{ secretTag: 'team=plat*form' }, '(received "team=plat*form")'],
    [{ secretTag: ['team'] }, '(received ["team"])'],
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
      'unknown option -c schedulMinutes; the options are: optionsFile, stackName, secretName, existingSecretArn',
    ],
  ])('refuses %o, showing the value received and what is allowed', (options, message) => {
    expect(() => readDeployContext(context(options))).toThrow(message);
  });

  it('accepts fractions written with or without a leading zero', () => {
    for (const written of ['0.25', '.25']) {
      const { props } = readDeployContext(context({ secretName: 'a', rotateAtRemainingFraction: written }));
      expect(props.rotateAtRemainingFraction).toBe(0.25);
    }
  });

  it('refuses existing secrets outside the account and region the CLI deploys to', () => {
    const options = context({ existingSecretArn: ARN });
    expect(
      readDeployContext(options, { account: '123456789012', region: 'eu-west-1' }).props.existingSecretArns,
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

describe('the tag option', () => {
  it('selects by key alone, or by key and value split at the first =', () => {
    expect(readDeployContext(context({ secretTag: 'momento-rotated' })).props.secretTag).toEqual({
      key: 'momento-rotated',
    });
    expect(readDeployContext(context({ secretTag: ' team=platform ' })).props.secretTag).toEqual({
      key: 'team',
      value: 'platform',
    });
    expect(readDeployContext(context({ secretTag: 'owner=a=b' })).props.secretTag).toEqual({
      key: 'owner',
      value: 'a=b',
    });
  });

  it('is enough on its own, and lets the customer key apply to the tagged secrets', () => {
    const key = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const { props } = readDeployContext(
      context({ secretTag: 'team=platform', existingSecretKmsKeyArn: key }),
    );
    expect(props).toMatchObject({
      secretNames: undefined,
      existingSecretArns: undefined,
      existingSecretsKeyArn: key,
    });
  });
});

describe('an options file', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  /** A project directory with an optional cdk.json context and files, as `cdk deploy` runs the app in. */
  function project(files: Record<string, unknown>): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'momento-rotator-options-'));
    dirs.push(dir);
    for (const [name, content] of Object.entries(files)) {
      writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
    }
    return dir;
  }
  const teamB = { stackName: 'team-b', secretName: ['momento/b1', 'momento/b2'], scheduleMinutes: 30 };

  it('holds the options of one deployment, read as if they were given with -c', () => {
    const dir = project({ 'team-b.json': teamB });
    const fromFile = readDeployContext(context({ optionsFile: 'team-b.json' }), {}, dir);
    const fromFlags = readDeployContext(
      context({ stackName: 'team-b', secretName: 'momento/b1,momento/b2', scheduleMinutes: '30' }),
      {},
      dir,
    );
    expect(fromFile).toEqual(fromFlags);
    expect(fromFile.stackName).toBe('team-b');
  });

  it('gives way to -c for one run, and says which options it overrode', () => {
    const dir = project({ 'team-b.json': teamB });
    const options = readDeployContext(
      context({ optionsFile: 'team-b.json', scheduleMinutes: '15' }),
      {},
      dir,
    );
    expect(options.props.schedulePeriod?.toMinutes()).toBe(15);
    expect(options.props.secretNames).toEqual(['momento/b1', 'momento/b2']);
    expect(options.overridden).toEqual(['scheduleMinutes']);
  });

  it.each([
    [
      { 'cdk.json': { context: { secretName: 'momento/a' } }, 'team-b.json': teamB },
      'secretName is kept both in cdk.json and in team-b.json; keep each option in one place',
    ],
    [{}, '-c optionsFile names "team-b.json", which cannot be read (ENOENT)'],
    [{ 'team-b.json': '{"stackName": ' }, 'team-b.json is not JSON: '],
    [{ 'team-b.json': ['momento/a'] }, 'team-b.json must hold one JSON object of options'],
    [
      { 'team-b.json': { ...teamB, secretNames: ['x'] } },
      'unknown option secretNames in team-b.json; the options are: optionsFile, stackName',
    ],
    [
      { 'team-b.json': { ...teamB, scheduleMinutes: 4 } },
      'scheduleMinutes in team-b.json must be minutes between sweeps, a whole number from 5 to 1440 (received 4)',
    ],
    [{ 'team-b.json': { ...teamB, optionsFile: 'other.json' } }, 'team-b.json names another options file'],
  ])('is refused when it cannot be trusted (%o)', (files, message) => {
    const dir = project(files);
    expect(() => readDeployContext(context({ optionsFile: 'team-b.json' }), {}, dir)).toThrow(message);
  });
});
