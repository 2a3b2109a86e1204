import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type { MomentoTokenRotatorStackProps } from '../lib';
import { MAX_SCHEDULE_PERIOD, MIN_SCHEDULE_PERIOD } from '../lib';
import {
  DEFAULT_DEPLOYMENT_NAME,
  DEPLOYMENT_NAME,
  MAX_DEPLOYMENT_NAME_LENGTH,
} from '../src/deployment-names';

/**
 * The deploy options, with what each one allows. Each is a `context` entry of cdk.json, an entry of the JSON file
 * `optionsFile` names, or `-c key=value` for one run.
 */
export const CONTEXT_OPTIONS = {
  optionsFile: 'the path of a JSON file holding the other options, relative to the project directory',
  stackName:
    `the name of this deployment: a letter, then letters, digits and hyphens, at most ${MAX_DEPLOYMENT_NAME_LENGTH} ` +
    'characters (the function is <stackName>-rotator, and Lambda allows 64)',
  secretName: 'secret names to create, comma-separated (letters, digits and /_+=.@-)',
  existingSecretArn: 'complete ARNs of existing secrets to manage, comma-separated',
  secretTag:
    'a tag that selects secrets to manage, as key or key=value (letters, digits, spaces and _.:/+@-; the key ' +
    'not starting with aws:)',
  existingSecretKmsKeyArn: 'ARN of the customer managed KMS key of the existing or tagged secrets',
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
  | 'secretTag'
  | 'existingSecretsKeyArn'
  | 'alarmEmail'
  | 'alarmTopicArn'
  | 'schedulePeriod'
  | 'rotateAtRemainingFraction'
>;

export interface DeployOptions {
  /** The stack name: the stack's id in the app, and the name its function, alarms and metrics derive from. */
  readonly stackName: string;
  readonly props: DeployProps;
  /** Options of the options file that `-c` sets too, and so overrides for this run. */
  readonly overridden: readonly string[];
}

const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SECRET_TAG = /^([\p{L}\p{N} _.:/+@-]{1,128})(=([\p{L}\p{N} _.:/=+@-]{1,256}))?$/u;
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
 * The options as one place to read from: the context (cdk.json, then `-c`, which the CDK CLI lets win) over the
 * entries of the file `optionsFile` names. Remembers where each value came from, for the messages.
 */
class Options {
  private constructor(
    private readonly context: ContextSource,
    private readonly file: { readonly path: string; readonly entries: Record<string, unknown> } | undefined,
  ) {}

  static read(context: ContextSource, projectDir: string): Options {
    rejectUnknown(Object.keys(context.getAllContext()).filter(isOptionLike), (key) => `-c ${key}`);
    const named = context.tryGetContext('optionsFile');
    if (named === undefined || named === null || named === '') return new Options(context, undefined);
    if (typeof named !== 'string') throw invalid('optionsFile', '-c optionsFile', named);
    const entries = readOptionsFile(path.resolve(projectDir, named), named);
    rejectUnknown(Object.keys(entries), (key) => `${key} in ${named}`);
    if ('optionsFile' in entries) {
      throw new ContextError(
        `${named} names another options file (optionsFile); keep every option in one file`,
      );
    }
    // cdk.json's context reaches the app merged with -c: tell them apart by reading cdk.json itself. An option
    // kept in both files would silently win over the file the user chose for this deployment.
    const kept = Object.keys(entries).filter((key) => key in cdkJsonContext(projectDir));
    if (kept.length > 0) {
      throw new ContextError(
        `${kept.join(', ')} ${kept.length === 1 ? 'is' : 'are'} kept both in cdk.json and in ${named}; keep each ` +
          'option in one place (cdk.json for one deployment, an options file per deployment for several)',
      );
    }
    return new Options(context, { path: named, entries });
  }

  /** The value of an option, empty values read as absent, and how a message names it. */
  get(key: ContextKey): { raw: unknown; label: string } {
    const fromContext = present(this.context.tryGetContext(key));
    if (fromContext !== undefined || this.file === undefined) return { raw: fromContext, label: `-c ${key}` };
    return { raw: present(this.file.entries[key]), label: `${key} in ${this.file.path}` };
  }

  /** Options of the file that the command line (`-c`) sets too, for this one run. */
  overridden(): string[] {
    const file = this.file;
    if (file === undefined) return [];
    return Object.keys(file.entries).filter(
      (key) => key in CONTEXT_OPTIONS && present(this.context.tryGetContext(key)) !== undefined,
    );
  }
}

/** The `context` of the project's cdk.json (empty when there is none, as when the app runs in a test). */
function cdkJsonContext(projectDir: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path.join(projectDir, 'cdk.json'), 'utf8');
  } catch {
    return {};
  }
  const parsed = JSON.parse(text) as { context?: Record<string, unknown> };
  return parsed.context ?? {};
}

function present(raw: unknown): unknown {
  return raw === undefined || raw === null || raw === '' ? undefined : raw;
}

function readOptionsFile(file: string, named: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ContextError(
      `-c optionsFile names ${JSON.stringify(named)}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}); ` +
        `it is read from ${file}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ContextError(`${named} is not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ContextError(
      `${named} must hold one JSON object of options, such as {"secretName": ["momento/api-key"]}`,
    );
  }
  return parsed as Record<string, unknown>;
}

/** Whether a context key is ours to check: CDK's own keys (feature flags, aws:cdk:..., lookups) all carry punctuation. */
function isOptionLike(key: string): boolean {
  return /^[A-Za-z][A-Za-z0-9]*$/.test(key);
}

