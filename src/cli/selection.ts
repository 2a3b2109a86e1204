import { GetFunctionConfigurationCommand, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import {
  DEFAULT_ROTATE_AT_REMAINING_FRACTION,
  DEFAULT_ROTATE_WITHIN_SECONDS,
  loadConfig,
  parseSecretTag,
} from '../config';
import { rotatorFunctionName } from '../deployment-names';
import { ConfigError, describeError } from '../errors';
import { carriesTag, type DueRule } from '../rotation/policy';
import type { SecretMetadata, SecretTag } from '../rotation/ports';
import { CliError, EXIT } from './exit-codes';
import type { Services } from './services';

export interface SelectOptions {
  readonly stackName?: string;
  readonly tag?: string;
  readonly secretId?: readonly string[];
}

/** A deployment found by its stack name: its function and the due rule it applies. */
export interface Deployment {
  readonly functionName: string;
  readonly functionArn: string;
  readonly dueRule: DueRule;
}

export interface Selection {
  readonly secrets: readonly SecretMetadata[];
  /** Ids that could not be described, with why (service error class and message, no values). */
  readonly unreadable: ReadonlyArray<{ readonly secretId: string; readonly error: string }>;
  readonly deployment: Deployment | undefined;
  /** The due rule `due` is judged by: the deployment's, or the stack's defaults. */
  readonly dueRule: DueRule;
}

const DEFAULT_DUE_RULE: DueRule = {
  rotateAtRemainingFraction: DEFAULT_ROTATE_AT_REMAINING_FRACTION,
  rotateWithinSeconds: DEFAULT_ROTATE_WITHIN_SECONDS,
};

/**
 * The secrets a command looks at: those of a deployment (`--stack-name`: what its function's environment selects,
 * read as the function reads it), those carrying a tag, or the ids given. Exactly one way.
 */
export async function selectSecrets(options: SelectOptions, services: Services): Promise<Selection> {
  const ways = [options.stackName, options.tag, options.secretId?.length ? options.secretId : undefined];
  if (ways.filter((way) => way !== undefined).length !== 1) {
    throw new CliError(
      'name the secrets one way: --stack-name <name>, --tag <key[=value]> or --secret-id <id>',
      EXIT.usage,
    );
  }
  if (options.tag !== undefined) {
    let tag: SecretTag;
    try {
      tag = parseSecretTag(options.tag, '--tag');
    } catch (error) {
      throw new CliError(describeError(error).errorMessage, EXIT.usage, { cause: error });
    }
    return {
      secrets: await tagged(tag, services),
      unreadable: [],
      deployment: undefined,
      dueRule: DEFAULT_DUE_RULE,
    };
  }
  if (options.stackName !== undefined) return fromDeployment(options.stackName, services);
  return {
    ...(await describeAll(options.secretId ?? [], services)),
    deployment: undefined,
    dueRule: DEFAULT_DUE_RULE,
  };
}

/** ListSecrets' tag filters match prefixes, and keys and values apart: only exact carriers count. */
async function tagged(tag: SecretTag, services: Services): Promise<SecretMetadata[]> {
  return (await services.store.listTagged(tag)).filter((secret) => carriesTag(tag, secret));
}

async function fromDeployment(stackName: string, services: Services): Promise<Selection> {
  const functionName = rotatorFunctionName(stackName);
  let configuration: { FunctionArn?: string; Environment?: { Variables?: Record<string, string> } };
  try {
    configuration = await services.lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: functionName }),
    );
  } catch (error) {
    if (error instanceof ResourceNotFoundException) {
      throw new CliError(
        `no function ${functionName}: is stack ${stackName} deployed in this account and region?`,
        EXIT.unreachable,
        { cause: error },
      );
    }
    throw error;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(configuration.Environment?.Variables ?? {});
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new CliError(`function ${functionName}'s environment: ${error.message}`, EXIT.failed, {
      cause: error,
    });
  }
  const described = await describeAll(config.secretIds, services);
  const secrets = [...described.secrets];
  if (config.secretTag !== undefined) {
    for (const found of await tagged(config.secretTag, services)) {
      if (!secrets.some((known) => known.arn === found.arn)) secrets.push(found);
    }
  }
  return {
    secrets,
    unreadable: described.unreadable,
    deployment: { functionName, functionArn: configuration.FunctionArn ?? functionName, dueRule: config },
    dueRule: config,
  };
}

async function describeAll(
  ids: readonly string[],
  services: Services,
): Promise<Pick<Selection, 'secrets' | 'unreadable'>> {
  const secrets: SecretMetadata[] = [];
  const unreadable: Array<{ secretId: string; error: string }> = [];
  for (const id of ids) {
    try {
      secrets.push(await services.store.describe(id));
    } catch (error) {
      const { errorName, errorMessage } = describeError(error);
      unreadable.push({ secretId: id, error: `${errorName}: ${errorMessage}` });
    }
  }
  return { secrets, unreadable };
}
