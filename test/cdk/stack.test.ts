import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_CODE_DIR, PLACEHOLDER_SECRET_VALUE } from '../../lib';
import { expiryOf } from '../../src/rotation/policy';
import { only, rolePermissions, synthStack } from './synth';

// One synthesis for the whole file: the one-command deployment.
const { stack, template } = synthStack({ secretNames: ['momento/api-key'] });
let secretId: string;
let functionId: string;
let roleId: string;
let logGroupId: string;
let queueId: string;
let topicId: string;

beforeAll(() => {
  secretId = only(template, 'AWS::SecretsManager::Secret').id;
  functionId = only(template, 'AWS::Lambda::Function').id;
  roleId = only(template, 'AWS::IAM::Role').id;
  logGroupId = only(template, 'AWS::Logs::LogGroup').id;
  queueId = only(template, 'AWS::SQS::Queue').id;
  topicId = only(template, 'AWS::SNS::Topic').id;
});

const fnArn = () => ({ 'Fn::GetAtt': [functionId, 'Arn'] });

describe('the function', () => {
  it('runs on the newest Node LTS runtime, on ARM64, from the bundled handler', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
    });
  });

  it('ships the function as npm run build leaves it in dist/function, file for file', () => {
    const assembly = (stack.node.root as App).synth();
    const manifest = JSON.parse(
      readFileSync(path.join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8'),
    ) as { files: Record<string, { source: { path: string; packaging?: string } }> };
    const zips = Object.values(manifest.files).filter((file) => file.source.packaging === 'zip');
    expect(zips).toHaveLength(1);
    const staged = path.join(assembly.directory, zips[0]?.source.path ?? '');
    const files = (dir: string) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
    expect(files(staged)).toContain('index.mjs');
    expect(files(staged)).toEqual(files(FUNCTION_CODE_DIR));
    expect(readFileSync(path.join(staged, 'index.mjs'))).toEqual(
      readFileSync(path.join(FUNCTION_CODE_DIR, 'index.mjs')),
    );
  });

  it('gets the timeout for a manual rotation to wait and the memory for a quick cold start', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 180, MemorySize: 512 });
  });

  it('has no reserved concurrency, since a manual rotation waits while Secrets Manager invokes the steps', () => {
    expect(only(template, 'AWS::Lambda::Function').properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('is configured exactly by the environment the engine reads', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          ROTATOR_SECRET_IDS: { Ref: secretId },
          ROTATE_AT_REMAINING_FRACTION: '0.5',
          ROTATE_WITHIN_SECONDS: '7200',
          POWERTOOLS_SERVICE_NAME: 'MomentoTokenRotator',
          POWERTOOLS_METRICS_NAMESPACE: 'MomentoTokenRotator',
        },
      },
    });
    const variables = (
      only(template, 'AWS::Lambda::Function').properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    // No NODE_OPTIONS: --enable-source-maps would make every cold start read the maps (docs/BENCH.md).
    expect(Object.keys(variables).sort()).toEqual([
      'POWERTOOLS_METRICS_NAMESPACE',
      'POWERTOOLS_SERVICE_NAME',
      'ROTATE_AT_REMAINING_FRACTION',
      'ROTATE_WITHIN_SECONDS',
      'ROTATOR_SECRET_IDS',
    ]);
  });

  it('logs to its own log group, kept three months', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogGroup: { Ref: logGroupId } },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('does not retry a failed scheduled sweep at once: the next sweep is the retry', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: functionId },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 3600,
    });
  });
});

describe('the schedule', () => {
  it('runs the sweep every hour, with retries bounded by one period and a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      State: 'ENABLED',
      Targets: [
        {
          Arn: fnArn(),
          Input: Match.absent(),
          RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
        },
      ],
    });
  });

  it('lets only this rule invoke the function for EventBridge', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'events.amazonaws.com',
      FunctionName: fnArn(),
      SourceArn: { 'Fn::GetAtt': [only(template, 'AWS::Events::Rule').id, 'Arn'] },
    });
  });

  it('keeps undeliverable events in an encrypted queue that refuses plain HTTP', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
          }),
        ]),
      },
    });
  });
});

