import { Duration } from 'aws-cdk-lib';
import type { MomentoTokenRotatorStackProps } from '../lib';
import { MAX_SCHEDULE_PERIOD, MIN_SCHEDULE_PERIOD } from '../lib';

/** The `-c key=value` options `cdk deploy` accepts, with what each one allows. */
export const CONTEXT_OPTIONS = {
  secretName: 'secret names to create, comma-separated (letters, digits and /_+=.@-)',
  existingSecretArn: 'complete ARNs of existing secrets to manage, comma-separated',
  existingSecretKmsKeyArn: 'ARN of the customer managed KMS key of the existing secrets',
  alarmEmail: 'an email address to subscribe to the alarm topic',
  alarmTopicArn: 'ARN of an existing SNS topic for the alarms',
  scheduleMinutes: `minutes between sweeps, a whole number from ${MIN_SCHEDULE_PERIOD.toMinutes()} to ${MAX_SCHEDULE_PERIOD.toMinutes()}`,
  rotateAtRemainingFraction:
    'rotate when this fraction of a key lifetime remains, greater than 0 and less than 1',
} as const;

type ContextKey = keyof typeof CONTEXT_OPTIONS;

/** A context value that cannot be used; the message names the option, the value received and what is allowed. */
export class ContextError extends Error {
  override readonly name = 'ContextError';
}

/** What the app reads the context through: `app.node` does. */
export interface ContextSource {
  tryGetContext(key: string): unknown;
  getAllContext(): Record<string, unknown>;
}

export type DeployProps = Pick<
  MomentoTokenRotatorStackProps,
  | 'secretNames'
  | 'existingSecretArns'
  | 'existingSecretsKeyArn'
  | 'alarmEmail'
  | 'alarmTopicArn'
  | 'schedulePeriod'
  | 'rotateAtRemainingFraction'
>;

const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SECRET_ARN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
const EMAIL = /^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/;
const WHOLE_NUMBER = /^\d+$/;
const DECIMAL = /^(\d+(\.\d+)?|\.\d+)$/;

/** Where the stack is deployed, as the CDK CLI tells the app (CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION). */
export interface DeployTarget {
  readonly account?: string;
  readonly region?: string;
}

/**
 * Reads the deploy options once, into typed stack props. Every bad value fails here, before anything is
 * built, with a message that shows the value received and what is allowed.
 */
export function readDeployContext(context: ContextSource, target: DeployTarget = {}): DeployProps {
  rejectUnknownOptions(context);

  const secretNames = readList(context, 'secretName', SECRET_NAME);
  const existingSecretArns = readList(context, 'existingSecretArn', SECRET_ARN);
  if (existingSecretArns !== undefined) checkOneAccountAndRegion(existingSecretArns, target);
  if (secretNames === undefined && existingSecretArns === undefined) {
    throw new ContextError(
      'name the secrets to manage: -c secretName=momento/api-key to create one (comma-separated for ' +
        'several), or -c existingSecretArn=arn:aws:secretsmanager:... to manage existing ones (received neither)',
    );
  }
  const existingSecretsKeyArn = readString(context, 'existingSecretKmsKeyArn', KMS_KEY_ARN);
  if (existingSecretsKeyArn !== undefined && existingSecretArns === undefined) {
    throw new ContextError(
      `-c existingSecretKmsKeyArn applies to the secrets of -c existingSecretArn, which is not given ` +
        `(received ${JSON.stringify(existingSecretsKeyArn)}); secrets the stack creates use aws/secretsmanager`,
    );
  }

  const minutes = readNumber(context, 'scheduleMinutes', WHOLE_NUMBER, (n) => {
    const seconds = n * 60;
    return (
      Number.isInteger(n) &&
      seconds >= MIN_SCHEDULE_PERIOD.toSeconds() &&
      seconds <= MAX_SCHEDULE_PERIOD.toSeconds()
    );
  });

  return {
    secretNames,
    existingSecretArns,
    existingSecretsKeyArn,
    alarmEmail: readString(context, 'alarmEmail', EMAIL),
    alarmTopicArn: readString(context, 'alarmTopicArn', TOPIC_ARN),
    schedulePeriod: minutes === undefined ? undefined : Duration.minutes(minutes),
    rotateAtRemainingFraction: readNumber(
      context,
      'rotateAtRemainingFraction',
      DECIMAL,
      (n) => n > 0 && n < 1,
    ),
  };
}

