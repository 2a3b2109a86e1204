import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { status as grpcStatus } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LambdaEmulator, startLambdaEmulator } from '../emulators/lambda';
import { FUNCTION_ARN, LocalAws, REGION } from '../support/local-aws';
import { capturedOutput, record, registerSecret } from '../support/secret-material';
import { HOUR, loadHandler, registerAllSecretMaterial } from './support';

/**
 * The operator CLI end to end: `bin/momento-token-rotator.mjs` as a child process, as a person runs it, against
 * the Secrets Manager and Momento emulators and a local Lambda + CloudWatch Logs, with the real rotator function
 * answering Secrets Manager's rotation steps in this process. Outputs are read as a person reads them.
 */
const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'momento-token-rotator.mjs');
/** The deployment the stack would create: its function is `<stack>-rotator`, the ARN the secrets rotate with. */
const STACK = 'momento-token';

let aws: LocalAws;
let lambda: LambdaEmulator;
let dir: string;
const managed: string[] = [];

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI; its whole output joins the file's transcript, which the leak check reads. */
function cli(...args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.sm.endpoint,
    AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
    AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: lambda.endpoint,
    MOMENTO_ENDPOINT_OVERRIDE: aws.momento.endpoint,
  };
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      record(stdout);
      record(stderr);
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The rotator's JSON log records, as CloudWatch Logs would hold them for its log group. */
function functionLogEvents() {
  return capturedOutput()
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"timestamp"') && !line.includes('"_aws"'))
    .map((line) => ({
      timestamp: Date.parse((JSON.parse(line) as { timestamp: string }).timestamp),
      message: line,
    }));
}

async function consoleJson(name: string, value: unknown): Promise<string> {
  const file = path.join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(value));
  return file;
}

/** The deployment's function (named after the stack, the ARN the secrets rotate with), managing `ids`. */
function deploy(ids: readonly string[]): void {
  lambda.addFunction({
    functionName: `${STACK}-rotator`,
    environment: { ROTATOR_SECRET_IDS: ids.join(',') },
  });
}

/** A secret the deployment manages, holding a fresh pair from the emulator. */
function seed(name: string, lifetimeSeconds: number) {
  managed.push(name);
  return aws.seed(name, lifetimeSeconds);
}

/** A secret as the stack creates it: the placeholder, rotation wired, no schedule. */
function placeholder(name: string, extra: Record<string, unknown> = {}) {
  managed.push(name);
  const created = aws.sm.createSecret(name, JSON.stringify({ uninitialised: 'put the JSON', ...extra }));
  aws.sm.configureRotation(created.arn, FUNCTION_ARN);
  return created;
}

function mint(lifetimeSeconds: number, scope?: 'data') {
  const pair = aws.momento.mintKeyPair({ lifetimeSeconds, ...(scope ? { scope } : {}) });
  registerSecret(pair.apiKey);
  registerSecret(pair.refreshToken);
  return pair;
}

beforeAll(async () => {
  aws = await LocalAws.start({
    secretsManager: { rotationRetry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20 } },
  });
  lambda = await startLambdaEmulator({ logEvents: functionLogEvents });
  dir = await mkdtemp(path.join(tmpdir(), 'momento-cli-'));
});

afterAll(async () => {
  registerAllSecretMaterial(aws, managed);
  await lambda.stop();
  await aws.stop();
  await rm(dir, { recursive: true, force: true });
  vi.unstubAllEnvs();
});

