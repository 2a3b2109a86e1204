import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import {
  MomentoKeyRotator,
  type MomentoKeyRotatorProps,
  MomentoTokenRotatorStack,
  SECRET_ACTIONS,
} from '../../lib';
import { emptyStack, newApp, only, rolePermissions, synthStack } from './synth';

const EXISTING = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:team/momento-AbCdEf';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:on-call';

// One synthesis for the file: several created secrets, an existing one, tuning, a given topic, an email.
const { template } = synthStack({
  secretNames: ['momento/a', 'momento/b'],
  existingSecretArns: [EXISTING],
  schedulePeriod: Duration.minutes(15),
  rotateAtRemainingFraction: 0.25,
  alarmTopicArn: TOPIC,
  alarmEmail: 'ops@example.com',
});
const created = Object.entries(template.findResources('AWS::SecretsManager::Secret'));
const createdRef = (name: string) => ({
  Ref: created.find(([, r]) => (r.Properties as { Name: string }).Name === name)?.[0],
});

describe('several secrets, one function', () => {
  it('creates the named secrets, retained, and imports the existing one without touching its value', () => {
    expect(created.map(([, r]) => (r.Properties as { Name: string }).Name).sort()).toEqual([
      'momento/a',
      'momento/b',
    ]);
    for (const [, resource] of created) expect(resource.DeletionPolicy).toBe('Retain');
  });

  it('tells the function every managed secret by ARN', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          ROTATOR_SECRET_IDS: {
            'Fn::Join': ['', [createdRef('momento/a'), ',', createdRef('momento/b'), `,${EXISTING}`]],
          },
        }),
      },
    });
  });

  it('sets up rotation with this function on every secret, none with a Secrets Manager schedule', () => {
    const schedules = Object.values(template.findResources('AWS::SecretsManager::RotationSchedule')).map(
      (r) => r.Properties as Record<string, unknown>,
    );
    expect(schedules.map((s) => s.SecretId)).toEqual([
      createdRef('momento/a'),
      createdRef('momento/b'),
      EXISTING,
    ]);
    for (const schedule of schedules) {
      expect(schedule.RotationRules).toBeUndefined();
      expect(schedule.RotateImmediatelyOnUpdate).toBe(false);
    }
  });

  it('scopes the secret actions to exactly the managed secrets', () => {
    const resources = rolePermissions(template)
      .filter((p) => p.action === 'secretsmanager:PutSecretValue')
      .map((p) => p.resource);
    expect(resources).toHaveLength(3);
    expect(resources).toEqual(
      expect.arrayContaining([createdRef('momento/a'), createdRef('momento/b'), EXISTING]),
    );
  });

  it('watches them all with one expiry alarm, on the deployment-wide series', () => {
    const expiry = Object.values(
      template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'SecondsUntilExpiry' } }),
    ).map((r) => (r.Properties as { Dimensions: { Name: string; Value: unknown }[] }).Dimensions);
    expect(expiry).toEqual([[{ Name: 'service', Value: 'MomentoTokenRotator' }]]);
  });

  it('prints a put command only for the secrets it created, and a rotate command for every secret', () => {
    const outputs = template.toJSON().Outputs as Record<
      string,
      { Value: { 'Fn::Join': [string, unknown[]] } }
    >;
    const text = (id: string) => JSON.stringify(outputs[id]?.Value);
    expect(text('PutSecretValueCommand1')).toContain('--secret-id momento/a ');
    expect(text('PutSecretValueCommand2')).toContain('--secret-id momento/b ');
    // A console download pasted over an existing secret's live pair would hold a spent refresh token.
    expect(Object.keys(outputs).filter((id) => id.startsWith('PutSecretValueCommand'))).toHaveLength(2);
    expect(Object.values(outputs).map((o) => JSON.stringify(o.Value))).not.toContainEqual(
      expect.stringMatching(/put-secret-value.*team\/momento/),
    );
    expect(text('ForceRotateCommand3')).toContain('\\"secretId\\":\\"team/momento\\"');
  });
});

