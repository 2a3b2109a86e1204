import { randomUUID } from 'node:crypto';
import {
  BatchGetSecretValueCommand,
  CancelRotateSecretCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InternalServiceError,
  InvalidNextTokenException,
  InvalidParameterException,
  InvalidRequestException,
  ListSecretsCommand,
  type ListSecretsCommandOutput,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RotateSecretCommand,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RotationEvent,
  type RotationFunction,
  type SecretsManagerEmulator,
  startSecretsManagerEmulator,
} from './index';

const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const START = Date.UTC(2030, 0, 1, 12);

let now = START;
const clock = () => now;
const functions = new Map<string, RotationFunction>();
const clients: SecretsManagerClient[] = [];
let sequence = 0;

const unique = (prefix: string) => `${prefix}-${++sequence}`;
const lambdaArn = () => `arn:aws:lambda:us-east-1:123456789012:function:${unique('rotator')}`;

function clientFor(emulator: SecretsManagerEmulator, extra: SecretsManagerClientConfig = {}) {
  const client = new SecretsManagerClient({
    endpoint: emulator.endpoint,
    region: 'us-east-1',
    credentials,
    ...extra,
  });
  clients.push(client);
  return client;
}

/** A minimal rotation function shaped like AWS's template: every step checks the version's stages first. */
function templateRotator(
  client: SecretsManagerClient,
  hooks: {
    onStep?: (event: RotationEvent, context: Context) => Promise<void> | void;
    next?: (current: string) => string;
  } = {},
): RotationFunction {
  const next = hooks.next ?? ((current: string) => `${current}+`);
  return async (event, context) => {
    await hooks.onStep?.(event, context);
    const { Step, SecretId, ClientRequestToken: token, RotationToken } = event;
    const meta = await client.send(new DescribeSecretCommand({ SecretId }));
    if (!meta.RotationEnabled) throw new Error(`${SecretId} is not enabled for rotation`);
    const stages = meta.VersionIdsToStages?.[token];
    if (!stages) throw new Error(`version ${token} has no stage on ${SecretId}`);
    if (stages.includes('AWSCURRENT')) return;
    if (!stages.includes('AWSPENDING')) throw new Error(`version ${token} is not AWSPENDING`);
    if (Step === 'createSecret') {
      const current = await client.send(new GetSecretValueCommand({ SecretId, VersionStage: 'AWSCURRENT' }));
      try {
        await client.send(
          new GetSecretValueCommand({ SecretId, VersionId: token, VersionStage: 'AWSPENDING' }),
        );
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
        await client.send(
          new PutSecretValueCommand({
            SecretId,
            ClientRequestToken: token,
            SecretString: next(current.SecretString ?? ''),
            VersionStages: ['AWSPENDING'],
            RotationToken,
          }),
        );
      }
    } else if (Step === 'finishSecret') {
      const current = Object.entries(meta.VersionIdsToStages ?? {}).find(([, s]) =>
        s.includes('AWSCURRENT'),
      )?.[0];
      await client.send(
        new UpdateSecretVersionStageCommand({
          SecretId,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: token,
          RemoveFromVersionId: current,
        }),
      );
    }
  };
}

function stagesOf(emulator: SecretsManagerEmulator, secretId: string): Record<string, string[]> {
  return Object.fromEntries(
    emulator
      .inspect(secretId)
      .versions.filter((v) => v.stages.length > 0)
      .map((v) => [v.versionId, v.stages]),
  );
}

let sm: SecretsManagerEmulator;
let client: SecretsManagerClient;

beforeAll(async () => {
  sm = await startSecretsManagerEmulator({
    clock,
    rotationFunctions: (arn) => functions.get(arn),
    invocationTimeoutMs: 5_000,
    rotationRetry: { maxAttempts: 3, baseDelayMs: 10 },
    listPageSize: 4,
  });
  client = clientFor(sm);
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await sm?.stop();
});