describe('momento-token-rotator --help', () => {
  it('lists put, status, rotate and doctor, and the exit codes', async () => {
    const run = await cli('--help');

    expect(run.code).toBe(0);
    for (const command of ['put', 'status', 'rotate', 'doctor'])
      expect(run.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(run.stdout).toContain('3  refused: put or rotate changed nothing');
  });

  it('answers an unknown option with one line and exit code 2', async () => {
    const run = await cli('status', '--stack', 'x');

    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')[0]).toMatch(/^error: unknown option '--stack'/);
  });
});

describe('put', () => {
  it('stores a console pair as AWSCURRENT over the placeholder, keeping the extra fields, printing fingerprints only', async () => {
    const { arn } = placeholder('cli/put-fresh', { team: 'payments' });
    const pair = mint(24 * HOUR);
    const file = await consoleJson('fresh', pair);

    const run = await cli('put', '--secret-id', 'cli/put-fresh', '--file', file);

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^key in .*fresh\.json: sha256:[0-9a-f]{8}, v1 key, refreshed by the rotator, valid until/m,
    );
    expect(run.stdout).toContain('Momento accepts the key');
    expect(run.stdout).toMatch(
      /^wrote cli\/put-fresh version [0-9a-f-]{36} as AWSCURRENT: key sha256:[0-9a-f]{8}/m,
    );
    expect(run.stdout).toContain('the rotator refreshes it before it expires: nothing more to do');
    expect(aws.value(arn)).toEqual({ team: 'payments', ...pair });
  });

  it('refuses a pair older than the stored one and changes nothing; --force writes it and says what it overwrote', async () => {
    const secret = seed('cli/put-older', 24 * HOUR);
    const before = aws.value(secret.arn);
    const older = await consoleJson('older', mint(HOUR));

    const refused = await cli('put', '--secret-id', secret.name, '--file', older);
    const forced = await cli('put', '--secret-id', secret.name, '--file', older, '--force');

    expect(refused.code).toBe(3);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(
      /^error: refused: the key in the file expires before the stored one \(key sha256:[0-9a-f]{8}, valid until/,
    );
    expect(refused.stderr).toContain('Nothing written (--force writes anyway)');
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain(
      '--force: writing although the key in the file expires before the stored one',
    );
    expect(forced.stdout).toMatch(
      /^replacing AWSCURRENT version [0-9a-f-]{36}: key sha256:[0-9a-f]{8}, valid until/m,
    );
    expect(aws.value(secret.arn).apiKey).not.toBe(before.apiKey);
  });

  it('refuses a key Momento rejects, and a key whose file is malformed, writing nothing', async () => {
    const { arn } = placeholder('cli/put-rejected');
    const revoked = mint(24 * HOUR);
    aws.momento.revokeKey(revoked.apiKey);
    const noToken = mint(24 * HOUR);

    const rejected = await cli(
      'put',
      '--secret-id',
      'cli/put-rejected',
      '--file',
      await consoleJson('revoked', revoked),
    );
    const malformed = await cli(
      'put',
      '--secret-id',
      'cli/put-rejected',
      '--file',
      await consoleJson('no-token', { apiKey: noToken.apiKey, validUntil: noToken.validUntil }),
    );

    expect(rejected.code).toBe(3);
    expect(rejected.stderr).toBe('error: Momento rejected the key (AUTHENTICATION_ERROR); nothing written\n');
    expect(malformed.code).toBe(3);
    expect(malformed.stderr).toMatch(
      /^error: --file .*no-token\.json: field "refreshToken" is missing for a key that expires; nothing written\n$/,
    );
    expect(aws.value(arn)).toEqual({ uninitialised: 'put the JSON' });
  });

  it('accepts a data-scoped key: PERMISSION_ERROR on the check proves the key', async () => {
    placeholder('cli/put-data-scoped');

    const run = await cli(
      'put',
      '--secret-id',
      'cli/put-data-scoped',
      '--file',
      await consoleJson('data', mint(24 * HOUR, 'data')),
    );

    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'Momento accepts the key (PERMISSION_ERROR: a key scoped to data calls may not list caches)',
    );
  });

  it('stores a v2 key with its endpoint and says it is renewed by hand', async () => {
    const { arn } = placeholder('cli/put-v2');
    const v2 = aws.momento.mintV2Key({ lifetimeSeconds: 30 * 24 * HOUR });
    registerSecret(`v2-${v2.apiKey.slice(v2.apiKey.indexOf('.') + 1)}`);

    const run = await cli(
      'put',
      '--secret-id',
      'cli/put-v2',
      '--file',
      await consoleJson('v2', { apiKey: v2.apiKey, endpoint: v2.endpoint }),
    );

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('v2 key, renewed by hand (manual-renewal), valid until');
    expect(run.stdout).toContain(
      'a v2 key cannot be refreshed: create a new key in the Momento console before it expires',
    );
    expect(aws.value(arn)).toEqual({ apiKey: v2.apiKey, endpoint: v2.endpoint });
  });

  it('refuses to write while a rotation is in progress', async () => {
    const secret = seed('cli/put-rotating', 24 * HOUR);
    aws.sm.putSecretValue(secret.arn, JSON.stringify(mint(24 * HOUR)), { versionStages: ['AWSPENDING'] });

    const run = await cli(
      'put',
      '--secret-id',
      secret.name,
      '--file',
      await consoleJson('during', mint(48 * HOUR)),
    );

    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      /^error: refused: a rotation is in progress \(AWSPENDING on version [0-9a-f-]{36}\)/,
    );
  });
});

