import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { createHandler, METRICS_NAMESPACE, SERVICE_NAME } from '../../src/app';
import type { Timing } from '../../src/rotation/engine';
import type { Invocation, KeyPair } from '../../src/rotation/ports';
import { FakeMomento } from './fake-momento';
import { record, recordError } from './secret-material';
import { SecretsManagerModel } from './secrets-manager-model';

export const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export const HOUR = 3600;
export const DAY = 24 * HOUR;

/** The JSON a user downloads from the Momento console, in the shapes the product must keep. */
export function consoleJson(
  pair: KeyPair,
  shape: {
    keyField?: 'apiKey' | 'authToken';
    validUntilAs?: 'number' | 'string';
    extra?: Record<string, unknown>;
  } = {},
): string {
  return JSON.stringify({
    ...shape.extra,
    [shape.keyField ?? 'apiKey']: pair.apiKey,
    refreshToken: pair.refreshToken,
    validUntil: shape.validUntilAs === 'string' ? String(pair.validUntil) : pair.validUntil,
  });
}

/**
 * A handler built by the same `createHandler` production uses, over the real Secrets Manager adapter on
 * aws-sdk-client-mock (with an in-memory model) and an in-process Momento fake, with a clock tests move.
 */
export class Harness {
  nowMs = Date.UTC(2026, 10, 23, 12, 0, 0);
  readonly clock = () => this.nowMs;
  readonly model = new SecretsManagerModel(this.clock);
  readonly momento = new FakeMomento(this.clock);
  secretIds: string[] = [];
  rotateAtRemainingFraction = 0.5;
  rotateWithinSeconds = 2 * HOUR;
  /** Engine deadlines scaled down so that time-bound paths run in milliseconds; their ratios are kept. */
  timing: Partial<Timing> = {
    refreshMinWaitMs: 200,
    writeReserveMs: 300,
    safetyMarginMs: 50,
    verifyTimeoutMs: 100,
    pollIntervalMs: 2,
    writeRetryMinMs: 1,
  };

  /**
   * A managed secret holding a pair minted `ageSeconds` ago (default: 20 of 30 days, so due) and valid for
   * `lifetime` from then.
   */
  addManagedSecret(
    name: string,
    opts: { lifetime?: number; ageSeconds?: number; shape?: Parameters<typeof consoleJson>[1] } = {},
  ) {
    const lifetime = opts.lifetime ?? 30 * DAY;
    const issuedAt = this.nowMs - (opts.ageSeconds ?? 20 * DAY) * 1000;
    const pair = this.momento.mint(lifetime, issuedAt);
    const secret = this.model.addSecret(name, consoleJson(pair, opts.shape), { createdDate: issuedAt });
    this.secretIds.push(secret.arn);
    return { ...secret, pair };
  }

  addManagedValue(name: string, value: string | undefined, createdDate = this.nowMs) {
    const secret = this.model.addSecret(name, value, { createdDate });
    this.secretIds.push(secret.arn);
    return secret;
  }

  /**
   * An AWSPENDING version with no value, left by a rotation that gave up an hour ago: past the grace period in
   * which healing leaves a rotation under way alone.
   */
  addAbandonedPendingStub(secretArn: string, versionId?: string): string {
    const id = this.model.addPendingStub(secretArn, versionId);
    const stub = this.model.find(secretArn).versions.get(id);
    if (stub) stub.createdDate = this.nowMs - HOUR * 1000;
    return id;
  }

  handler() {
    return createHandler({
      config: {
        secretIds: this.secretIds,
        rotateAtRemainingFraction: this.rotateAtRemainingFraction,
        rotateWithinSeconds: this.rotateWithinSeconds,
        momentoEndpointOverride: undefined,
      },
      secretsManager: this.model.client,
      momento: this.momento,
      logger: new Logger({ serviceName: SERVICE_NAME }),
      metrics: new Metrics({ serviceName: SERVICE_NAME, namespace: METRICS_NAMESPACE }),
      clock: this.clock,
      timing: this.timing,
    });
  }

  /**
   * Invokes like Lambda does on a fresh container (a handler built for this one invocation), recording the
   * result or the error for the secret-material check.
   */
  invoke(event: unknown, remainingMs = 300_000): Promise<unknown> {
    return invokeRecorded(this.handler(), event, remainingMs);
  }

  /** Like `invoke`, with a Lambda context the test controls (e.g. time that runs out mid-invocation). */
  invokeWithContext(event: unknown, context: Invocation): Promise<unknown> {
    return invokeRecordedWith(this.handler(), event, context);
  }

  step(step: (typeof STEPS)[number], secretArn: string, token: string, extra: Record<string, unknown> = {}) {
    return this.invoke(stepEvent(step, secretArn, token, extra));
  }

  /** One warm container: a handler built once and invoked again and again, as Lambda reuses a container. */
  container() {
    const handler = this.handler();
    return {
      invoke: (event: unknown, remainingMs = 300_000) => invokeRecorded(handler, event, remainingMs),
      invokeWith: (event: unknown, context: Invocation) => invokeRecordedWith(handler, event, context),
      step: (step: (typeof STEPS)[number], secretArn: string, token: string) =>
        invokeRecorded(handler, stepEvent(step, secretArn, token), 300_000),
    };
  }

  async rotateAllSteps(secretArn: string, token: string): Promise<void> {
    for (const step of STEPS) await this.step(step, secretArn, token);
  }

  /** Makes RotateSecret behave like the service: a pending stub, then the four steps through the handler. */
  wireRotateSecret(): void {
    this.model.sm.on(RotateSecretCommand).callsFake((input) => {
      const secret = this.model.find(input.SecretId);
      const versionId = this.model.addPendingStub(secret.arn);
      setImmediate(() => {
        this.rotateAllSteps(secret.arn, versionId).catch(() => undefined);
      });
      return { ARN: secret.arn, Name: secret.name, VersionId: versionId };
    });
  }

  scheduledEvent() {
    return {
      version: '0',
      id: 'c5b3a0f1-0000-0000-0000-000000000000',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: new Date(this.nowMs).toISOString(),
      region: 'us-east-1',
      resources: ['arn:aws:events:us-east-1:123456789012:rule/momento-rotator'],
      detail: {},
    };
  }
}

function stepEvent(
  step: (typeof STEPS)[number],
  secretArn: string,
  token: string,
  extra: Record<string, unknown> = {},
) {
  return { Step: step, SecretId: secretArn, ClientRequestToken: token, ...extra };
}

async function invokeRecorded(
  handler: ReturnType<typeof createHandler>,
  event: unknown,
  remainingMs: number,
): Promise<unknown> {
  const started = Date.now();
  return invokeRecordedWith(handler, event, {
    getRemainingTimeInMillis: () => remainingMs - (Date.now() - started),
  });
}

async function invokeRecordedWith(
  handler: ReturnType<typeof createHandler>,
  event: unknown,
  context: Invocation,
): Promise<unknown> {
  try {
    const result = await handler(event, context);
    record(JSON.stringify(result) ?? 'undefined');
    return result;
  } catch (error) {
    recordError(error);
    throw error;
  }
}