describe('tuning', () => {
  it('runs the sweep on the given period and measures everything in it', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      Targets: [
        Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 900 } }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumEventAgeInSeconds: 900 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ ROTATE_AT_REMAINING_FRACTION: '0.25', ROTATE_WITHIN_SECONDS: '1800' }),
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'SweepCompleted',
      Period: 900,
      EvaluationPeriods: 2,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'SecondsUntilExpiry',
      Period: 900,
      Threshold: 900,
    });
  });
});

const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const anySecretHere = {
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':secretsmanager:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      ':secret:*',
    ],
  ],
};
/** The role's statements, actions sorted (CDK merges and orders them its own way). */
const policyStatements = (t: Template) =>
  Object.values(t.findResources('AWS::IAM::Policy'))
    .flatMap(
      (p) =>
        (p.Properties as { PolicyDocument: { Statement: Record<string, unknown>[] } }).PolicyDocument
          .Statement,
    )
    .map((st) => (Array.isArray(st.Action) ? { ...st, Action: [...st.Action].sort() } : st));

describe('secrets selected by a tag', () => {
  // Only the tag: no secret named at deploy time, under a customer managed key.
  const { template: tagged } = synthStack({
    secretTag: { key: 'team', value: 'platform' },
    existingSecretsKeyArn: KEY,
  });

  it('tells the function the tag and no list of secrets', () => {
    const { properties } = only(tagged, 'AWS::Lambda::Function');
    const variables = (properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables.ROTATOR_SECRET_TAG).toBe('team=platform');
    expect(variables).not.toHaveProperty('ROTATOR_SECRET_IDS');
  });

  it('grants the secret actions only on secrets of this account and region that carry the tag', () => {
    expect(policyStatements(tagged).filter((st) => st.Sid === 'RotateTaggedSecrets')).toEqual([
      {
        Sid: 'RotateTaggedSecrets',
        Effect: 'Allow',
        Action: [...SECRET_ACTIONS].sort(),
        Resource: anySecretHere,
        Condition: { StringEquals: { 'secretsmanager:ResourceTag/team': 'platform' } },
      },
    ]);
    expect(policyStatements(tagged).filter((st) => st.Sid === 'RotateManagedSecrets')).toEqual([]);
  });

  it('uses the customer key only through Secrets Manager, for secrets of this account and region', () => {
    expect(policyStatements(tagged).filter((st) => st.Sid === 'UseKeyOfTaggedSecrets')).toEqual([
      {
        Sid: 'UseKeyOfTaggedSecrets',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: KEY,
        Condition: {
          StringEquals: {
            'kms:ViaService': {
              'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
            },
          },
          StringLike: { 'kms:EncryptionContext:SecretARN': anySecretHere },
        },
      },
    ]);
  });

  it('wires no secret at deploy time: the first rotation the function starts does', () => {
    tagged.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
    tagged.resourceCountIs('AWS::SecretsManager::Secret', 0);
  });

  it('by key alone, grants on every secret that carries the key, whatever its value', () => {
    const { template: byKey } = synthStack({
      secretTag: { key: 'momento-rotated' },
      secretNames: ['momento/a'],
    });
    expect(policyStatements(byKey).find((st) => st.Sid === 'RotateTaggedSecrets')?.Condition).toEqual({
      Null: { 'secretsmanager:ResourceTag/momento-rotated': 'false' },
    });
    // The named secret keeps its own statement and its rotation wiring beside the tag.
    expect(policyStatements(byKey).find((st) => st.Sid === 'RotateManagedSecrets')).toBeDefined();
    byKey.resourceCountIs('AWS::SecretsManager::RotationSchedule', 1);
  });
});

// The construct alone, in a stack of its own: a secret known only by its name, the longest schedule.
const daily = (() => {
  const stack = emptyStack();
  new MomentoKeyRotator(stack, 'Rotator', {
    secrets: [secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'momento/api-key')],
    schedulePeriod: Duration.days(1),
  });
  return Template.fromStack(stack);
})();