describe('the managed secret', () => {
  it('is created with a placeholder the engine reports as uninitialised', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'momento/api-key',
      SecretString: PLACEHOLDER_SECRET_VALUE,
      GenerateSecretString: Match.absent(),
    });
    const placeholder = JSON.parse(PLACEHOLDER_SECRET_VALUE) as Record<string, unknown>;
    for (const field of ['apiKey', 'authToken', 'refreshToken'])
      expect(placeholder).not.toHaveProperty(field);
  });

  it('keeps its placeholder forever, since a changed SecretString would overwrite every live key', () => {
    expect(PLACEHOLDER_SECRET_VALUE).toBe(
      '{"uninitialised":"Put the JSON downloaded from the Momento console into this secret (see the stack outputs)."}',
    );
  });

  it('is retained when the stack is deleted or the secret replaced', () => {
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('cannot be deleted by anyone in the account while the stack exists', () => {
    const policy = only(template, 'AWS::SecretsManager::ResourcePolicy').properties;
    expect(policy.SecretId).toEqual({ Ref: secretId });
    expect((policy.ResourcePolicy as { Statement: unknown[] }).Statement).toEqual([
      {
        Effect: 'Deny',
        Action: 'secretsmanager:DeleteSecret',
        Principal: {
          AWS: {
            'Fn::Join': [
              '',
              ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root'],
            ],
          },
        },
        Resource: '*',
      },
    ]);
  });

  it('is rotated by this function, with no Secrets Manager schedule and no rotation at deploy time', () => {
    const schedule = only(template, 'AWS::SecretsManager::RotationSchedule').properties;
    expect(schedule).toEqual({
      SecretId: { Ref: secretId },
      RotationLambdaARN: fnArn(),
      RotateImmediatelyOnUpdate: false,
    });
    expect(schedule.RotationRules).toBeUndefined();
  });

  it('configures rotation only after the function may run its steps', () => {
    const schedule = Object.values(template.findResources('AWS::SecretsManager::RotationSchedule'))[0] as {
      DependsOn: string[];
    };
    const permissionId = Object.keys(
      template.findResources('AWS::Lambda::Permission', {
        Properties: { Principal: 'secretsmanager.amazonaws.com' },
      }),
    )[0];
    const policyIds = Object.keys(template.findResources('AWS::IAM::Policy'));
    expect(schedule.DependsOn).toEqual(expect.arrayContaining([permissionId, roleId, ...policyIds]));
  });
});

describe('the Secrets Manager invoke permission', () => {
  it('lets Secrets Manager invoke the function only on behalf of this account', () => {
    const permissions = template.findResources('AWS::Lambda::Permission', {
      Properties: { Principal: 'secretsmanager.amazonaws.com' },
    });
    expect(Object.values(permissions)).toHaveLength(1);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'secretsmanager.amazonaws.com',
      Action: 'lambda:InvokeFunction',
      FunctionName: fnArn(),
      SourceAccount: { Ref: 'AWS::AccountId' },
    });
  });
});

