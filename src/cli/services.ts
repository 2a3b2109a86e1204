import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SdkMomentoAuth } from '../adapters/momento';
import { SecretsManagerStore } from '../adapters/secrets-manager';
import { readMomentoEndpointOverride } from '../config';

/** What a command talks to: the function's own adapters for Secrets Manager and Momento, plus Lambda and Logs. */
export interface Services {
  readonly store: SecretsManagerStore;
  readonly momento: SdkMomentoAuth;
  readonly lambda: LambdaClient;
  readonly logs: CloudWatchLogsClient;
  /** Where output goes: one call per line, no trailing newline. */
  readonly out: (line: string) => void;
  readonly now: () => number;
  destroy(): void;
}

/**
 * Clients from the standard AWS configuration (profile, region, `AWS_ENDPOINT_URL_*`), `region` overriding it,
 * and the Momento adapter honouring MOMENTO_ENDPOINT_OVERRIDE as the function does.
 */
export function createServices(region: string | undefined, out: (line: string) => void): Services {
  const config = region === undefined ? {} : { region };
  const secretsManager = new SecretsManagerClient(config);
  const lambda = new LambdaClient(config);
  const logs = new CloudWatchLogsClient(config);
  return {
    store: new SecretsManagerStore(secretsManager),
    momento: new SdkMomentoAuth(readMomentoEndpointOverride(process.env)),
    lambda,
    logs,
    out,
    now: Date.now,
    destroy() {
      secretsManager.destroy();
      lambda.destroy();
      logs.destroy();
    },
  };
}
