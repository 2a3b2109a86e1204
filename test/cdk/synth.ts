import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { MomentoTokenRotatorStack, type MomentoTokenRotatorStackProps } from '../../lib';

const REPO_ROOT = path.join(import.meta.dirname, '..', '..');

/** The feature flags `cdk deploy` runs with, so that the tests see the template that gets deployed. */
export function projectContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

export function newApp(): App {
  return new App({ context: projectContext() });
}

export function synthStack(props: MomentoTokenRotatorStackProps): {
  stack: MomentoTokenRotatorStack;
  template: Template;
} {
  const stack = new MomentoTokenRotatorStack(newApp(), 'MomentoTokenRotator', props);
  return { stack, template: Template.fromStack(stack) };
}

/** A stack to put a bare construct in, with the project's feature flags. */
export function emptyStack(): Stack {
  return new Stack(newApp(), 'Test');
}

export interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action?: string | string[];
  readonly Resource?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

export function asList<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/** Every statement of every policy document in the template: identity, key, queue, topic and secret policies. */
export function allStatements(
  template: Template,
): { logicalId: string; type: string; statement: Statement }[] {
  const found: { logicalId: string; type: string; statement: Statement }[] = [];
  for (const [logicalId, resource] of Object.entries(template.toJSON().Resources as Resources)) {
    const properties = resource.Properties ?? {};
    for (const key of ['PolicyDocument', 'KeyPolicy', 'ResourcePolicy']) {
      const document = properties[key] as { Statement?: Statement[] } | undefined;
      for (const statement of document?.Statement ?? [])
        found.push({ logicalId, type: resource.Type, statement });
    }
  }
  return found;
}

/** The Allow statements of the IAM policies attached to the function's role, as [action, resource] pairs. */
export function rolePermissions(template: Template): { action: string; resource: unknown; sid?: string }[] {
  const roles = template.findResources('AWS::IAM::Role');
  const roleIds = Object.keys(roles);
  if (roleIds.length !== 1) throw new Error(`expected one role, found ${roleIds.length}`);
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: roleIds[0] }] },
  });
  const pairs: { action: string; resource: unknown; sid?: string }[] = [];
  for (const policy of Object.values(policies)) {
    for (const statement of (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement) {
      if (statement.Effect !== 'Allow') throw new Error(`unexpected ${statement.Effect} statement`);
      for (const action of asList(statement.Action)) {
        for (const resource of asList(statement.Resource)) {
          pairs.push({ action, resource, sid: statement.Sid });
        }
      }
    }
  }
  return pairs;
}

/** The single resource of a type, with its logical id. */
export function only(template: Template, type: string): { id: string; properties: Record<string, unknown> } {
  const found = Object.entries(template.findResources(type));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  const [id, resource] = found[0] as [string, { Properties: Record<string, unknown> }];
  return { id, properties: resource.Properties };
}