describe('least privilege', () => {
  it('grants the role exactly the permissions in the README table, each on its narrowest resource', () => {
    const secretArn = { Ref: secretId };
    const expected = [
      ['logs:CreateLogStream', { 'Fn::GetAtt': [logGroupId, 'Arn'] }],
      ['logs:PutLogEvents', { 'Fn::GetAtt': [logGroupId, 'Arn'] }],
      ['secretsmanager:DescribeSecret', secretArn],
      ['secretsmanager:GetSecretValue', secretArn],
      ['secretsmanager:PutSecretValue', secretArn],
      ['secretsmanager:UpdateSecretVersionStage', secretArn],
      ['secretsmanager:RotateSecret', secretArn],
      ['secretsmanager:ListSecretVersionIds', secretArn],
      ['secretsmanager:BatchGetSecretValue', '*'],
      ['secretsmanager:ListSecrets', '*'],
      ['lambda:InvokeFunction', fnArn()],
    ];
    const actual = rolePermissions(template).map(({ action, resource }) => [action, resource]);
    expect(actual).toHaveLength(expected.length);
    expect(actual).toEqual(expect.arrayContaining(expected));
  });

  it('uses no AWS managed policy', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: Match.absent(),
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })],
      },
    });
  });

  it('grants self-invocation in a policy the function does not wait for, so there is no dependency cycle', () => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0] as { DependsOn: string[] };
    const selfInvoke = Object.keys(
      template.findResources('AWS::IAM::Policy', {
        Properties: {
          PolicyDocument: { Statement: [Match.objectLike({ Action: 'lambda:InvokeFunction' })] },
        },
      }),
    );
    expect(selfInvoke).toHaveLength(1);
    expect(fn.DependsOn).not.toContain(selfInvoke[0]);
  });

  it('does not take the generic rotation grants aws-cdk-lib would add', () => {
    const actions = rolePermissions(template).map((p) => p.action);
    expect(actions).not.toContain('secretsmanager:GetRandomPassword');
    expect(actions.filter((a) => a.startsWith('kms:'))).toEqual([]);
  });
});