describe('status', () => {
  it('prints every secret of a deployment with state, fingerprint, expiry and time left, or the same as JSON', async () => {
    const ids = ['cli/status-v1', 'cli/status-v2', 'cli/status-empty'];
    seed('cli/status-v1', 24 * HOUR);
    const v2 = aws.momento.mintV2Key({ lifetimeSeconds: 7 * 24 * HOUR });
    registerSecret(`v2-${v2.apiKey.slice(v2.apiKey.indexOf('.') + 1)}`);
    aws.sm.configureRotation(
      aws.sm.createSecret('cli/status-v2', JSON.stringify({ apiKey: v2.apiKey, endpoint: v2.endpoint })).arn,
      FUNCTION_ARN,
      { AutomaticallyAfterDays: 30 },
    );
    placeholder('cli/status-empty');
    deploy(ids);

    const text = await cli('status', '--stack-name', STACK);
    const json = await cli('status', '--stack-name', STACK, '--json');

    expect(text.code).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^SECRET\s+STATE\s+KEY\s+VALID UNTIL\s+LEFT\s+LAST ROTATED\s+SCHEDULE$/);
    expect(lines.find((l) => l.startsWith('cli/status-v1'))).toMatch(
      / not-due +v1 sha256:[0-9a-f]{8} +\S+Z +23h 59m +- +none$/,
    );
    expect(lines.find((l) => l.startsWith('cli/status-v2'))).toMatch(
      / manual-renewal +v2 sha256:[0-9a-f]{8} +\S+Z +(6d 23h 59m|7d 00h 00m) +- +every 30 days$/,
    );
    expect(lines.find((l) => l.startsWith('cli/status-empty'))).toMatch(/ uninitialised +- +- +- +- +none$/);
    const parsed = JSON.parse(json.stdout) as { secrets: Array<Record<string, unknown>> };
    expect(parsed.secrets.map((s) => [s.secretId, s.state])).toEqual([
      ['cli/status-v1', 'not-due'],
      ['cli/status-v2', 'manual-renewal'],
      ['cli/status-empty', 'uninitialised'],
    ]);
    expect(parsed.secrets[1]).toMatchObject({
      keyKind: 'v2',
      leftoverSchedule: 'every 30 days',
      validUntil: v2.validUntil,
    });
  });

  it('finds the secrets by tag, and fails with one line and exit 4 for a deployment that does not exist', async () => {
    for (const [name, Value] of [
      ['cli/tag-blue', 'blue'],
      ['cli/tag-green', 'green'],
    ] as const) {
      managed.push(name);
      await aws.client.send(
        new CreateSecretCommand({
          Name: name,
          SecretString: '{"uninitialised":"x"}',
          Tags: [{ Key: 'rotator', Value }],
        }),
      );
    }

    const blue = await cli('status', '--tag', 'rotator=blue', '--json');
    const any = await cli('status', '--tag', 'rotator', '--json');
    const missing = await cli('status', '--stack-name', 'NoSuchStack');

    const names = (run: Run) =>
      (JSON.parse(run.stdout) as { secrets: Array<{ secretId: string }> }).secrets.map((s) => s.secretId);
    expect(names(blue)).toEqual(['cli/tag-blue']);
    expect(names(any).sort()).toEqual(['cli/tag-blue', 'cli/tag-green']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toBe(
      'error: no function NoSuchStack-rotator: is stack NoSuchStack deployed in this account and region?\n',
    );
  });
});