describe('the longest schedule', () => {
  it('keeps every age and alarm period within what each service accepts', () => {
    daily.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 day)',
      Targets: [
        Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 86_400 } }),
      ],
    });
    daily.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumEventAgeInSeconds: 21_600 });
    daily.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'SweepCompleted',
      Period: 86_400,
      EvaluationPeriods: 2,
    });
    daily.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ ROTATE_WITHIN_SECONDS: '172800' }) },
    });
  });
});

describe('a given alarm topic', () => {
  it('receives every alarm, and the stack creates no topic of its own', () => {
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.resourceCountIs('AWS::KMS::Key', 0);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toEqual([TOPIC]);
      expect(alarm.Properties.OKActions).toEqual([TOPIC]);
    }
    template.hasOutput('AlarmTopicArn', { Value: TOPIC });
  });

  it('gets the email subscription', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      TopicArn: TOPIC,
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });
});

describe('the construct', () => {
  const secretIn = (stack: ReturnType<typeof emptyStack>, name = 'momento/api-key') =>
    secretsmanager.Secret.fromSecretNameV2(stack, `S-${name}`, name);
  const build = (props: Partial<MomentoKeyRotatorProps>) => () => {
    const stack = emptyStack();
    new MomentoKeyRotator(stack, 'Rotator', { secrets: [secretIn(stack)], ...props });
  };

  it.each([
    [{ secrets: [] }, 'secrets or secretTag must select at least one secret (received neither)'],
    [
      { deploymentName: 'team_b' },
      'deploymentName must be a letter, then letters, digits and hyphens, at most 56 characters, so that the ' +
        'function name <deploymentName>-rotator fits Lambda\'s 64 (received "team_b"); the default is the stack name',
    ],
    [
      { deploymentName: 'x'.repeat(57) },
      'deploymentName must be a letter, then letters, digits and hyphens, at most 56 characters, so that the ' +
        `function name <deploymentName>-rotator fits Lambda's 64 (received "${'x'.repeat(57)}", 57 characters); ` +
        'the default is the stack name',
    ],
    [
      { secretTag: { key: 'aws:cloudformation:stack-name' } },
      'secretTag.key must be 1 to 128 letters, digits, spaces and _.:/+@-, not starting with aws: and without ' +
        'leading or trailing spaces (received "aws:cloudformation:stack-name")',
    ],
    [
      { secretTag: { key: 'team=x' } },
      'secretTag.key must be 1 to 128 letters, digits, spaces and _.:/+@-, not starting with aws: and without ' +
        'leading or trailing spaces (received "team=x")',
    ],
    [
      { secretTag: { key: 'team', value: 'plat*form' } },
      'secretTag.value must be 1 to 256 letters, digits, spaces and _.:/=+@-, without leading or trailing spaces ' +
        '(received "plat*form")',
    ],
    [
      { uninitialisedAlarmAfter: Duration.seconds(0) },
      'uninitialisedAlarmAfter must be a whole number of seconds longer than 0 (received 0 seconds)',
    ],
    [
      { schedulePeriod: Duration.minutes(1) },
      'schedulePeriod must be a whole number of minutes from 5 to 1440 (received 1 minute)',
    ],
    [
      { schedulePeriod: Duration.seconds(330) },
      'schedulePeriod must be a whole number of minutes from 5 to 1440 (received 5 minutes 30 seconds)',
    ],
    [
      { schedulePeriod: Duration.days(2) },
      'schedulePeriod must be a whole number of minutes from 5 to 1440 (received 2 days)',
    ],
    [
      { rotateAtRemainingFraction: 0 },
      'rotateAtRemainingFraction must be greater than 0 and less than 1 (received 0)',
    ],
    [
      { rotateAtRemainingFraction: 1 },
      'rotateAtRemainingFraction must be greater than 0 and less than 1 (received 1)',
    ],
    [
      { rotateAtRemainingFraction: Number.NaN },
      'rotateAtRemainingFraction must be greater than 0 and less than 1 (received NaN)',
    ],
    [
      { rotateWithin: Duration.seconds(7200.5) },
      'rotateWithin must be a whole number of seconds longer than one schedule period (1 hour), so that a ' +
        'sweep finds every key due before it expires (received 2 hours 500 millis)',
    ],
    [
      { rotateWithin: Duration.hours(1) },
      'rotateWithin must be a whole number of seconds longer than one schedule period (1 hour), so that a ' +
        'sweep finds every key due before it expires (received 1 hour)',
    ],
    [
      { expiryAlarmThreshold: Duration.seconds(0) },
      'expiryAlarmThreshold must be longer than 0 and at most rotateWithin minus one schedule period (1 hour): ' +
        'a sweep that finds a key due may see that little left, and the alarm would fire on healthy rotations ' +
        '(received 0 seconds)',
    ],
    [
      { expiryAlarmThreshold: Duration.minutes(61) },
      'expiryAlarmThreshold must be longer than 0 and at most rotateWithin minus one schedule period (1 hour): ' +
        'a sweep that finds a key due may see that little left, and the alarm would fire on healthy rotations ' +
        '(received 1 hour 1 minute)',
    ],
    [{ timeout: Duration.seconds(30) }, 'timeout must be from 1 to 15 minutes (received 30 seconds)'],
    [{ memorySize: 100 }, 'memorySize must be a whole number of MiB from 128 to 10240 (received 100)'],
  ] as [Partial<MomentoKeyRotatorProps>, string][])(
    'refuses %o with a message showing the value',
    (props, message) => {
      expect(build(props)).toThrow(`Test/Rotator: ${message}`);
    },
  );

  it('refuses a second rotator with the same deployment name in one stack, whose names would collide', () => {
    const stack = emptyStack();
    new MomentoKeyRotator(stack, 'First', { secrets: [secretIn(stack, 'a')] });
    expect(() => new MomentoKeyRotator(stack, 'Second', { secrets: [secretIn(stack, 'b')] })).toThrow(
      'Test/Second: deploymentName "Test" is already used by Test/First: give each rotator in a stack a ' +
        'deploymentName of its own',
    );
    expect(
      () =>
        new MomentoKeyRotator(stack, 'Third', { secrets: [secretIn(stack, 'c')], deploymentName: 'other' }),
    ).not.toThrow();
  });

  it('refuses the same secret twice', () => {
    const stack = emptyStack();
    const secret = secretIn(stack);
    expect(() => new MomentoKeyRotator(stack, 'Rotator', { secrets: [secret, secret] })).toThrow(
      'Test/Rotator: secrets lists the same secret twice (received Test/S-momento--api-key twice)',
    );
  });

  it('grants a secret known only by its name on its name plus the six-character suffix', () => {
    const policy = daily.findResources('AWS::IAM::Policy', {
      Properties: {
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'RotateManagedSecrets' })]) },
      },
    });
    expect(JSON.stringify(policy)).toMatch(/:secret:momento\/api-key-\?\?\?\?\?\?"/);
  });
});

describe('the stack', () => {
  it("refuses more named secrets than the function's 4 KB environment can hold, pointing to the tag", () => {
    const secretNames = Array.from(
      { length: 60 },
      (_, i) => `momento/team-${String(i).padStart(2, '0')}/api-key`,
    );
    expect(() => new MomentoTokenRotatorStack(newApp(), 'Many', { secretNames })).toThrow(
      /^Many\/Rotator: secrets: 60 secrets make the function's environment at least 5\d{3} bytes, over Lambda's limit of 4096 for all its variables; select them by tag \(secretTag\)/,
    );
  });

  it('refuses to build without a secret to manage', () => {
    expect(() => new MomentoTokenRotatorStack(newApp(), 'Empty', {})).toThrow(
      'Empty: name at least one secret: secretNames to create them, existingSecretArns to manage existing ' +
        'ones, or secretTag to manage the secrets that carry a tag (received none)',
    );
  });
});
