import { vi } from 'vitest';
import type { RotatorHandler } from '../../src/app';
import { LocalAws } from '../support/local-aws';
import { record, recordError, registerSecret } from '../support/secret-material';

export const HOUR = 3600;

/**
 * Imports the real Lambda entry (src/handler.ts) with the environment the stack would give it, pointed at
 * the emulators, and wires it as the secrets' rotation function: the same module answers all three doors.
 */
export async function loadHandler(
  aws: LocalAws,
  secretIds: readonly string[],
  secretTag?: string,
): Promise<RotatorHandler> {
  for (const [name, value] of Object.entries(aws.env(secretIds, secretTag))) vi.stubEnv(name, value);
  vi.resetModules();
  const { handler } = await import('../../src/handler');
  const recorded: RotatorHandler = async (event, context) => {
    try {
      const result = await handler(event, context as never);
      record(JSON.stringify(result) ?? 'undefined');
      return result;
    } catch (error) {
      recordError(error);
      throw error;
    }
  };
  aws.setRotationFunction(recorded);
  return recorded;
}

/**
 * Both emulators on a faked Date that jumps when a test moves it ({@link advance}) and otherwise runs on like a
 * real clock (versions get distinct CreatedDates); Secrets Manager retries a failed rotation quickly.
 */
export async function startOnFakeClock(rotationAttempts = 3): Promise<LocalAws> {
  vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2026, 10, 23, 12), shouldAdvanceTime: true });
  return LocalAws.start({
    secretsManager: { rotationRetry: { maxAttempts: rotationAttempts, baseDelayMs: 5, maxDelayMs: 20 } },
  });
}

/** Undoes {@link startOnFakeClock} and {@link loadHandler}. */
export async function stopOnFakeClock(aws: LocalAws): Promise<void> {
  await aws.stop();
  vi.useRealTimers();
  vi.unstubAllEnvs();
}

/** A Lambda context with `ms` left, counting down in wall-clock time. */
export function contextWith(ms = 60_000) {
  const started = performance.now();
  return { getRemainingTimeInMillis: () => Math.round(ms - (performance.now() - started)) };
}

export function scheduledEvent() {
  return {
    version: '0',
    id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: ['arn:aws:events:us-east-1:123456789012:rule/momento-token-rotator-schedule'],
    detail: {},
  };
}

/** Moves the shared clock (Date is faked in these files) by `seconds`. */
export function advance(seconds: number): void {
  vi.setSystemTime(Date.now() + seconds * 1000);
}

/**
 * Registers every key and refresh token the emulators hold for these secrets, in both the v1 form and the
 * bare key inside it, so that the file's leak check looks for all of them.
 */
export function registerAllSecretMaterial(aws: LocalAws, secretIds: readonly string[]): void {
  for (const id of secretIds) {
    for (const version of aws.sm.inspect(id).versions) {
      if (version.secretString === undefined) continue;
      let value: Record<string, unknown>;
      try {
        value = JSON.parse(version.secretString);
      } catch {
        continue;
      }
      for (const field of ['apiKey', 'authToken', 'refreshToken']) {
        const secret = value[field];
        if (typeof secret !== 'string') continue;
        registerSecret(secret);
        try {
          const inner = JSON.parse(Buffer.from(secret, 'base64').toString('utf8')) as { api_key?: string };
          if (inner.api_key) registerSecret(inner.api_key);
        } catch {
          // a refresh token is not base64 JSON
        }
      }
    }
  }
}