describe('rotate', () => {
  it('starts a rotation and follows it step by step until AWSCURRENT moves', async () => {
    const secret = seed('cli/rotate-ok', 24 * HOUR);
    await loadHandler(aws, [secret.name]);
    deploy([secret.name]);
    const before = aws.value(secret.arn);

    const run = await cli('rotate', '--secret-id', secret.name);

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe(`rotating ${secret.name}`);
    expect(lines).toContainEqual(
      expect.stringMatching(/^ {2}✓ RotateSecret: rotation started, version [0-9a-f-]{36}$/),
    );
    expect(run.stdout).toContain('· createSecret: new pair written as AWSPENDING');
    expect(run.stdout).toContain('· setSecret: nothing to set at Momento');
    expect(run.stdout).toContain('· testSecret: pending key accepted by Momento');
    expect(run.stdout).toMatch(
      /✓ AWSCURRENT moved to version [0-9a-f-]{36}\nrotated cli\/rotate-ok: key sha256:[0-9a-f]{8}, valid until/,
    );
    expect(aws.value(secret.arn).apiKey).not.toBe(before.apiKey);
    expect(aws.chainIntact(secret)).toBe(true);
  });

  it('exits non-zero naming the failed step and its error when Momento refuses the refresh', async () => {
    const secret = seed('cli/rotate-fails', 24 * HOUR);
    await loadHandler(aws, [secret.name]);
    deploy([secret.name]);
    aws.momento.faults.failNext('RefreshApiToken', 4, grpcStatus.INVALID_ARGUMENT);
    const before = aws.versionIdWith(secret.arn, 'AWSCURRENT');

    const run = await cli('rotate', '--secret-id', secret.name);
    aws.momento.faults.clear();

    expect(run.code).toBe(1);
    expect(run.stdout.match(/✗ createSecret failed: RefreshFailedError: /g)).toHaveLength(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(
      /^error: rotation [0-9a-f-]{36} of cli\/rotate-fails failed at createSecret: RefreshFailedError: .*INVALID_ARGUMENT_ERROR.*AWSCURRENT is unchanged/,
    );
    expect(aws.versionIdWith(secret.arn, 'AWSCURRENT')).toBe(before);
  });

  it('refuses a v2 key with how to renew it, and shows a stack only with --verbose', async () => {
    const v2 = aws.momento.mintV2Key({ lifetimeSeconds: 24 * HOUR });
    registerSecret(`v2-${v2.apiKey.slice(v2.apiKey.indexOf('.') + 1)}`);
    const { arn } = aws.sm.createSecret(
      'cli/rotate-v2',
      JSON.stringify({ apiKey: v2.apiKey, endpoint: v2.endpoint }),
    );
    aws.sm.configureRotation(arn, FUNCTION_ARN);

    const run = await cli('rotate', '--secret-id', 'cli/rotate-v2');
    const missing = await cli('rotate', '--secret-id', 'cli/no-such-secret');
    const verbose = await cli('--verbose', 'rotate', '--secret-id', 'cli/no-such-secret');

    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      /^error: secret cli\/rotate-v2 holds a Momento v2 API key, which cannot be refreshed .*; nothing started\n$/,
    );
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/^error: ResourceNotFoundException: .*\n$/);
    expect(missing.stderr).not.toContain('    at ');
    expect(verbose.stderr).toContain('    at ');
  });
});

describe('doctor', () => {
  it('passes a healthy deployment and names each problem of a broken one with its fix', async () => {
    const healthy = seed('cli/doctor-ok', 24 * HOUR);
    const scheduled = seed('cli/doctor-schedule', 24 * HOUR);
    aws.sm.configureRotation(scheduled.arn, FUNCTION_ARN, { AutomaticallyAfterDays: 30 });
    const stuck = seed('cli/doctor-stuck', 24 * HOUR);
    aws.sm.putSecretValue(stuck.arn, JSON.stringify(mint(24 * HOUR)), { versionStages: ['AWSPENDING'] });
    const rejected = seed('cli/doctor-rejected', 24 * HOUR);
    aws.momento.revokeKey(aws.value(rejected.arn).apiKey as string);
    deploy([healthy.name]);
    const ok = await cli('doctor', '--stack-name', STACK);
    deploy([scheduled.name, stuck.name, rejected.name]);
    const bad = await cli('doctor', '--stack-name', STACK);
    const json = await cli('doctor', '--secret-id', rejected.name, '--json');

    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^cli\/doctor-ok\n {2}✓ rotation wiring +rotation calls arn:aws:lambda:/);
    expect(ok.stdout).toMatch(/✓ key +v1 key sha256:[0-9a-f]{8} accepted by Momento/);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(
      '✗ schedule        a Secrets Manager schedule (every 30 days) rotates the secret besides the sweep',
    );
    expect(bad.stdout).toMatch(
      /✗ rotation state +an unfinished rotation holds AWSPENDING on version [0-9a-f-]{36}/,
    );
    expect(bad.stdout).toContain(`"action":"rotate","force":true,"secretId":"${stuck.name}"`);
    expect(bad.stdout).toMatch(
      /✗ key +Momento rejects v1 key sha256:[0-9a-f]{8} \(AUTHENTICATION_ERROR\)\n {4}fix: create a new key in the Momento console and put it: npx momento-token-rotator put --secret-id cli\/doctor-rejected/,
    );
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: false,
      secrets: [
        {
          secretId: rejected.name,
          checks: expect.arrayContaining([expect.objectContaining({ check: 'key', result: 'fail' })]),
        },
      ],
    });
  });
});
