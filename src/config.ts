import * as z from 'zod';
import { ConfigError } from './errors';

export interface Config {
  /** Names or ARNs (complete or partial) of the secrets this function manages. */
  readonly secretIds: readonly string[];
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
  .string({ error: 'is required: comma-separated names or ARNs of the managed secrets' })
  .transform((raw) =>
    raw
      .split(',')
      .map((id) => id.trim())
      .filter((id) => id.length > 0),
  )
  .refine((ids) => ids.length > 0, 'must name at least one secret')
  .refine(
    (ids) => ids.every((id) => SECRET_NAME.test(id) || SECRET_ARN.test(id)),
    'must hold secret names (letters, digits and /_+=.@-) or Secrets Manager secret ARNs',
  )
  .refine((ids) => new Set(ids).size === ids.length, 'lists a secret twice');

const fractionSchema = z.coerce
  .number({ error: 'must be a number' })
  .gt(0, 'must be greater than 0')
  .lt(1, 'must be less than 1');

const withinSecondsSchema = z.coerce
  .number({ error: 'must be a whole number of seconds' })
  .int('must be a whole number of seconds')
  .min(0, 'must be 0 or more');

const endpointSchema = z
  .string()
  .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port')
  .refine((value) => {
    const port = Number(value.slice(value.lastIndexOf(':') + 1));
    return port >= 1 && port <= 65535;
  }, 'port must be 1-65535');

const endpointUrlSchema = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

function read<T>(env: NodeJS.ProcessEnv, variable: string, schema: z.ZodType<T>, fallback?: T): T {
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

/** Reads the function's environment once; throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // The AWS SDK reads this one itself; checked here so that a typo fails at start, not at the first call.
  if (env.AWS_ENDPOINT_URL_SECRETS_MANAGER) read(env, 'AWS_ENDPOINT_URL_SECRETS_MANAGER', endpointUrlSchema);
  return Object.freeze({
    secretIds: Object.freeze(read(env, 'ROTATOR_SECRET_IDS', secretIdsSchema)),
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
