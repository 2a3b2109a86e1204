import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { defineApp, STACK_ID } from '../../bin/define-app';
import { projectContext } from './synth';

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

/** The app as `cdk synth -c key=value ...` runs it, writing its cloud assembly to a directory of its own. */
function appWith(options: Record<string, string>): App {
  const outdir = mkdtempSync(path.join(tmpdir(), 'momento-rotator-app-'));
  outdirs.push(outdir);
  return new App({ outdir, context: { ...projectContext(), ...options } });
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
    expect(assembly.getStackByName(STACK_ID).template.Resources).toBeDefined();
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
