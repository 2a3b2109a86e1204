import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FUNCTION_CODE_DIR, FUNCTION_ENTRY } from '../../lib';
import { buildContainer, Container, childEnv } from '../../scripts/bench/processes';
import { DEFAULT_DEPLOYMENT_NAME, METRICS_NAMESPACE } from '../../src/deployment-names';
import { LocalAws, type SeededSecret } from '../support/local-aws';

/**
 * End to end through the function exactly as the stack ships it: dist/function (built by the test run's global
 * setup, the directory the construct deploys, see test/cdk/stack.test.ts) loaded by a fresh Node.js process the
 * way Lambda's runtime loads an ES module handler, against the emulators. A bundling change that breaks a lazy
 * import, or the unwrapping of the Momento SDK's chunk, fails here and nowhere else.
 */
const DAY = 86_400;
const entry = path.join(FUNCTION_CODE_DIR, FUNCTION_ENTRY);

let aws: LocalAws;
let secret: SeededSecret;
let container: Container;
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'rotator-built-'));
  const containerJs = await buildContainer(path.join(tmp, 'container.cjs'));
  aws = await LocalAws.start();
  // Minted now for a day: not due for twelve hours.
  secret = aws.seed('built/momento', DAY);
  container = await Container.start(
    containerJs,
    entry,
    childEnv({
      ...aws.env([secret.name]),
      POWERTOOLS_SERVICE_NAME: DEFAULT_DEPLOYMENT_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      // Tells which of the function's files were loaded; never set where the bench times a child.
      BENCH_COVERAGE: '1',
    }),
  );
  // Secrets Manager invokes the rotation steps in the same container, as Lambda would a warm one.
  aws.setRotationFunction(async (event, context) => {
    const result = await container.invoke(event, context.getRemainingTimeInMillis());
    if (!result.ok) throw new Error(`${event.Step}: ${result.error}\n${container.output}`);
    return result.result;
  });
});

afterAll(async () => {
  await container?.stop();
  await aws?.stop();
  await rm(tmp, { recursive: true, force: true });
});

/** Whether any function of the chunk that holds the Momento SDK has run in the container so far. */
async function momentoSdkEvaluated(): Promise<boolean> {
  const { files } = await container.coverage();
  expect(files.map((f) => f.file)).toContain(entry);
  return files.some((f) => f.file === inject('momentoChunk') && f.executed > 0);
}

describe('the built function', () => {
  it('answers a scheduled sweep that finds nothing due without loading the Momento SDK', async () => {
    // Act
    const result = await container.invoke({ source: 'aws.events', 'detail-type': 'Scheduled Event' });

    // Assess
    expect(result.error).toBeUndefined();
    expect(result.result).toMatchObject({ checked: 1, rotationsStarted: 0 });
    expect(await momentoSdkEvaluated()).toBe(false);
    expect(aws.momento.stats.refreshes).toBe(0);
  });

  it('runs a full rotation through its lazily loaded Momento SDK and moves AWSCURRENT to the new pair', async () => {
    // Prepare
    const before = aws.value(secret.arn);

    // Act
    const { VersionId } = await aws.client.send(new RotateSecretCommand({ SecretId: secret.arn }));
    await aws.sm.whenRotationsIdle();

    // Assess
    expect(aws.sm.rotationLog.at(-1)).toMatchObject({ outcome: 'succeeded', attempts: 1 });
    expect(aws.versionIdWith(secret.arn, 'AWSCURRENT')).toBe(VersionId);
    expect(aws.value(secret.arn).validUntil).toBeGreaterThanOrEqual(before.validUntil as number);
    expect(aws.value(secret.arn).refreshToken).not.toBe(before.refreshToken);
    expect(aws.chainIntact(secret)).toBe(true);
    expect(aws.momento.stats.refreshes).toBe(1);
    expect(await momentoSdkEvaluated()).toBe(true);
  });
});