/** A mistyped option would otherwise be ignored without a word, and the deployment would differ from the intent. */
function rejectUnknown(keys: readonly string[], label: (key: string) => string): void {
  const known = Object.keys(CONTEXT_OPTIONS);
  const unknown = keys.filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new ContextError(
      `unknown option ${unknown.map(label).join(', ')}; the options are: ${known.join(', ')}`,
    );
  }
}

/**
 * Reads the deploy options once, into the stack name and typed stack props. Every bad value fails here, before
 * anything is built, with a message that shows the value received and what is allowed.
 */
export function readDeployContext(
  context: ContextSource,
  target: DeployTarget = {},
  projectDir: string = process.cwd(),
): DeployOptions {
  const options = Options.read(context, projectDir);

  const stackName = readString(options, 'stackName', DEPLOYMENT_NAME) ?? DEFAULT_DEPLOYMENT_NAME;
  const secretNames = readList(options, 'secretName', SECRET_NAME);
  const existingSecretArns = readList(options, 'existingSecretArn', SECRET_ARN);
  if (existingSecretArns !== undefined) checkOneAccountAndRegion(existingSecretArns, target);
  const secretTag = readTag(options);
  if (secretNames === undefined && existingSecretArns === undefined && secretTag === undefined) {
    throw new ContextError(
      'name the secrets to manage: secretName=momento/api-key to create one (comma-separated for several), ' +
        'existingSecretArn=arn:aws:secretsmanager:... to manage existing ones, or secretTag=team=platform to ' +
        'manage every secret that carries a tag (received none of them)',
    );
  }
  const keyOption = options.get('existingSecretKmsKeyArn');
  const existingSecretsKeyArn = readString(options, 'existingSecretKmsKeyArn', KMS_KEY_ARN);
  if (existingSecretsKeyArn !== undefined && existingSecretArns === undefined && secretTag === undefined) {
    throw new ContextError(
      `${keyOption.label} applies to the secrets of existingSecretArn or secretTag, neither of which is given ` +
        `(received ${JSON.stringify(existingSecretsKeyArn)}); secrets the stack creates use aws/secretsmanager`,
    );
  }

  const minutes = readNumber(options, 'scheduleMinutes', WHOLE_NUMBER, (n) => {
    const seconds = n * 60;
    return (
      Number.isInteger(n) &&
      seconds >= MIN_SCHEDULE_PERIOD.toSeconds() &&
      seconds <= MAX_SCHEDULE_PERIOD.toSeconds()
    );
  });

  return {
    stackName,
    overridden: options.overridden(),
    props: {
      secretNames,
      existingSecretArns,
      secretTag,
      existingSecretsKeyArn,
      alarmEmail: readString(options, 'alarmEmail', EMAIL),
      alarmTopicArn: readString(options, 'alarmTopicArn', TOPIC_ARN),
      schedulePeriod: minutes === undefined ? undefined : Duration.minutes(minutes),
      rotateAtRemainingFraction: readNumber(
        options,
        'rotateAtRemainingFraction',
        DECIMAL,
        (n) => n > 0 && n < 1,
      ),
    },
  };
}

function invalid(key: ContextKey, label: string, raw: unknown): ContextError {
  return new ContextError(`${label} must be ${CONTEXT_OPTIONS[key]} (received ${JSON.stringify(raw)})`);
}

function readString(options: Options, key: ContextKey, pattern: RegExp): string | undefined {
  const { raw, label } = options.get(key);
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !pattern.test(raw.trim())) throw invalid(key, label, raw);
  return raw.trim();
}

/** `key` or `key=value`: the first `=` separates them, so a key cannot hold one (a value may). */
function readTag(options: Options): DeployProps['secretTag'] {
  const { raw, label } = options.get('secretTag');
  if (raw === undefined) return undefined;
  const match = typeof raw === 'string' ? SECRET_TAG.exec(raw.trim()) : null;
  const key = match?.[1];
  const value = match?.[3];
  const padded = (text: string | undefined) => text !== undefined && text.trim() !== text;
  if (key === undefined || key.toLowerCase().startsWith('aws:') || padded(key) || padded(value)) {
    throw invalid('secretTag', label, raw);
  }
  return value === undefined ? { key } : { key, value };
}

function readList(options: Options, key: ContextKey, pattern: RegExp): string[] | undefined {
  const { raw, label } = options.get(key);
  if (raw === undefined) return undefined;
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
  if (items === undefined) throw invalid(key, label, raw);
  const values = items.map((item) => (typeof item === 'string' ? item.trim() : item)).filter((v) => v !== '');
  if (values.length === 0 || !values.every((v): v is string => typeof v === 'string' && pattern.test(v))) {
    throw invalid(key, label, raw);
  }
  const repeated = values.find((v, index) => values.indexOf(v) !== index);
  if (repeated !== undefined) {
    throw new ContextError(
      `${label} names ${JSON.stringify(repeated)} twice (received ${JSON.stringify(raw)})`,
    );
  }
  return values;
}

/**
 * A number written the plain way: `Number()` alone would also take `0x10`, `1e1` or `Infinity`, and a typo
 * such as `0x10` would deploy a schedule nobody meant.
 */
function readNumber(
  options: Options,
  key: ContextKey,
  written: RegExp,
  allowed: (n: number) => boolean,
): number | undefined {
  const { raw, label } = options.get(key);
  if (raw === undefined) return undefined;
  const value =
    typeof raw === 'number'
      ? raw
      : typeof raw === 'string' && written.test(raw.trim())
        ? Number(raw.trim())
        : Number.NaN;
  if (!Number.isFinite(value) || !allowed(value)) throw invalid(key, label, raw);
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
