import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { SecretsManagerStore } from './adapters/secrets-manager';
import { PowertoolsTelemetry } from './adapters/telemetry';
import type { Config } from './config';
import { describeError, echo } from './errors';
import { RotationEngine, type Timing } from './rotation/engine';
import { type Door, recogniseDoor } from './rotation/events';
import type { Clock, MomentoAuth } from './rotation/ports';

export const SERVICE_NAME = 'momento-token-rotator';
export { METRICS_NAMESPACE } from './deployment-names';

export interface HandlerDeps {
  readonly config: Config;
  readonly secretsManager: SecretsManagerClient;
  readonly momento: MomentoAuth;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock?: Clock;
  readonly timing?: Partial<Timing>;
}

export type RotatorHandler = (
  event: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
) => Promise<unknown>;

/**
 * Builds the Lambda entry from its dependencies. src/handler.ts calls this once per container;
 * tests call it with their own clients (aws-sdk-client-mock, or real clients pointed at local emulators).
 */
export function createHandler(deps: HandlerDeps): RotatorHandler {
  const telemetry = new PowertoolsTelemetry(deps.logger, deps.metrics);
  const engine = new RotationEngine({
    secretIds: deps.config.secretIds,
    secretTag: deps.config.secretTag,
    rotationFunctionArn: deps.config.rotationFunctionArn,
    dueRule: deps.config,
    store: new SecretsManagerStore(deps.secretsManager),
    momento: deps.momento,
    telemetry,
    clock: deps.clock ?? Date.now,
    timing: deps.timing,
  });

  const dispatch = (door: Door, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<unknown> => {
    switch (door.door) {
      case 'rotation-step':
        return engine.runStep(door.event, context);
      case 'schedule':
        return engine.sweep(context);
      case 'rotate':
        return engine.rotate(door.command, context);
      case 'status':
        return engine.status(door.command);
    }
  };

  return async (event, context) => {
    let door: Door | undefined;
    try {
      door = recogniseDoor(event);
      const result = await dispatch(door, context);
      deps.logger.info('invocation succeeded', { door: door.door });
      return result;
    } catch (error) {
      // Failure fails: log the safe description, count it, and reject so that retries and alarms happen.
      if (door?.door === 'rotation-step') telemetry.count('RotationFailed');
      deps.logger.error('invocation failed', {
        door: door?.door ?? 'unrecognised',
        ...(door?.door === 'rotation-step'
          ? {
              step: door.event.Step,
              secretId: echo(door.event.SecretId),
              versionId: door.event.ClientRequestToken,
            }
          : {}),
        ...describeError(error),
      });
      throw error;
    } finally {
      telemetry.flush();
    }
  };
}