describe('alarms', () => {
  type AlarmProperties = {
    AlarmName: string;
    MetricName?: string;
    AlarmActions: unknown[];
    OKActions: unknown[];
    AlarmDescription: unknown;
    Period?: number;
    EvaluationPeriods: number;
    DatapointsToAlarm?: number;
    TreatMissingData: string;
    Metrics?: {
      Id: string;
      Expression?: string;
      MetricStat?: { Metric: { MetricName: string }; Period: number };
    }[];
  };
  const alarms = () =>
    Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (r) => r.Properties as AlarmProperties,
    );
  const alarmWith = (metricName: string) =>
    Object.values(
      template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: metricName } }),
    );
  const service = [{ Name: 'service', Value: 'MomentoTokenRotator' }];

  it('notifies the alarm topic on alarm and on recovery, with a runbook line in every description', () => {
    // What each line must tell the person on call to do.
    const runbook: Record<string, RegExp[]> = {
      errors: [/Read the ERROR lines in log group/, /names the secret/, /Fix the cause/],
      'schedule-dead-letters': [/error attributes of the messages/, /then purge the queue/],
      heartbeat: [/Check that the schedule rule is enabled/, /latest logs/],
      'chain-at-risk': [/ChainAtRisk line in log group/, /Force a rotation/, /Momento console/],
      expiry: [/status command/, /force a rotation/, /Momento console/, /put-secret-value/],
      uninitialised: [/status command/, /put the JSON downloaded from the Momento console/],
      unreadable: [/sweep: secret failed/, /names the secret and the reason/, /Fix the permission or key/],
      'leftover-schedule': [/cancel-rotate-secret/, /--rotation-lambda-arn/, /--no-rotate-immediately/],
      'manual-renewal': [/status command/, /Momento console/, /npx momento-token-rotator put --secret-id/],
    };
    expect(
      alarms()
        .map((a) => a.AlarmName.replace('MomentoTokenRotator-', ''))
        .sort(),
    ).toEqual(Object.keys(runbook).sort());
    for (const alarm of alarms()) {
      expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.OKActions).toEqual([{ Ref: topicId }]);
      const description = JSON.stringify(alarm.AlarmDescription);
      for (const step of runbook[alarm.AlarmName.replace('MomentoTokenRotator-', '')] ?? []) {
        expect(description).toMatch(step);
      }
    }
  });

  it('fires on a function error in either of the last two schedule periods', () => {
    expect(alarmWith('Errors')).toHaveLength(1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'MomentoTokenRotator-errors',
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId } }],
      Statistic: 'Sum',
      Period: 3600,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 2,
      DatapointsToAlarm: 1,
      TreatMissingData: 'notBreaching',
      AlarmDescription: Match.anyValue(),
    });
  });

  it('fires when the dead-letter queue holds a message', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('fires when no sweep completed for two schedule periods, missing data counting as breaching', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'MomentoTokenRotator',
      MetricName: 'SweepCompleted',
      Dimensions: service,
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  it('fires on a ChainAtRisk event in either of the last two schedule periods', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'MomentoTokenRotator',
      MetricName: 'ChainAtRisk',
      Dimensions: service,
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('watches the lowest time left of every key with one alarm, whatever the number of secrets', () => {
    expect(alarmWith('SecondsUntilExpiry')).toHaveLength(1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'MomentoTokenRotator-expiry',
      Namespace: 'MomentoTokenRotator',
      MetricName: 'SecondsUntilExpiry',
      // The deployment-wide series, not one secret's: every per-secret report lands in it too.
      Dimensions: service,
      Statistic: 'Minimum',
      Period: 3600,
      Threshold: 3600,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('fires when a secret has held no key pair for a day', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'MomentoTokenRotator-uninitialised',
      Namespace: 'MomentoTokenRotator',
      MetricName: 'SecondsUninitialised',
      Dimensions: service,
      Statistic: 'Maximum',
      Period: 3600,
      Threshold: 86_400,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('fires when a secret cannot be read or holds a malformed value', () => {
    const [unreadable] = alarms().filter((a) => a.AlarmName === 'MomentoTokenRotator-unreadable');
    expect(unreadable?.Metrics?.find((m) => m.Expression !== undefined)?.Expression).toBe(
      'FILL(unreadable, 0) + FILL(malformed, 0)',
    );
    expect(
      unreadable?.Metrics?.flatMap((m) => (m.MetricStat ? [[m.Id, m.MetricStat.Metric.MetricName]] : [])),
    ).toEqual([
      ['unreadable', 'SecretUnreadable'],
      ['malformed', 'MalformedSecret'],
    ]);
    for (const m of unreadable?.Metrics ?? []) if (m.MetricStat) expect(m.MetricStat.Period).toBe(3600);
  });

  it('fires when a v2 key, which nothing but a person can renew, reaches the due rule', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'MomentoTokenRotator-manual-renewal',
      MetricName: 'ManualRenewalDue',
      Dimensions: service,
      Statistic: 'Sum',
      Threshold: 1,
    });
  });

  it('fires when a managed secret still has a Secrets Manager rotation schedule', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'MomentoTokenRotator-leftover-schedule',
      MetricName: 'LeftoverRotationSchedule',
      Dimensions: service,
      Statistic: 'Sum',
      Threshold: 1,
    });
  });

  describe('a fault that persists', () => {
    /**
     * CloudWatch's evaluation of an M-out-of-N alarm over the periods' data points, missing data not breaching:
     * the state after each period.
     */
    const states = (alarm: AlarmProperties, breachingPeriods: boolean[]): ('ALARM' | 'OK')[] =>
      breachingPeriods.map((_, index) => {
        const window = breachingPeriods.slice(Math.max(0, index - alarm.EvaluationPeriods + 1), index + 1);
        return window.filter(Boolean).length >= (alarm.DatapointsToAlarm ?? alarm.EvaluationPeriods)
          ? 'ALARM'
          : 'OK';
      });
    /**
     * Periods that hold a sweep that saw the fault: one sweep an hour, each starting up to 90 s from the hour,
     * so a sweep sometimes lands in the next period and leaves one empty.
     */
    const sweepsSeeingTheFault = (hours: number): boolean[] => {
      const periods = new Array<boolean>(hours + 1).fill(false);
      for (let hour = 0; hour < hours; hour++) {
        const jitter = [-90, 30, 45, -10, 90][hour % 5] as number;
        const at = hour * 3600 + 3590 + jitter;
        periods[Math.floor(at / 3600)] = true;
      }
      return periods;
    };

    it.each(['errors', 'chain-at-risk', 'unreadable', 'leftover-schedule', 'expiry', 'uninitialised'])(
      'keeps the %s alarm in ALARM from the first sweep that sees it, although some periods hold no sweep',
      (purpose) => {
        const [alarm] = alarms().filter((a) => a.AlarmName === `MomentoTokenRotator-${purpose}`);
        if (alarm === undefined) throw new Error(`no ${purpose} alarm`);
        const seen = sweepsSeeingTheFault(24);
        expect(seen).toContain(false);
        const first = seen.indexOf(true);
        expect(states(alarm, seen).slice(first, -1)).toEqual(
          new Array(seen.length - 1 - first).fill('ALARM'),
        );
        // And it clears once two periods pass without the fault.
        expect(states(alarm, [...seen, false, false]).at(-1)).toBe('OK');
      },
    );
  });

  describe('the expiry alarm against the due rule the function is deployed with', () => {
    // The deployed settings, read back from the template: period, due rule and threshold.
    const deployed = () => {
      const variables = (
        only(template, 'AWS::Lambda::Function').properties.Environment as {
          Variables: Record<string, string>;
        }
      ).Variables;
      const [expiry] = alarmWith('SecondsUntilExpiry') as {
        Properties: { Threshold: number; Period: number };
      }[];
      return {
        period: expiry?.Properties.Period ?? Number.NaN,
        threshold: expiry?.Properties.Threshold ?? Number.NaN,
        rule: {
          rotateAtRemainingFraction: Number(variables.ROTATE_AT_REMAINING_FRACTION),
          rotateWithinSeconds: Number(variables.ROTATE_WITHIN_SECONDS),
        },
      };
    };
    /**
     * What the sweeps of one key report (SecondsUntilExpiry, which the sweep emits before it starts a rotation)
     * until one finds it due, or, with `rotationsFail`, until it expires. Sweeps run every period from `phase`
     * after the key was issued.
     */
    const reports = (lifetime: number, phase: number, rotationsFail: boolean): number[] => {
      const { period, rule } = deployed();
      const seen: number[] = [];
      for (let t = phase; t < lifetime; t += period) {
        const expiry = expiryOf(lifetime, 0, t * 1000, rule);
        seen.push(expiry.remaining);
        if (expiry.due && !rotationsFail) break;
      }
      return seen;
    };
    // Lifetimes from the due margin itself to 100 days; sweeps at 20 phases within a period.
    const lifetimes = [2, 2.5, 3, 4, 7, 12, 24, 36, 7 * 24, 30 * 24, 100 * 24].map((hours) => hours * 3600);
    const phases = Array.from({ length: 20 }, (_, i) => ((i + 0.5) / 20) * 3600);

    it('never fires on a healthy rotation, whatever the key lifetime and the sweep phase', () => {
      const { threshold } = deployed();
      for (const lifetime of lifetimes) {
        for (const phase of phases) {
          const lowest = Math.min(...reports(lifetime, phase, false));
          expect({ lifetime, phase, lowest }).toEqual({
            lifetime,
            phase,
            lowest: expect.toSatisfy((n: number) => n >= threshold),
          });
        }
      }
    });

    it('fires before the key expires when its rotations keep failing', () => {
      const { threshold } = deployed();
      for (const lifetime of lifetimes) {
        for (const phase of phases) {
          const belowThreshold = reports(lifetime, phase, true).filter((r) => r > 0 && r < threshold);
          expect({ lifetime, phase, fires: belowThreshold.length > 0 }).toEqual({
            lifetime,
            phase,
            fires: true,
          });
        }
      }
    });
  });
});