function invalid(key: ContextKey, raw: unknown): ContextError {
  return new ContextError(`-c ${key} must be ${CONTEXT_OPTIONS[key]} (received ${JSON.stringify(raw)})`);
}

/** A mistyped option would otherwise be ignored without a word, and the deployment would differ from the intent. */
function rejectUnknownOptions(context: ContextSource): void {
  const known = Object.keys(CONTEXT_OPTIONS);
  // CDK's own keys (feature flags, aws:cdk:..., lookups) all carry punctuation; ours are plain words.
  const unknown = Object.keys(context.getAllContext()).filter(
    (key) => /^[A-Za-z][A-Za-z0-9]*$/.test(key) && !known.includes(key),
  );
  if (unknown.length > 0) {
    throw new ContextError(
      `unknown option ${unknown.map((key) => `-c ${key}`).join(', ')}; the options are: ${known.join(', ')}`,
    );
  }
}

function readRaw(context: ContextSource, key: ContextKey): unknown {
  const raw = context.tryGetContext(key);
  return raw === undefined || raw === null || raw === '' ? undefined : raw;
}

function readString(context: ContextSource, key: ContextKey, pattern: RegExp): string | undefined {
  const raw = readRaw(context, key);
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !pattern.test(raw.trim())) throw invalid(key, raw);
  return raw.trim();
}

function readList(context: ContextSource, key: ContextKey, pattern: RegExp): string[] | undefined {
  const raw = readRaw(context, key);
  if (raw === undefined) return undefined;
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
  if (items === undefined) throw invalid(key, raw);
  const values = items.map((item) => (typeof item === 'string' ? item.trim() : item)).filter((v) => v !== '');
  if (values.length === 0 || !values.every((v): v is string => typeof v === 'string' && pattern.test(v))) {
    throw invalid(key, raw);
  }
  const repeated = values.find((v, index) => values.indexOf(v) !== index);
  if (repeated !== undefined) {
    throw new ContextError(
      `-c ${key} names ${JSON.stringify(repeated)} twice (received ${JSON.stringify(raw)})`,
    );
  }
  return values;
}

/**
 * A number written the plain way: `Number()` alone would also take `0x10`, `1e1` or `Infinity`, and a typo
 * such as `0x10` would deploy a schedule nobody meant.
 */
function readNumber(
  context: ContextSource,
  key: ContextKey,
  written: RegExp,
  allowed: (n: number) => boolean,
): number | undefined {
  const raw = readRaw(context, key);
  if (raw === undefined) return undefined;
  const value =
    typeof raw === 'number'
      ? raw
      : typeof raw === 'string' && written.test(raw.trim())
        ? Number(raw.trim())
        : Number.NaN;
  if (!Number.isFinite(value) || !allowed(value)) throw invalid(key, raw);
  return value;
}

/**
 * The stack and the secrets it manages must share an account and a region: a rotation function reaches
 * secrets in its own region only, and the deployment would otherwise fail late, in CloudFormation.
 */
function checkOneAccountAndRegion(arns: readonly string[], target: DeployTarget): void {
  const where = (arn: string) => {
    const [, , , region, account] = arn.split(':');
    return { region: region ?? '', account: account ?? '' };
  };
  const first = arns[0] as string;
  const expected = {
    region: target.region ?? where(first).region,
    account: target.account ?? where(first).account,
  };
  const of = target.region !== undefined || target.account !== undefined ? 'the deployment' : 'the first ARN';
  for (const arn of arns) {
    const { region, account } = where(arn);
    if (region !== expected.region || account !== expected.account) {
      throw new ContextError(
        `-c existingSecretArn must name secrets in the account and region of ${of} ` +
          `(${expected.account}, ${expected.region}); received ${JSON.stringify(arn)}, in ${account}, ${region}`,
      );
    }
  }
}
