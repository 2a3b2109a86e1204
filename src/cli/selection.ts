import { GetFunctionConfigurationCommand, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { DEFAULT_ROTATE_AT_REMAINING_FRACTION, DEFAULT_ROTATE_WITHIN_SECONDS } from '../config';
import { describeError } from '../errors';
import type { DueRule } from '../rotation/policy';
import type { SecretMetadata } from '../rotation/ports';
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

/** `key` or `key=value`, as `--tag` and ROTATOR_SECRET_TAG take it. */
export function parseTag(text: string): { key: string; value: string | undefined } {
  const at = text.indexOf('=');
  const key = at < 0 ? text : text.slice(0, at);
  if (key.trim() === '') throw new CliError(`tag "${text}" has no key: use key or key=value`, EXIT.usage);
  return { key, value: at < 0 ? undefined : text.slice(at + 1) };
}

/** The deployment's function is named after its stack (lib/): `<stackName>-rotator`. */
export function rotatorFunctionName(stackName: string): string {
  return `${stackName}-rotator`;
}

/**
 * The secrets a command looks at: those of a deployment (`--stack-name`: what its function's environment names,
 * ROTATOR_SECRET_IDS and/or ROTATOR_SECRET_TAG), those carrying a tag, or the ids given. Exactly one way.
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
    const { key, value } = parseTag(options.tag);
    const secrets = await services.store.findByTag(key, value);
    return { secrets, unreadable: [], deployment: undefined, dueRule: DEFAULT_DUE_RULE };
  }
  if (options.stackName !== undefined) return fromDeployment(options.stackName, services);
  return {
    ...(await describeAll(options.secretId ?? [], services)),
    deployment: undefined,
    dueRule: DEFAULT_DUE_RULE,
  };
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
  const env = configuration.Environment?.Variables ?? {};
  const ids = (env.ROTATOR_SECRET_IDS ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  const described = await describeAll(ids, services);
  const secrets = [...described.secrets];
  if (env.ROTATOR_SECRET_TAG) {
    const { key, value } = parseTag(env.ROTATOR_SECRET_TAG);
    for (const found of await services.store.findByTag(key, value)) {
      if (!secrets.some((known) => known.arn === found.arn)) secrets.push(found);
    }
  }
  const dueRule = {
    rotateAtRemainingFraction: numberOr(
      env.ROTATE_AT_REMAINING_FRACTION,
      DEFAULT_ROTATE_AT_REMAINING_FRACTION,
    ),
    rotateWithinSeconds: numberOr(env.ROTATE_WITHIN_SECONDS, DEFAULT_ROTATE_WITHIN_SECONDS),
  };
  return {
    secrets,
    unreadable: described.unreadable,
    deployment: { functionName, functionArn: configuration.FunctionArn ?? functionName, dueRule },
    dueRule,
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

/** The function validated these at its start; a value it would refuse is not ours to judge here. */
function numberOr(text: string | undefined, fallback: number): number {
  const value = text === undefined || text.trim() === '' ? Number.NaN : Number(text);
  return Number.isFinite(value) ? value : fallback;
}