describe('secrets and versions over the real SDK client', () => {
  it('reads AWSCURRENT by name, complete ARN and partial ARN, with the version CreatedDate', async () => {
    // Prepare
    const name = unique('app/key');
    const created = await client.send(new CreateSecretCommand({ Name: name, SecretString: '{"v":1}' }));
    now += 60_000;

    // Act
    const byName = await client.send(new GetSecretValueCommand({ SecretId: name }));
    const byArn = await client.send(new GetSecretValueCommand({ SecretId: created.ARN }));
    const byPartialArn = await client.send(
      new GetSecretValueCommand({ SecretId: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}` }),
    );

    // Assess
    expect(created.ARN).toMatch(
      new RegExp(`^arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-[A-Za-z0-9]{6}$`),
    );
    for (const out of [byName, byArn, byPartialArn]) {
      expect(out).toMatchObject({ ARN: created.ARN, Name: name, SecretString: '{"v":1}' });
      expect(out.VersionId).toBe(created.VersionId);
      expect(out.VersionStages).toEqual(['AWSCURRENT']);
      expect(out.CreatedDate).toEqual(new Date(now - 60_000));
    }
  });

  it('accepts a repeated ClientRequestToken with the same value and refuses it with another value', async () => {
    // Prepare
    const { name } = sm.createSecret(unique('idem'), 'v1');
    const token = randomUUID();
    const put = (value: string) =>
      client.send(
        new PutSecretValueCommand({
          SecretId: name,
          ClientRequestToken: token,
          SecretString: value,
          VersionStages: ['AWSPENDING'],
        }),
      );

    // Act
    const first = await put('v2');
    const again = await put('v2');
    const conflicting = put('v3');

    // Assess
    expect(first).toMatchObject({ VersionId: token, VersionStages: ['AWSPENDING'] });
    expect(again).toMatchObject({ VersionId: token, VersionStages: ['AWSPENDING'] });
    await expect(conflicting).rejects.toBeInstanceOf(ResourceExistsException);
    const versions = sm.inspect(name).versions;
    expect(versions).toHaveLength(2);
    expect(versions.find((v) => v.versionId === token)?.secretString).toBe('v2');
  });

  it('gives AWSPREVIOUS to the old version when AWSCURRENT moves', async () => {
    // Prepare
    const { name, versionId: first } = sm.createSecret(unique('prev'), 'one');
    const second = randomUUID();
    const third = randomUUID();

    // Act
    await client.send(
      new PutSecretValueCommand({ SecretId: name, ClientRequestToken: second, SecretString: 'two' }),
    );
    const afterPut = stagesOf(sm, name);
    await client.send(
      new PutSecretValueCommand({
        SecretId: name,
        ClientRequestToken: third,
        SecretString: 'three',
        VersionStages: ['AWSPENDING'],
      }),
    );
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: name,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: third,
        RemoveFromVersionId: second,
      }),
    );

    // Assess
    expect(afterPut).toEqual({ [second]: ['AWSCURRENT'], [first as string]: ['AWSPREVIOUS'] });
    expect(stagesOf(sm, name)).toEqual({ [second]: ['AWSPREVIOUS'], [third]: ['AWSPENDING', 'AWSCURRENT'] });
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.VersionIdsToStages).toEqual(stagesOf(sm, name));
  });

  it('reads a version by id, by stage or by both, and reports a missing one as ResourceNotFoundException', async () => {
    // Prepare
    const { name, versionId: current } = sm.createSecret(unique('get'), 'current');
    const pending = randomUUID();
    sm.putSecretValue(name, 'pending', { versionId: pending, versionStages: ['AWSPENDING'] });
    const get = (input: { VersionId?: string; VersionStage?: string }) =>
      client.send(new GetSecretValueCommand({ SecretId: name, ...input }));

    // Act
    const byId = await get({ VersionId: pending });
    const byStage = await get({ VersionStage: 'AWSPENDING' });
    const byBoth = await get({ VersionId: current, VersionStage: 'AWSCURRENT' });

    // Assess
    expect(byId.SecretString).toBe('pending');
    expect(byStage.VersionId).toBe(pending);
    expect(byBoth.SecretString).toBe('current');
    await expect(get({ VersionId: current, VersionStage: 'AWSPENDING' })).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    await expect(get({ VersionId: randomUUID() })).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(get({ VersionStage: 'AWSPREVIOUS' })).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(client.send(new GetSecretValueCommand({ SecretId: unique('nope') }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('moves a label only with the RemoveFromVersionId that has it, and removes AWSPENDING alone', async () => {
    // Prepare
    const { name, versionId: current } = sm.createSecret(unique('stage'), 'a');
    const pending = randomUUID();
    sm.putSecretValue(name, 'b', { versionId: pending, versionStages: ['AWSPENDING'] });
    const move = (removeFrom: string | undefined) =>
      client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: name,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: pending,
          RemoveFromVersionId: removeFrom,
        }),
      );

    // Act
    const wrong = move(pending);
    const missing = move(undefined);
    await expect(wrong).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(missing).rejects.toBeInstanceOf(InvalidParameterException);
    const unchanged = stagesOf(sm, name);
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: name,
        VersionStage: 'AWSPENDING',
        RemoveFromVersionId: pending,
      }),
    );

    // Assess
    expect(unchanged).toEqual({ [current as string]: ['AWSCURRENT'], [pending]: ['AWSPENDING'] });
    expect(stagesOf(sm, name)).toEqual({ [current as string]: ['AWSCURRENT'] });
    const listed = await client.send(new ListSecretVersionIdsCommand({ SecretId: name }));
    const all = await client.send(
      new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }),
    );
    expect(listed.Versions?.map((v) => v.VersionId)).toEqual([current]);
    expect(all.Versions?.map((v) => [v.VersionId, v.VersionStages])).toEqual([
      [current, ['AWSCURRENT']],
      [pending, []],
    ]);
  });

  it('drops old deprecated versions beyond the retention limit, never labelled or young ones', async () => {
    // Prepare
    const small = await startSecretsManagerEmulator({
      clock,
      versionRetention: { keep: 3, minAgeMs: 60_000 },
    });
    try {
      const { name, versionId: first } = small.createSecret('kept', 'v0');
      const aged = small.putSecretValue(name, 'v1', { versionStages: [] }).versionId;
      now += 120_000;

      // Act
      for (const value of ['v2', 'v3', 'v4']) small.putSecretValue(name, value, { versionStages: [] });

      // Assess
      const versions = small.inspect(name).versions;
      expect(versions.map((v) => v.secretString)).toEqual(['v0', 'v2', 'v3', 'v4']);
      expect(versions[0]).toMatchObject({ versionId: first, stages: ['AWSCURRENT'] });
      expect(versions.some((v) => v.versionId === aged)).toBe(false);
    } finally {
      await small.stop();
    }
  });

  it('lists secrets by name prefix page by page, each with SecretVersionsToStages', async () => {
    // Prepare
    const prefix = unique('list');
    const mine = Array.from({ length: 7 }, (_, i) => sm.createSecret(`${prefix}/s${i}`, `v${i}`));
    const other = sm.createSecret(unique('other'), 'x');
    sm.createSecret(`${unique('list')}-not-mine`, 'y');

    // Act
    const pages: ListSecretsCommandOutput[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new ListSecretsCommand({
          Filters: [{ Key: 'name', Values: [`${prefix}/`, other.name] }],
          MaxResults: 3,
          NextToken: nextToken,
        }),
      );
      pages.push(page);
      nextToken = page.NextToken;
    } while (nextToken);
    const defaultPage = await client.send(
      new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [prefix] }] }),
    );

    // Assess
    expect(pages.map((p) => p.SecretList?.length)).toEqual([3, 3, 2]);
    const listed = pages.flatMap((p) => p.SecretList ?? []);
    expect(listed.map((s) => s.ARN)).toEqual([...mine.map((s) => s.arn), other.arn]);
    expect(listed[0]?.SecretVersionsToStages).toEqual({ [mine[0]?.versionId as string]: ['AWSCURRENT'] });
    expect(defaultPage.SecretList).toHaveLength(4);
    expect(defaultPage.NextToken).toBeDefined();
    await expect(
      client.send(
        new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['zzz'] }], NextToken: nextToken ?? 'x' }),
      ),
    ).rejects.toBeInstanceOf(InvalidNextTokenException);
  });

  it('returns the batch AWSCURRENT values with an error entry for an unknown secret', async () => {
    // Prepare
    const a = sm.createSecret(unique('batch'), 'A');
    const b = sm.createSecret(unique('batch'), 'B');
    const unknown = unique('missing');

    // Act
    const out = await client.send(new BatchGetSecretValueCommand({ SecretIdList: [a.name, b.arn, unknown] }));

    // Assess
    expect(out.SecretValues?.map((v) => [v.Name, v.SecretString, v.VersionId, v.VersionStages])).toEqual([
      [a.name, 'A', a.versionId, ['AWSCURRENT']],
      [b.name, 'B', b.versionId, ['AWSCURRENT']],
    ]);
    expect(out.SecretValues?.[0]?.CreatedDate).toBeInstanceOf(Date);
    expect(out.Errors).toEqual([
      expect.objectContaining({ SecretId: unknown, ErrorCode: 'ResourceNotFoundException' }),
    ]);
    await expect(
      client.send(
        new BatchGetSecretValueCommand({ SecretIdList: Array.from({ length: 21 }, (_, i) => `s${i}`) }),
      ),
    ).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it('negates a filter value that starts with "!" and keeps the other values of the filter', async () => {
    // Prepare
    const prefix = unique('negate');
    const [a, b, c] = ['a', 'b', 'c'].map((s) => sm.createSecret(`${prefix}/${s}`, s));
    const names = async (Filters: { Key: 'name' | 'all'; Values: string[] }[]) =>
      (await client.send(new ListSecretsCommand({ Filters, MaxResults: 100 }))).SecretList?.map(
        (x) => x.Name,
      );

    // Act
    const withoutB = await names([{ Key: 'name', Values: [`${prefix}/`, `!${prefix}/b`] }]);
    const onlyNegated = await names([
      { Key: 'name', Values: [`${prefix}/`] },
      { Key: 'name', Values: [`!${prefix}/a`, `!${prefix}/c`] },
    ]);

    // Assess
    expect(withoutB).toEqual([a?.name, c?.name]);
    expect(onlyNegated).toEqual([b?.name]);
  });

  it('splits an "all" filter value into words and matches them in any attribute, not case-sensitive', async () => {
    // Prepare
    const prefix = unique('search');
    const create = (suffix: string, Description?: string, Tags?: { Key: string; Value: string }[]) =>
      client.send(
        new CreateSecretCommand({ Name: `${prefix}/${suffix}`, SecretString: 'v', Description, Tags }),
      );
    const orders = await create('orders-Database', 'Nightly export', [{ Key: 'Team', Value: 'Payments' }]);
    const billing = await create('billing', 'Reporting credentials', [{ Key: 'owner', Value: 'finance' }]);
    const other = await create('other');
    const search = async (...values: string[]) =>
      (
        await client.send(
          new ListSecretsCommand({
            Filters: [
              { Key: 'name', Values: [`${prefix}/`] },
              { Key: 'all', Values: values },
            ],
          }),
        )
      ).SecretList?.map((x) => x.Name);

    // Act
    const byTagValue = await search('PAYMENTS');
    const byCamelCaseWords = await search('credsDatabase#892');
    const byEitherWord = await search('reporting_EXPORT');
    const byTagKey = await search('OWNER');
    const negated = await search('!team');
    const noWord = await search('#');

    // Assess
    expect(byTagValue).toEqual([orders.Name]);
    // "creds", "Database" and "892": only "Database" begins a word (of orders-Database's name).
    expect(byCamelCaseWords).toEqual([orders.Name]);
    expect(byEitherWord).toEqual([orders.Name, billing.Name]);
    expect(byTagKey).toEqual([billing.Name]);
    expect(negated).toEqual([billing.Name, other.Name]);
    expect(noWord).toEqual([]);
  });

  it('returns the AWSCURRENT values of the secrets a BatchGetSecretValue filter selects, page by page', async () => {
    // Prepare
    const prefix = unique('batch-filter');
    const secrets = ['a', 'b', 'c', 'd'].map((s) => sm.createSecret(`${prefix}/${s}`, `value-${s}`));
    sm.createSecret(`${unique('batch-filter')}/x`, 'not mine');
    const filters = [{ Key: 'name' as const, Values: [`${prefix}/`, `!${prefix}/c`] }];

    // Act
    const first = await client.send(new BatchGetSecretValueCommand({ Filters: filters, MaxResults: 2 }));
    const second = await client.send(
      new BatchGetSecretValueCommand({ Filters: filters, MaxResults: 2, NextToken: first.NextToken }),
    );
    const both = client.send(
      new BatchGetSecretValueCommand({ Filters: filters, SecretIdList: [secrets[0]?.name as string] }),
    );

    // Assess
    expect(first.SecretValues?.map((v) => [v.Name, v.SecretString, v.VersionStages])).toEqual([
      [secrets[0]?.name, 'value-a', ['AWSCURRENT']],
      [secrets[1]?.name, 'value-b', ['AWSCURRENT']],
    ]);
    expect(first.NextToken).toBeDefined();
    expect(second.SecretValues?.map((v) => v.SecretString)).toEqual(['value-d']);
    expect(second.NextToken).toBeUndefined();
    await expect(both).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it('reaches the emulator through AWS_ENDPOINT_URL_SECRETS_MANAGER with any credentials', async () => {
    // Prepare
    const saved = process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = sm.endpoint;
    const name = unique('env');
    let envClient: SecretsManagerClient | undefined;
    try {
      envClient = new SecretsManagerClient({
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIAANYTHING', secretAccessKey: 'anything' },
      });
      clients.push(envClient);

      // Act
      await envClient.send(new CreateSecretCommand({ Name: name, SecretString: 'via-env' }));
      const out = await envClient.send(new GetSecretValueCommand({ SecretId: name }));

      // Assess
      expect(out.SecretString).toBe('via-env');
      expect(sm.inspect(name).versions).toHaveLength(1);
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
      else process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = saved;
    }
  });
});

describe('RotateSecret', () => {
  it('answers before the steps run, then runs the four steps and promotes the new version', async () => {
    // Prepare
    const { arn, name, versionId: before } = sm.createSecret(unique('rotate'), 'key-1');
    const fn = lambdaArn();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const seen: RotationEvent[] = [];
    functions.set(
      fn,
      templateRotator(client, {
        onStep: async (event) => {
          seen.push(event);
          await gate;
        },
      }),
    );
    sm.configureRotation(name, fn);
    now += 3_600_000;

    // Act
    const started = await client.send(new RotateSecretCommand({ SecretId: name }));
    const whileRunning = await client.send(new DescribeSecretCommand({ SecretId: name }));
    const stubRead = client.send(
      new GetSecretValueCommand({ SecretId: name, VersionId: started.VersionId, VersionStage: 'AWSPENDING' }),
    );
    await expect(stubRead).rejects.toBeInstanceOf(ResourceNotFoundException);
    const loggedBeforeRelease = sm.rotationLog.some((r) => r.versionId === started.VersionId);
    release();
    await sm.whenRotationsIdle();

    // Assess
    const token = started.VersionId as string;
    expect(started).toMatchObject({ ARN: arn, Name: name });
    expect(whileRunning.VersionIdsToStages?.[token]).toEqual(['AWSPENDING']);
    expect(whileRunning.LastRotatedDate).toBeUndefined();
    expect(loggedBeforeRelease).toBe(false);
    expect(seen.map((e) => e.Step)).toEqual(['createSecret', 'setSecret', 'testSecret', 'finishSecret']);
    expect(seen.every((e) => e.SecretId === arn && e.ClientRequestToken === token)).toBe(true);
    const record = sm.rotationLog.find((r) => r.versionId === token);
    expect(record).toMatchObject({ outcome: 'succeeded', attempts: 1, promoted: true, secretArn: arn });
    expect(seen[0]?.RotationToken).toBe(record?.rotationToken);
    const pending = sm.inspect(name).versions.find((v) => v.versionId === token);
    expect(pending).toMatchObject({ secretString: 'key-1+', rotationToken: record?.rotationToken });
    // The service leaves AWSPENDING where the function left it: here on the new AWSCURRENT version.
    expect(stagesOf(sm, name)).toEqual({
      [before as string]: ['AWSPREVIOUS'],
      [token]: ['AWSPENDING', 'AWSCURRENT'],
    });
    const after = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(after).toMatchObject({ RotationEnabled: true, RotationLambdaARN: fn });
    expect(after.LastRotatedDate).toEqual(new Date(now));
  });

  it('refuses to start while a previous rotation is incomplete, until AWSPENDING is cleared', async () => {
    // Prepare
    const { name } = sm.createSecret(unique('stuck'), 'key');
    const fn = lambdaArn();
    let broken = true;
    functions.set(
      fn,
      templateRotator(client, {
        onStep: (event) => {
          if (broken && event.Step === 'createSecret') throw new Error('Momento is down');
        },
      }),
    );
    sm.configureRotation(name, fn);
    const first = await client.send(new RotateSecretCommand({ SecretId: name }));
    await sm.whenRotationsIdle();

    // Act
    const refused = client.send(new RotateSecretCommand({ SecretId: name }));
    await expect(refused).rejects.toBeInstanceOf(InvalidRequestException);
    await expect(refused).rejects.toThrow("A previous rotation isn't complete");
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: name,
        VersionStage: 'AWSPENDING',
        RemoveFromVersionId: first.VersionId,
      }),
    );
    broken = false;
    const second = await client.send(new RotateSecretCommand({ SecretId: name }));
    await sm.whenRotationsIdle();

    // Assess
    expect(sm.rotationLog.find((r) => r.versionId === first.VersionId)).toMatchObject({
      outcome: 'failed',
      failedStep: 'createSecret',
      error: 'Error: Momento is down',
      attempts: 3,
      promoted: false,
    });
    expect(sm.rotationLog.find((r) => r.versionId === second.VersionId)).toMatchObject({
      outcome: 'succeeded',
    });
    expect(
      sm.inspect(name).versions.find((v) => v.versionId === first.VersionId)?.secretString,
    ).toBeUndefined();
  });

  it('retries the whole rotation after a failed step without writing a second version', async () => {
    // Prepare
    const { name } = sm.createSecret(unique('retry'), 'key');
    const fn = lambdaArn();
    let failures = 0;
    functions.set(
      fn,
      templateRotator(client, {
        onStep: (event) => {
          if (event.Step === 'setSecret' && failures++ === 0) throw new Error('transient');
        },
      }),
    );

    // Act
    const started = await client.send(
      new RotateSecretCommand({
        SecretId: name,
        RotationLambdaARN: fn,
        RotationRules: { AutomaticallyAfterDays: 7 },
      }),
    );
    await sm.whenRotationsIdle();

    // Assess
    const record = sm.rotationLog.find((r) => r.versionId === started.VersionId);
    expect(record).toMatchObject({ outcome: 'succeeded', attempts: 2, promoted: true });
    expect(record?.steps.map((s) => `${s.attempt}:${s.step}:${s.outcome}`)).toEqual([
      '1:createSecret:ok',
      '1:setSecret:error',
      '2:createSecret:ok',
      '2:setSecret:ok',
      '2:testSecret:ok',
      '2:finishSecret:ok',
    ]);
    expect(sm.inspect(name).versions).toHaveLength(2);
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described).toMatchObject({ RotationEnabled: true, RotationRules: { AutomaticallyAfterDays: 7 } });
  });

  it('refuses to rotate a secret that has no rotation function configured', async () => {
    // Prepare
    const { name } = sm.createSecret(unique('unconfigured'), 'key');

    // Act
    const attempt = client.send(new RotateSecretCommand({ SecretId: name }));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InvalidRequestException);
    expect(stagesOf(sm, name)).toEqual({
      [sm.inspect(name).versions[0]?.versionId as string]: ['AWSCURRENT'],
    });
  });

  it('runs only testSecret and removes AWSPENDING again when RotateImmediately is false', async () => {
    // Prepare
    const { name, versionId: current } = sm.createSecret(unique('dry-run'), 'key');
    const fn = lambdaArn();
    const steps: string[] = [];
    functions.set(fn, templateRotator(client, { onStep: (event) => void steps.push(event.Step) }));

    // Act
    const started = await client.send(
      new RotateSecretCommand({ SecretId: name, RotationLambdaARN: fn, RotateImmediately: false }),
    );
    await sm.whenRotationsIdle();

    // Assess
    expect(steps).toEqual(['testSecret']);
    expect(sm.rotationLog.find((r) => r.versionId === started.VersionId)).toMatchObject({
      mode: 'test',
      outcome: 'succeeded',
    });
    expect(stagesOf(sm, name)).toEqual({ [current as string]: ['AWSCURRENT'] });
    expect(sm.inspect(name).lastRotatedDate).toBeUndefined();
  });

  it('stops retrying a rotation once CancelRotateSecret turned rotation off', async () => {
    // Prepare
    const { name } = sm.createSecret(unique('cancel'), 'key');
    const fn = lambdaArn();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    functions.set(
      fn,
      templateRotator(client, {
        onStep: async (event) => {
          if (event.Step === 'createSecret') await gate;
        },
      }),
    );
    sm.configureRotation(name, fn);
    const started = await client.send(new RotateSecretCommand({ SecretId: name }));

    // Act
    const cancelled = await client.send(new CancelRotateSecretCommand({ SecretId: name }));
    release();
    await sm.whenRotationsIdle();

    // Assess
    expect(cancelled.VersionId).toBe(started.VersionId);
    expect(sm.rotationLog.find((r) => r.versionId === started.VersionId)).toMatchObject({
      outcome: 'failed',
      failedStep: 'createSecret',
      attempts: 1,
    });
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.RotationEnabled).toBe(false);
    expect(described.VersionIdsToStages?.[started.VersionId as string]).toEqual(['AWSPENDING']);
  });

  it('answers a RotateSecret whose response was lost with the same version when the SDK retries', async () => {
    // Prepare
    const { name } = sm.createSecret(unique('lost-rotate'), 'key');
    const fn = lambdaArn();
    functions.set(fn, templateRotator(client));
    sm.configureRotation(name, fn);
    sm.faults.commitThenDropNext('RotateSecret', 1);

    // Act
    const started = await client.send(new RotateSecretCommand({ SecretId: name }));
    await sm.whenRotationsIdle();

    // Assess
    expect(started.$metadata.attempts).toBe(2);
    const runs = sm.rotationLog.filter((r) => r.secretArn === sm.inspect(name).arn);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ versionId: started.VersionId, outcome: 'succeeded' });
  });
});

describe('rotation function timeout', () => {
  let fast: SecretsManagerEmulator;
  let fastClient: SecretsManagerClient;

  beforeAll(async () => {
    fast = await startSecretsManagerEmulator({
      clock,
      rotationFunctions: (arn) => functions.get(arn),
      invocationTimeoutMs: 800,
      rotationRetry: { maxAttempts: 2, baseDelayMs: 10 },
    });
    fastClient = clientFor(fast);
  });

  afterAll(async () => {
    await fast?.stop();
  });

  it('fails an invocation that outlives the timeout and retries the rotation', async () => {
    // Prepare
    const { name } = fast.createSecret(unique('slow'), 'key');
    const fn = lambdaArn();
    const remaining: number[] = [];
    let calls = 0;
    let unfreeze: () => void = () => undefined;
    const frozen = new Promise<void>((resolve) => {
      unfreeze = resolve;
    });
    functions.set(
      fn,
      templateRotator(fastClient, {
        onStep: async (event, context) => {
          remaining.push(context.getRemainingTimeInMillis());
          if (event.Step === 'createSecret' && calls++ === 0) await frozen;
        },
      }),
    );
    fast.configureRotation(name, fn);

    // Act
    const started = await fastClient.send(new RotateSecretCommand({ SecretId: name }));
    await fast.whenRotationsIdle();
    const stillRunning = calls;
    unfreeze();
    await fast.whenRotationsIdle({ includeAbandoned: true });

    // Assess
    const record = fast.rotationLog.find((r) => r.versionId === started.VersionId);
    expect(record).toMatchObject({ outcome: 'succeeded', attempts: 2, promoted: true });
    expect(record?.steps[0]).toMatchObject({
      step: 'createSecret',
      attempt: 1,
      outcome: 'timeout',
      error: 'Task timed out after 0.80 seconds',
    });
    expect(remaining.every((ms) => ms > 0 && ms <= 800)).toBe(true);
    expect(stillRunning).toBe(2);
    // The timed-out invocation finished in the background without writing a second version.
    expect(fast.inspect(name).versions).toHaveLength(2);
  });
});

describe('fault injection through the SDK', () => {
  it('lets the SDK retry a throttled call and reports ThrottlingException once attempts run out', async () => {
    // Prepare
    const { name } = sm.createSecret(unique('throttle'), 'v');
    const oneRetry = clientFor(sm, { maxAttempts: 2 });
    const throttledBefore = sm.stats.faults.throttle;
    sm.faults.throttleNext('GetSecretValue', 1);

    // Act
    const recovered = await client.send(new GetSecretValueCommand({ SecretId: name }));
    sm.faults.throttleNext('DescribeSecret', 2);
    const exhausted = oneRetry.send(new DescribeSecretCommand({ SecretId: name }));

    // Assess
    expect(recovered.$metadata.attempts).toBe(2);
    await expect(exhausted).rejects.toMatchObject({
      name: 'ThrottlingException',
      $metadata: { attempts: 2 },
    });
    expect(sm.stats.faults.throttle - throttledBefore).toBe(3);
  });

  it('lets the SDK retry server errors and reports InternalServiceError once attempts run out', async () => {
    // Prepare
    const { name } = sm.createSecret(unique('5xx'), 'v');
    const callsBefore = sm.stats.calls.DescribeSecret;
    sm.faults.serverErrorNext('DescribeSecret', 2);

    // Act
    const recovered = await client.send(new DescribeSecretCommand({ SecretId: name }));
    sm.faults.serverErrorNext('DescribeSecret', 3);
    const exhausted = client.send(new DescribeSecretCommand({ SecretId: name }));

    // Assess
    expect(recovered.$metadata.attempts).toBe(3);
    await expect(exhausted).rejects.toBeInstanceOf(InternalServiceError);
    expect(sm.stats.calls.DescribeSecret - callsBefore).toBe(6);
  });

  it('adds counted faults armed twice on one operation instead of replacing the first', async () => {
    // Prepare
    const { name } = sm.createSecret(unique('armed-twice'), 'v');
    const once = clientFor(sm, { maxAttempts: 1 });
    const get = () =>
      once.send(new GetSecretValueCommand({ SecretId: name })).then(
        () => 'ok',
        (error: Error) => error.name,
      );
    const token = randomUUID();
    const put = () =>
      once
        .send(new PutSecretValueCommand({ SecretId: name, ClientRequestToken: token, SecretString: 'w' }))
        .then(
          () => 'ok',
          (error: Error) => error.name,
        );

    // Act
    sm.faults.throttleNext('GetSecretValue', 1);
    sm.faults.throttleNext('GetSecretValue', 1);
    sm.faults.serverErrorNext('GetSecretValue', 1);
    sm.faults.serverErrorNext('GetSecretValue', 2);
    const gets = [await get(), await get(), await get(), await get(), await get(), await get()];
    sm.faults.commitThenDropNext('PutSecretValue', 1, 'status500');
    sm.faults.commitThenDropNext('PutSecretValue', 1, 'reset');
    const puts = [await put(), await put(), await put()];
    sm.faults.latency('DescribeSecret', 60, 1);
    sm.faults.latency('DescribeSecret', 120, 1);
    const describes = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      await once.send(new DescribeSecretCommand({ SecretId: name }));
      describes.push(performance.now() - started);
    }

    // Assess
    expect(gets).toEqual([
      'ThrottlingException',
      'ThrottlingException',
      'InternalServiceError',
      'InternalServiceError',
      'InternalServiceError',
      'ok',
    ]);
    const putLog = sm.requestLog.filter(
      (r) => r.operation === 'PutSecretValue' && r.clientRequestToken === token,
    );
    expect(puts[2]).toBe('ok');
    expect(putLog.map((r) => [r.fault, r.status])).toEqual([
      ['commitThenDrop', 500],
      ['commitThenDrop', 0],
      [undefined, 200],
    ]);
    const latencies = sm.requestLog
      .filter((r) => r.operation === 'DescribeSecret' && r.secretId === name)
      .map((r) => r.latencyMs);
    expect(latencies).toEqual([60, 120, undefined]);
    expect(describes[1]).toBeGreaterThanOrEqual(115);
  });

  it('keeps a PutSecretValue whose response was lost idempotent for the SDK retry and a later call', async () => {
    // Prepare
    const { name } = sm.createSecret(unique('drop'), 'v1');
    const noRetry = clientFor(sm, { maxAttempts: 1 });
    const resetToken = randomUUID();
    const status500Token = randomUUID();
    const put = (c: SecretsManagerClient, token: string, value: string) =>
      c.send(
        new PutSecretValueCommand({
          SecretId: name,
          ClientRequestToken: token,
          SecretString: value,
          VersionStages: ['AWSPENDING'],
        }),
      );

    // Act
    sm.faults.commitThenDropNext('PutSecretValue', 1, 'reset');
    const retried = await put(client, resetToken, 'v2');
    sm.faults.commitThenDropNext('PutSecretValue', 1, 'status500');
    await expect(put(noRetry, status500Token, 'v3')).rejects.toBeInstanceOf(InternalServiceError);
    const committedBeforeRetry = sm.inspect(name).versions.some((v) => v.versionId === status500Token);
    const later = await put(noRetry, status500Token, 'v3');

    // Assess
    expect(retried).toMatchObject({ VersionId: resetToken, $metadata: { attempts: 2 } });
    expect(committedBeforeRetry).toBe(true);
    expect(later).toMatchObject({ VersionId: status500Token, VersionStages: ['AWSPENDING'] });
    const puts = sm.requestLog.filter((r) => r.operation === 'PutSecretValue' && r.secretId === name);
    expect(puts.map((r) => [r.clientRequestToken, r.status, r.fault])).toEqual([
      [resetToken, 0, 'commitThenDrop'],
      [resetToken, 200, undefined],
      [status500Token, 500, 'commitThenDrop'],
      [status500Token, 200, undefined],
    ]);
    expect(sm.inspect(name).versions.map((v) => v.secretString)).toEqual(['v1', 'v2', 'v3']);
  });

  it('delays answers by the injected latency', async () => {
    // Prepare
    const { name } = sm.createSecret(unique('slow'), 'v');
    sm.faults.latency('GetSecretValue', 150, 1);

    // Act
    const started = performance.now();
    await client.send(new GetSecretValueCommand({ SecretId: name }));
    const elapsed = performance.now() - started;
    await client.send(new GetSecretValueCommand({ SecretId: name }));

    // Assess
    expect(elapsed).toBeGreaterThanOrEqual(145);
    const gets = sm.requestLog.filter((r) => r.operation === 'GetSecretValue' && r.secretId === name);
    expect(gets.map((r) => r.latencyMs)).toEqual([150, undefined]);
  });

  it('still processes a delayed call whose client gave up meanwhile', async () => {
    // Prepare
    const { name } = sm.createSecret(unique('late'), 'v1');
    const token = randomUUID();
    const once = clientFor(sm, { maxAttempts: 1 });
    sm.faults.latency('PutSecretValue', 200, 1);

    // Act
    const abandoned = once.send(
      new PutSecretValueCommand({
        SecretId: name,
        ClientRequestToken: token,
        SecretString: 'v2',
        VersionStages: ['AWSPENDING'],
      }),
      { abortSignal: AbortSignal.timeout(50) },
    );
    await expect(abandoned).rejects.toThrow();
    const writtenWhenClientGaveUp = sm.inspect(name).versions.some((v) => v.versionId === token);
    await sm.whenRequestsIdle();

    // Assess
    expect(writtenWhenClientGaveUp).toBe(false);
    expect(sm.inspect(name).versions.find((v) => v.versionId === token)).toMatchObject({
      secretString: 'v2',
      stages: ['AWSPENDING'],
    });
  });

  it('leaves exactly one version per token under seeded random drops and server errors', async () => {
    // Prepare
    const { name } = sm.createSecret(unique('chaos'), 'v0');
    const tokens = Array.from({ length: 12 }, () => randomUUID());
    sm.faults.chaos('PutSecretValue', { commitThenDrop: 0.4, serverError: 0.2 }, 7);

    // Act
    const first = await Promise.allSettled(
      tokens.map((token, i) =>
        client.send(
          new PutSecretValueCommand({ SecretId: name, ClientRequestToken: token, SecretString: `v${i + 1}` }),
        ),
      ),
    );
    sm.faults.clear();
    for (const [i, token] of tokens.entries()) {
      await client.send(
        new PutSecretValueCommand({ SecretId: name, ClientRequestToken: token, SecretString: `v${i + 1}` }),
      );
    }

    // Assess
    expect(first.some((r) => r.status === 'fulfilled')).toBe(true);
    const versions = sm.inspect(name).versions;
    expect(versions).toHaveLength(13);
    expect(new Set(versions.map((v) => v.versionId)).size).toBe(13);
    expect(sm.stats.faultsByOperation.PutSecretValue?.commitThenDrop).toBeGreaterThan(0);
  });
});
