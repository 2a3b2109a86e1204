import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { SdkMomentoAuth } from './adapters/momento';
import { createHandler, METRICS_NAMESPACE, type RotatorHandler, SERVICE_NAME } from './app';
import { loadConfig } from './config';

/** The production wiring: configuration and clients once per container; bad configuration fails here. */
function fromEnvironment(): RotatorHandler {
  const config = loadConfig(process.env);
  return createHandler({
    config,
    secretsManager: new SecretsManagerClient({
      // Bounded attempts: the engine's own retry loop for the pending write needs each attempt to end.
      requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000 },
    }),
    momento: new SdkMomentoAuth(config.momentoEndpointOverride),
    logger: new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME }),
    metrics: new Metrics({
      serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
      namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
    }),
  });
}

const entry = fromEnvironment();

export async function handler(event: unknown, context: Context): Promise<unknown> {
  return entry(event, context);
}
