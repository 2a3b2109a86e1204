import * as z from 'zod/mini';
import { ConfigError } from './errors';
import type { SecretTag } from './rotation/ports';

export interface Config {
  /** Names or ARNs (complete or partial) of the secrets this function manages by name. */
  readonly secretIds: readonly string[];
  /** The tag that selects further managed secrets (ROTATOR_SECRET_TAG), if any. */
  readonly secretTag?: SecretTag;
  /**
   * This function's ARN (ROTATOR_FUNCTION_ARN): a managed secret not wired for rotation, or wired to another
   * function, is wired to it by the rotation this function starts. Required with ROTATOR_SECRET_TAG.
   */
  readonly rotationFunctionArn?: string;
  readonly rotateAtRemainingFraction: number;
  readonly rotateWithinSeconds: number;
  /** `host:port`: every Momento call goes there over plaintext gRPC. Local emulators only. */
  readonly momentoEndpointOverride: string | undefined;
}

/** Two hourly schedule periods: the stack always sets the variable from its own schedule. */
export const DEFAULT_ROTATE_WITHIN_SECONDS = 7200;
export const DEFAULT_ROTATE_AT_REMAINING_FRACTION = 0.5;

const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
/** Complete (with the 6-character suffix) or partial: the name filter and the ARN match need one of these. */
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

const secretIdsSchema = z
  .pipe(
    z.string({
      error:
        'is required: comma-separated names or ARNs of the managed secrets (or set ROTATOR_SECRET_TAG to select them by tag)',
    }),
    z.transform((raw) =>
      raw
        .split(',')
        .map((id) => id.trim())
        .filter((id) => id.length > 0),
    ),
  )
  .check(
    z.refine((ids) => ids.length > 0, 'must name at least one secret'),
    z.refine(
      (ids) => ids.every((id) => SECRET_NAME.test(id) || SECRET_ARN.test(id)),
      'must hold secret names (letters, digits and /_+=.@-) or Secrets Manager secret ARNs',
    ),
    z.refine((ids) => new Set(ids).size === ids.length, 'lists a secret twice'),
  );

/** `key` or `key=value`, split at the first `=`; AWS's own `aws:` keys are not for selecting. */
const secretTagSchema = z
  .pipe(
    z.string().check(
      z.trim(),
      z.regex(
        /^[\p{L}\p{N} _.:/+@-]{1,128}(=[\p{L}\p{N} _.:/=+@-]{1,256})?$/u,
        'must be a tag key, or key=value (letters, digits, spaces and _.:/+@-)',
      ),
      z.refine((raw) => !raw.toLowerCase().startsWith('aws:'), 'must not be one of the aws: tags'),
    ),
    z.transform((raw): SecretTag => {
      const at = raw.indexOf('=');
      return at < 0 ? { key: raw } : { key: raw.slice(0, at), value: raw.slice(at + 1) };
    }),
  )
  .check(
    z.refine(
      (tag) => tag.key.trim() === tag.key && (tag.value ?? '').trim() === (tag.value ?? ''),
      'must not pad the key or the value with spaces',
    ),
  );

const functionArnSchema = z
  .string({
    error: 'is required with ROTATOR_SECRET_TAG: the ARN of this function, to wire tagged secrets to it',
  })
  .check(
    z.regex(
      /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}$/,
      'must be the unqualified ARN of a Lambda function',
    ),
  );

const fractionSchema = z.coerce
  .number({ error: 'must be a number' })
  .check(z.gt(0, 'must be greater than 0'), z.lt(1, 'must be less than 1'));

const withinSecondsSchema = z.coerce
  .number({ error: 'must be a whole number of seconds' })
  .check(z.int('must be a whole number of seconds'), z.minimum(0, 'must be 0 or more'));

const endpointSchema = z.string().check(
  z.regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port'),
  z.refine((value) => {
    const port = Number(value.slice(value.lastIndexOf(':') + 1));
    return port >= 1 && port <= 65535;
  }, 'port must be 1-65535'),
);

const endpointUrlSchema = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

function read<T>(env: NodeJS.ProcessEnv, variable: string, schema: z.ZodMiniType<T>, fallback?: T): T {
  const raw = env[variable];
  if ((raw === undefined || raw.trim() === '') && fallback !== undefined) return fallback;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    // Only the schema's own message: configuration values are not secret, but keep messages uniform.
    const problem = parsed.error.issues[0]?.message ?? 'is invalid';
    throw new ConfigError(variable, `${problem} (received ${JSON.stringify(raw ?? null)})`);
  }
  return parsed.data;
}

/**
 * MOMENTO_ENDPOINT_OVERRIDE, checked, or undefined when unset. Shared with the CLI and the application helper,
 * which honour it the same way.
 */
export function readMomentoEndpointOverride(env: NodeJS.ProcessEnv): string | undefined {
  const override = env.MOMENTO_ENDPOINT_OVERRIDE;
  return override === undefined || override === ''
    ? undefined
    : read(env, 'MOMENTO_ENDPOINT_OVERRIDE', endpointSchema);
}

/** A tag as ROTATOR_SECRET_TAG takes it (`key` or `key=value`); throws ConfigError naming `source`. */
export function parseSecretTag(text: string, source = 'ROTATOR_SECRET_TAG'): SecretTag {
  return read({ [source]: text }, source, secretTagSchema);
}

/** Reads the function's environment once; throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // The AWS SDK reads this one itself; checked here so that a typo fails at start, not at the first call.
  if (env.AWS_ENDPOINT_URL_SECRETS_MANAGER) read(env, 'AWS_ENDPOINT_URL_SECRETS_MANAGER', endpointUrlSchema);
  const present = (variable: string) => (env[variable] ?? '').trim() !== '';
  const secretTag = present('ROTATOR_SECRET_TAG')
    ? read(env, 'ROTATOR_SECRET_TAG', secretTagSchema)
    : undefined;
  // With a tag, the list may be empty; without one, it must name a secret (the schema says so).
  const secretIds =
    secretTag !== undefined && !present('ROTATOR_SECRET_IDS')
      ? []
      : read(env, 'ROTATOR_SECRET_IDS', secretIdsSchema);
  const rotationFunctionArn =
    secretTag !== undefined || present('ROTATOR_FUNCTION_ARN')
      ? read(env, 'ROTATOR_FUNCTION_ARN', functionArnSchema)
      : undefined;
  return Object.freeze({
    secretIds: Object.freeze(secretIds),
    ...(secretTag === undefined ? {} : { secretTag: Object.freeze(secretTag) }),
    ...(rotationFunctionArn === undefined ? {} : { rotationFunctionArn }),
    rotateAtRemainingFraction: read(
      env,
      'ROTATE_AT_REMAINING_FRACTION',
      fractionSchema,
      DEFAULT_ROTATE_AT_REMAINING_FRACTION,
    ),
    rotateWithinSeconds: read(
      env,
      'ROTATE_WITHIN_SECONDS',
      withinSecondsSchema,
      DEFAULT_ROTATE_WITHIN_SECONDS,
    ),
    momentoEndpointOverride: readMomentoEndpointOverride(env),
  });
}
