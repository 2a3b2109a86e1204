import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { defineApp } from '../../bin/define-app';
import { DEFAULT_DEPLOYMENT_NAME } from '../../src/deployment-names';
import { projectContext } from './synth';

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

/** The app as `cdk synth -c key=value ...` runs it, writing its cloud assembly to a directory of its own. */
function appWith(options: Record<string, string>, { bundle = true } = {}): App {
  const outdir = mkdtempSync(path.join(tmpdir(), 'momento-rotator-app-'));
  outdirs.push(outdir);
  // Tests that compare templates need no function code: `cdk synth --exclusively`'s way of skipping bundling.
  const skipBundling = bundle ? {} : { 'aws:cdk:bundling-stacks': [] };
  return new App({ outdir, context: { ...projectContext(), ...skipBundling, ...options } });
}

/** The template `cdk synth` writes for the options, and the name of the one stack. */
function synthesize(options: Record<string, string>): { stackName: string; template: Template } {
  const app = appWith(options, { bundle: false });
  const defined = defineApp(app, {});
  if (!('stack' in defined)) throw new Error(defined.error);
  const assembly = app.synth();
  const [artifact] = assembly.stacks;
  if (artifact === undefined || assembly.stacks.length !== 1) throw new Error('expected one stack');
  return { stackName: artifact.stackName, template: Template.fromJSON(artifact.template) };
}

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/** Every name a deployment claims in the account and region, and every metric dimension its alarms read. */
function deploymentNames(template: Template): { names: string[]; services: string[] } {
  const resources = Object.values(template.toJSON().Resources as Resources);
  const named = (type: string, property: string) =>
    resources.filter((r) => r.Type === type).map((r) => r.Properties[property] as string);
  const dimensions = resources
    .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
    .flatMap((r) => {
      const own = (r.Properties.Dimensions ?? []) as { Name: string; Value: unknown }[];
      const inMath = (
        (r.Properties.Metrics ?? []) as { MetricStat?: { Metric: { Dimensions?: typeof own } } }[]
      ).flatMap((m) => m.MetricStat?.Metric.Dimensions ?? []);
      return [...own, ...inMath];
    });
  return {
    names: [
      ...named('AWS::Lambda::Function', 'FunctionName'),
      ...named('AWS::CloudWatch::Alarm', 'AlarmName'),
      ...named('AWS::CloudWatch::Dashboard', 'DashboardName'),
    ],
    services: [...new Set(dimensions.filter((d) => d.Name === 'service').map((d) => d.Value as string))],
  };
}

describe('the CDK app (bin/app.ts)', () => {
  it('synthesizes the one-command deployment with no finding', () => {
    // Prepare
    const app = appWith({ secretName: 'momento/api-key' });

    // Act
    const defined = defineApp(app, {});
    const assembly = app.synth();

    // Assess
    expect('stack' in defined).toBe(true);
    expect(assembly.getStackByName(DEFAULT_DEPLOYMENT_NAME).template.Resources).toBeDefined();
  });

  it('stops synthesis on an AwsSolutions finding that nobody acknowledged with a reason', () => {
    // Prepare: a queue without encryption or SSL enforcement, added next to the rotator.
    const app = appWith({ secretName: 'momento/api-key' });
    const defined = defineApp(app, {});
    if (!('stack' in defined)) throw new Error(defined.error);
    new sqs.Queue(defined.stack, 'Careless', { encryption: sqs.QueueEncryption.UNENCRYPTED });

    // Act
    const synth = () => app.synth();

    // Assess
    expect(synth).toThrow(/AwsSolutions-SQS/);
  });

  it('answers a bad option with one line that names it, and builds nothing', () => {
    // Prepare
    const app = appWith({ secretName: 'momento/api-key', scheduleMinutes: '4' });

    // Act
    const defined = defineApp(app, {});

    // Assess
    expect(defined).toEqual({
      error:
        'momento-token-rotator: -c scheduleMinutes must be minutes between sweeps, a whole number from 5 to 1440 ' +
        '(received "4")',
    });
    expect(app.node.children).toHaveLength(0);
  });

  it('checks existing secrets against the account and region the CLI deploys to', () => {
    // Prepare
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:team/momento-AbCdEf';
    const app = appWith({ existingSecretArn: arn });

    // Act
    const defined = defineApp(app, { CDK_DEFAULT_ACCOUNT: '123456789012', CDK_DEFAULT_REGION: 'us-east-1' });

    // Assess
    expect(defined).toEqual({ error: expect.stringContaining('in 123456789012, eu-west-1') });
  });
});

describe('named deployments', () => {
  it('give two rotators in one account different stack, function, alarm and dashboard names and metric dimensions', () => {
    const a = synthesize({ stackName: 'momento-team-a', secretName: 'momento/a' });
    const b = synthesize({ stackName: 'momento-team-b', secretName: 'momento/b' });

    expect([a.stackName, b.stackName]).toEqual(['momento-team-a', 'momento-team-b']);
    const namesA = deploymentNames(a.template);
    const namesB = deploymentNames(b.template);
    expect(namesA.names).toContain('momento-team-a-rotator');
    expect(namesA.names.filter((n) => !n.startsWith('momento-team-a'))).toEqual([]);
    expect(namesB.names.filter((n) => !n.startsWith('momento-team-b'))).toEqual([]);
    expect(namesA.names.filter((n) => namesB.names.includes(n))).toEqual([]);
    // The function reports under the same service name its alarms watch: never another rotator's heartbeat.
    expect(namesA.services).toEqual(['momento-team-a']);
    expect(namesB.services).toEqual(['momento-team-b']);
    a.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'momento-team-a' }) },
    });
  });

  it('keep the name every earlier release deployed under when no stackName is given', () => {
    const { stackName, template } = synthesize({ secretName: 'momento/api-key' });
    expect(stackName).toBe('MomentoTokenRotator');
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'MomentoTokenRotator-rotator' });
  });
});

describe('-c secretTag=team=platform', () => {
  it('grants the per-secret actions only on secrets tagged team=platform', () => {
    const { template } = synthesize({ secretTag: 'team=platform' });

    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) =>
        (p.Properties as { PolicyDocument: { Statement: { Sid?: string; Condition?: unknown }[] } })
          .PolicyDocument.Statement,
    );
    expect(statements.find((st) => st.Sid === 'RotateTaggedSecrets')?.Condition).toEqual({
      StringEquals: { 'secretsmanager:ResourceTag/team': 'platform' },
    });
    expect(statements.find((st) => st.Sid === 'RotateManagedSecrets')).toBeUndefined();
  });
});

describe('kept options', () => {
  it('read from an options file give the template the same -c flags give', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'momento-rotator-options-'));
    outdirs.push(dir);
    const file = path.join(dir, 'team-b.json');
    writeFileSync(
      file,
      JSON.stringify({
        stackName: 'team-b',
        secretName: ['momento/b1', 'momento/b2'],
        secretTag: 'team=platform',
        scheduleMinutes: 30,
        alarmEmail: 'ops@example.com',
      }),
    );

    const fromFile = synthesize({ optionsFile: file });
    const fromFlags = synthesize({
      stackName: 'team-b',
      secretName: 'momento/b1,momento/b2',
      secretTag: 'team=platform',
      scheduleMinutes: '30',
      alarmEmail: 'ops@example.com',
    });

    expect(fromFile.stackName).toBe('team-b');
    expect(fromFile.template.toJSON()).toEqual(fromFlags.template.toJSON());
  });
});