describe('the dashboard', () => {
  type Widget = { type: string; properties: { title: string; alarms?: string[]; metrics?: unknown[] } };
  /** The dashboard body as CloudWatch receives it, each reference written as the logical id it names. */
  const widgets = (): Widget[] => {
    const { properties } = only(template, 'AWS::CloudWatch::Dashboard');
    expect(properties.DashboardName).toBe('MomentoTokenRotator');
    const [, parts] = (properties.DashboardBody as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    const text = parts
      .map((part) =>
        typeof part === 'string'
          ? part
          : ((part as { Ref?: string }).Ref ?? (part as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]),
      )
      .join('');
    return (JSON.parse(text) as { widgets: Widget[] }).widgets;
  };
  const graph = (title: string) => {
    const widget = widgets().find((w) => w.properties.title === title);
    if (widget === undefined) throw new Error(`no widget ${title}`);
    return JSON.stringify(widget.properties.metrics);
  };

  it('graphs the time left of every key, one line per secret', () => {
    expect(JSON.parse(graph('Hours left per key (one line per secret)'))).toEqual([
      [
        {
          expression:
            'SEARCH(\'{MomentoTokenRotator,SecretName,service} MetricName="SecondsUntilExpiry" ' +
            "service=\"MomentoTokenRotator\"', 'Minimum', 3600) / 3600",
          period: 3600,
        },
      ],
    ]);
  });

  it('shows rotations, failures and heals, and the state of every alarm', () => {
    expect(graph('Rotations')).toMatch(/RotationStarted.*RotationSucceeded.*RotationFailed/);
    expect(graph('Failures')).toMatch(/Errors.*ChainAtRisk.*SecretUnreadable.*MalformedSecret/);
    expect(graph('Heals and secrets that need a person')).toMatch(
      /StuckRotationHealed.*Uninitialised.*LeftoverRotationSchedule/,
    );
    const [status] = widgets().filter((w) => w.type === 'alarm');
    expect(status?.properties.alarms?.sort()).toEqual(
      Object.keys(template.findResources('AWS::CloudWatch::Alarm')).sort(),
    );
  });
});

describe('the alarm topic', () => {
  // Only alarms of this account and region, never another account's resource acting through CloudWatch.
  const fromOwnAlarms = {
    StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
    ArnLike: {
      'aws:SourceArn': {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':cloudwatch:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':alarm:*',
          ],
        ],
      },
    },
  };

  it('is encrypted with a rotating customer managed key that CloudWatch may use', () => {
    const keyId = only(template, 'AWS::KMS::Key').id;
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Condition: fromOwnAlarms,
          }),
        ]),
      },
    });
  });

  it("lets this account's CloudWatch alarms publish, since its own access policy replaces the default one", () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'CloudWatchAlarmsPublish',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: topicId },
            Condition: fromOwnAlarms,
          },
        ]),
      },
    });
  });

  it('refuses plain HTTP', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('has no subscription unless an address is given', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('outputs', () => {
  const joined = (value: unknown) =>
    ((value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1] ?? [])
      .map((part) => (typeof part === 'string' ? part : `<${JSON.stringify(part)}>`))
      .join('');

  it('names the function, the alarm topic and the dashboard', () => {
    template.hasOutput('FunctionName', { Value: { Ref: functionId } });
    template.hasOutput('FunctionArn', { Value: fnArn() });
    template.hasOutput('AlarmTopicArn', { Value: { Ref: topicId } });
    template.hasOutput('DashboardName', { Value: { Ref: only(template, 'AWS::CloudWatch::Dashboard').id } });
  });

  it('gives the exact command that stores the console JSON', () => {
    const output = template.findOutputs('PutSecretValueCommand1').PutSecretValueCommand1;
    expect(joined(output?.Value)).toBe(
      'aws secretsmanager put-secret-value --region <{"Ref":"AWS::Region"}> --secret-id momento/api-key ' +
        '--secret-string file://momento_token_info.json',
    );
  });

  it('gives the exact command that forces a rotation and waits longer than the function can run', () => {
    const output = template.findOutputs('ForceRotateCommand1').ForceRotateCommand1;
    expect(joined(output?.Value)).toBe(
      `aws lambda invoke --region <{"Ref":"AWS::Region"}> --function-name <{"Ref":"${functionId}"}> ` +
        '--cli-binary-format raw-in-base64-out --cli-read-timeout 210 ' +
        `--payload '{"action":"rotate","force":true,"secretId":"momento/api-key"}' out.json`,
    );
  });

  it('gives the status command', () => {
    const output = template.findOutputs('StatusCommand').StatusCommand;
    expect(joined(output?.Value)).toContain(`--payload '{"action":"status"}'`);
  });
});
