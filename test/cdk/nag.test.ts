import { Validations } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { MomentoKeyRotator } from '../../lib';
import { emptyStack, synthStack } from './synth';

function findings(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks().validateScope(scope);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}: ${v.description}`),
  );
}

function acknowledgements(scope: IConstruct): { path: string; id: string; reason: string }[] {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id,
          reason,
        })),
      ),
  );
}

const { stack: oneCommand } = synthStack({ secretNames: ['momento/api-key'] });
const { stack: byTag } = synthStack({
  secretTag: { key: 'team', value: 'platform' },
  existingSecretsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
});
const { stack: everything } = synthStack({
  secretNames: ['momento/a', 'momento/b'],
  existingSecretArns: ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:team/momento-AbCdEf'],
  existingSecretsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  alarmEmail: 'ops@example.com',
});

describe('cdk-nag AwsSolutions checks', () => {
  it('find nothing unacknowledged in the one-command deployment', () => {
    expect(findings(oneCommand)).toEqual([]);
  });

  it('find nothing unacknowledged with existing secrets under a customer key, an email and several secrets', () => {
    expect(findings(everything)).toEqual([]);
  });

  it('find nothing unacknowledged when the secrets are selected by a tag, under a customer key', () => {
    expect(findings(byTag)).toEqual([]);
  });

  it('find nothing unacknowledged when a secret is known only by its name', () => {
    const stack = emptyStack();
    new MomentoKeyRotator(stack, 'Rotator', {
      secrets: [secretsmanager.Secret.fromSecretNameV2(stack, 'ByName', 'momento/api-key')],
    });
    expect(findings(stack)).toEqual([]);
  });

  it.each([
    ['the one-command deployment', () => oneCommand],
    ['several secrets, existing ones under a customer key', () => everything],
  ])('are acknowledged only with a reason a reviewer can check, in %s', (_label, stack) => {
    const acknowledged = acknowledgements(stack());
    expect([...new Set(acknowledged.map((a) => a.id))].sort()).toEqual([
      'Annotation::AwsSolutions-IAM5[Resource::*]',
      'Annotation::AwsSolutions-SMG4',
      'Annotation::AwsSolutions-SQS3',
    ]);
    for (const { reason } of acknowledged) expect(reason.length).toBeGreaterThan(80);
  });

  it('acknowledge the tag-conditioned grant on the secrets of the account, and nothing broader', () => {
    const acknowledged = acknowledgements(byTag);
    expect([...new Set(acknowledged.map((a) => a.id))].sort()).toEqual([
      'Annotation::AwsSolutions-IAM5[Resource::*]',
      'Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:*]',
      'Annotation::AwsSolutions-SQS3',
    ]);
    for (const { reason } of acknowledged) expect(reason.length).toBeGreaterThan(80);
  });

  it('still report what is not acknowledged', () => {
    const stack = emptyStack();
    new secretsmanager.Secret(stack, 'Unrotated');
    expect(findings(stack).join('\n')).toContain('AwsSolutions-SMG4');
  });
});
