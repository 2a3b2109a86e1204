import { createHash, randomInt, randomUUID } from 'node:crypto';
import {
  invalidNextToken,
  invalidParameter,
  invalidRequest,
  limitExceeded,
  resourceExists,
  resourceNotFound,
  ServiceError,
} from './errors';
import {
  checkLength,
  type JsonObject,
  optBoolean,
  optObject,
  optObjectList,
  optRange,
  optString,
  optStringList,
  reqString,
} from './input';

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPENDING = 'AWSPENDING';
export const AWSPREVIOUS = 'AWSPREVIOUS';

/** The message the service gives when RotateSecret finds AWSPENDING on a version that is not AWSCURRENT. */
export const ROTATION_INCOMPLETE_MESSAGE =
  "A previous rotation isn't complete. That rotation will be reattempted.";

export interface RotationRules {
  AutomaticallyAfterDays?: number;
  Duration?: string;
  ScheduleExpression?: string;
}

export interface Tag {
  Key?: string;
  Value?: string;
}

interface Version {
  readonly versionId: string;
  stages: string[];
  /** Absent on the stub RotateSecret creates before the rotation function's createSecret step writes it. */
  secretString?: string;
  /** Base64, as the JSON protocol carries blobs. */
  secretBinary?: string;
  readonly createdDate: number;
  rotationToken?: string;
}

interface Secret {
  readonly arn: string;
  readonly name: string;
  description?: string;
  tags: Tag[];
  readonly createdDate: number;
  lastChangedDate: number;
  lastAccessedDate?: number;
  /** Undefined until rotation is configured once: DescribeSecret then omits RotationEnabled. */
  rotationEnabled?: boolean;
  rotationLambdaArn?: string;
  rotationRules?: RotationRules;
  lastRotatedDate?: number;
  /** Insertion order is creation order. */
  readonly versions: Map<string, Version>;
  /** Version id of the rotation whose background steps may still run; a newer RotateSecret replaces it. */
  activeRotation?: string;
  readonly sequence: number;
}

/** What RotateSecret hands to the rotation runner once the API call has taken effect. */
export interface RotationJob {
  readonly secretArn: string;
  readonly versionId: string;
  readonly lambdaArn: string;
  /** `rotate`: the four steps. `test`: RotateImmediately=false, only testSecret, then AWSPENDING is removed. */
  readonly mode: 'rotate' | 'test';
}

export interface VersionSnapshot {
  versionId: string;
  stages: string[];
  secretString?: string;
  createdDate: number;
  rotationToken?: string;
}

export interface SecretSnapshot {
  arn: string;
  name: string;
  createdDate: number;
  lastChangedDate: number;
  versions: VersionSnapshot[];
  rotationEnabled: boolean;
  rotationLambdaArn?: string;
  rotationRules?: RotationRules;
  lastRotatedDate?: number;
}

export interface StoreOptions {
  readonly region: string;
  readonly accountId: string;
  readonly clock: () => number;
  /** Page size of ListSecrets when the request has no MaxResults. */
  readonly listPageSize: number;
  /** Upper bound of any page, below MaxResults if smaller (the service "might return fewer results"). */
  readonly maxPageSize: number;
  /** Unlabelled versions are removed beyond `keep`, but not those younger than `minAgeMs`. */
  readonly versionRetention: { readonly keep: number; readonly minAgeMs: number };
  readonly onRotationStarted: (job: RotationJob) => void;
}

const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const ARN_SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** "You can attach up to 20 staging labels to a secret" (user guide, Version). */
const MAX_LABELS_PER_SECRET = 20;
const FILTER_KEYS = new Set([
  'description',
  'name',
  'tag-key',
  'tag-value',
  'primary-region',
  'owning-service',
  'all',
]);
const SORT_BY = new Set(['created-date', 'last-accessed-date', 'last-changed-date', 'name']);

const seconds = (ms: number) => ms / 1000;

/**
 * The words of a search string as the `all` filter sees them (API reference, Filter: "Breaks the filter value
 * string into words and then searches all attributes for matches. Not case-sensitive"; user guide, Find
 * secrets: special characters are ignored, only letters and digits count, and words break where the case
 * changes and between letters and digits: "credsDatabase#892 searches for creds, Database, and 892").
 */
export function searchWords(text: string): string[] {
  return text
    .split(/[^A-Za-z0-9]+/)
    .flatMap((part) => part.split(/(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])/))
    .filter((word) => word !== '');
}
const startOfUtcDay = (ms: number) => ms - (ms % 86_400_000);

function withoutUndefined(record: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

/**
 * The secrets of one emulated account and region, with Secrets Manager's documented semantics.
 * Each operation takes the parsed JSON request and returns the JSON response (dates as epoch seconds),
 * or throws a {@link ServiceError}.
 */
export class SecretStore {
  private readonly byArn = new Map<string, Secret>();
  private readonly byName = new Map<string, Secret>();
  private readonly arnPrefix: string;
  private sequence = 0;

  constructor(private readonly options: StoreOptions) {
    this.arnPrefix = `arn:aws:secretsmanager:${options.region}:${options.accountId}:secret:`;
  }

  private now(): number {
    return this.options.clock();
  }

  // ---------------------------------------------------------------- lookup

  /** Name, complete ARN, or partial ARN (the complete ARN without "-" and the six random characters). */
  private resolve(secretId: string): Secret {
    const byArn = this.byArn.get(secretId);
    if (byArn) return byArn;
    if (secretId.startsWith('arn:')) {
      if (secretId.startsWith(this.arnPrefix)) {
        const partial = this.byName.get(secretId.slice(this.arnPrefix.length));
        if (partial) return partial;
      }
      throw resourceNotFound();
    }
    const byName = this.byName.get(secretId);
    if (byName) return byName;
    throw resourceNotFound();
  }

  private holderOf(secret: Secret, stage: string): Version | undefined {
    for (const version of secret.versions.values()) if (version.stages.includes(stage)) return version;
    return undefined;
  }

  private labelled(secret: Secret): JsonObject {
    const out: JsonObject = {};
    for (const version of secret.versions.values()) {
      if (version.stages.length > 0) out[version.versionId] = [...version.stages];
    }
    return out;
  }

  // ---------------------------------------------------------------- staging labels

  private labelCount(secret: Secret): number {
    let count = 0;
    for (const version of secret.versions.values()) count += version.stages.length;
    return count;
  }

  private detach(version: Version, stage: string): void {
    version.stages = version.stages.filter((label) => label !== stage);
  }

  /**
   * Attaches a label, taking it from whichever version had it. Moving AWSCURRENT also moves AWSPREVIOUS
   * to the version AWSCURRENT was removed from (PutSecretValue and UpdateSecretVersionStage references).
   */
  private attach(secret: Secret, version: Version, stage: string): void {
    const holder = this.holderOf(secret, stage);
    if (holder === version) return;
    if (!holder && this.labelCount(secret) >= MAX_LABELS_PER_SECRET) {
      throw limitExceeded(`A secret can have at most ${MAX_LABELS_PER_SECRET} staging labels.`);
    }
    if (holder) this.detach(holder, stage);
    version.stages.push(stage);
    if (stage === AWSCURRENT && holder) {
      const previous = this.holderOf(secret, AWSPREVIOUS);
      if (previous) this.detach(previous, AWSPREVIOUS);
      holder.stages.push(AWSPREVIOUS);
    }
  }

  /** Versions without labels are deprecated; the service removes them beyond 100, none younger than 24 h. */
  private prune(secret: Secret): void {
    const { keep, minAgeMs } = this.options.versionRetention;
    let excess = secret.versions.size - keep;
    if (excess <= 0) return;
    const cutoff = this.now() - minAgeMs;
    for (const version of [...secret.versions.values()]) {
      if (excess <= 0) break;
      if (version.stages.length === 0 && version.createdDate <= cutoff) {
        secret.versions.delete(version.versionId);
        excess--;
      }
    }
  }

  private touch(secret: Secret): void {
    secret.lastChangedDate = this.now();
  }

  // ---------------------------------------------------------------- values

  private readValue(input: JsonObject): { secretString?: string; secretBinary?: string } {
    const secretString = optString(input, 'SecretString');
    const secretBinary = optString(input, 'SecretBinary');
    if (secretString !== undefined && secretBinary !== undefined) {
      throw invalidParameter('You must include SecretString or SecretBinary, but not both.');
    }
    checkLength('SecretString', secretString, 1, 65_536);
    checkLength('SecretBinary', secretBinary, 1, 87_384);
    return {
      ...(secretString === undefined ? {} : { secretString }),
      ...(secretBinary === undefined ? {} : { secretBinary }),
    };
  }

  private static hasValue(version: Version): boolean {
    return version.secretString !== undefined || version.secretBinary !== undefined;
  }

  private static sameValue(
    version: Version,
    value: { secretString?: string; secretBinary?: string },
  ): boolean {
    return version.secretString === value.secretString && version.secretBinary === value.secretBinary;
  }

  private valueEntry(secret: Secret, version: Version): JsonObject {
    return withoutUndefined({
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.versionId,
      SecretString: version.secretString,
      SecretBinary: version.secretBinary,
      VersionStages: [...version.stages],
      CreatedDate: seconds(version.createdDate),
    });
  }

  private recordAccess(secret: Secret): void {
    secret.lastAccessedDate = startOfUtcDay(this.now());
  }

  /** The version GetSecretValue designates; a version without a value (RotateSecret's stub) is not found. */
  private selectVersion(secret: Secret, versionId: string | undefined, stage: string | undefined): Version {
    const wanted = stage ?? (versionId === undefined ? AWSCURRENT : undefined);
    const version =
      versionId !== undefined
        ? secret.versions.get(versionId)
        : wanted === undefined
          ? undefined
          : this.holderOf(secret, wanted);
    const sameVersion = version !== undefined && (wanted === undefined || version.stages.includes(wanted));
    if (!sameVersion || !SecretStore.hasValue(version)) {
      const what = [
        versionId === undefined ? undefined : `VersionId: ${versionId}`,
        wanted === undefined ? undefined : `staging label: ${wanted}`,
      ]
        .filter(Boolean)
        .join(' and ');
      throw resourceNotFound(`Secrets Manager can't find the specified secret value for ${what}`);
    }
    return version;
  }

  // ---------------------------------------------------------------- operations

  createSecret(input: JsonObject): JsonObject {
    const name = reqString(input, 'Name');
    if (!SECRET_NAME.test(name)) {
      throw invalidParameter(
        `Invalid name ${JSON.stringify(name)}: 1 to 512 characters among letters, digits and /_+=.@-`,
      );
    }
    const token = optString(input, 'ClientRequestToken');
    checkLength('ClientRequestToken', token, 32, 64);
    const value = this.readValue(input);
    const hasValue = value.secretString !== undefined || value.secretBinary !== undefined;
    const existing = this.byName.get(name);
    if (existing) {
      // A retried CreateSecret (same token, same value) is ignored, per ClientRequestToken's documentation.
      const version = token === undefined ? undefined : existing.versions.get(token);
      if (version && hasValue && SecretStore.sameValue(version, value)) {
        return { ARN: existing.arn, Name: existing.name, VersionId: version.versionId };
      }
      throw resourceExists(`The operation failed because the secret ${name} already exists.`);
    }
    const description = optString(input, 'Description');
    const tags = (optObjectList(input, 'Tags') ?? []).map((tag) => ({
      Key: optString(tag, 'Key'),
      Value: optString(tag, 'Value'),
    }));
    const now = this.now();
    const suffix = Array.from(
      { length: 6 },
      () => ARN_SUFFIX_ALPHABET[randomInt(ARN_SUFFIX_ALPHABET.length)],
    );
    const secret: Secret = {
      arn: `${this.arnPrefix}${name}-${suffix.join('')}`,
      name,
      tags,
      createdDate: now,
      lastChangedDate: now,
      versions: new Map(),
      sequence: this.sequence++,
      ...(description === undefined ? {} : { description }),
    };
    let versionId: string | undefined;
    if (hasValue) {
      versionId = token ?? randomUUID();
      secret.versions.set(versionId, { versionId, stages: [AWSCURRENT], createdDate: now, ...value });
    }
    this.byArn.set(secret.arn, secret);
    this.byName.set(secret.name, secret);
    return withoutUndefined({ ARN: secret.arn, Name: secret.name, VersionId: versionId });
  }

  putSecretValue(input: JsonObject): JsonObject {
    const secret = this.resolve(reqString(input, 'SecretId'));
    const value = this.readValue(input);
    if (value.secretString === undefined && value.secretBinary === undefined) {
      throw invalidParameter('You must include SecretString or SecretBinary.');
    }
    const token = optString(input, 'ClientRequestToken') ?? randomUUID();
    checkLength('ClientRequestToken', token, 32, 64);
    const rotationToken = optString(input, 'RotationToken');
    checkLength('RotationToken', rotationToken, 36, 256);
    const requested = optStringList(input, 'VersionStages');
    const existing = secret.versions.get(token);
    if (existing && SecretStore.hasValue(existing)) {
      if (!SecretStore.sameValue(existing, value)) {
        throw resourceExists(
          `ClientRequestToken ${token} already identifies a version of ${secret.arn} with another value; ` +
            'a version cannot be modified, only new versions created.',
        );
      }
      // Same token, same value: the request is ignored (idempotent), labels included.
      return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: [...existing.stages] };
    }
    const firstVersion = [...secret.versions.values()].every((version) => !SecretStore.hasValue(version));
    const stages = new Set(requested ?? [AWSCURRENT]);
    if (firstVersion && !this.holderOf(secret, AWSCURRENT)) stages.add(AWSCURRENT);
    const newLabels = [...stages].filter((stage) => !this.holderOf(secret, stage)).length;
    if (this.labelCount(secret) + newLabels > MAX_LABELS_PER_SECRET) {
      throw limitExceeded(`A secret can have at most ${MAX_LABELS_PER_SECRET} staging labels.`);
    }
    // A stub left by RotateSecret (AWSPENDING, no value) is filled in place: that is how createSecret writes.
    const version: Version = existing ?? { versionId: token, stages: [], createdDate: this.now() };
    Object.assign(version, value);
    if (rotationToken !== undefined) version.rotationToken = rotationToken;
    if (!existing) secret.versions.set(token, version);
    for (const stage of stages) this.attach(secret, version, stage);
    this.touch(secret);
    this.prune(secret);
    return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: [...version.stages] };
  }

  getSecretValue(input: JsonObject): JsonObject {
    const secret = this.resolve(reqString(input, 'SecretId'));
    const version = this.selectVersion(
      secret,
      optString(input, 'VersionId'),
      optString(input, 'VersionStage'),
    );
    this.recordAccess(secret);
    return this.valueEntry(secret, version);
  }

  batchGetSecretValue(input: JsonObject): JsonObject {
    const ids = optStringList(input, 'SecretIdList');
    const filters = optObjectList(input, 'Filters');
    if ((ids === undefined) === (filters === undefined)) {
      throw invalidParameter('You must include Filters or SecretIdList, but not both.');
    }
    const maxResults = optRange(input, 'MaxResults', 1, 20);
    const secretValues: JsonObject[] = [];
    const errors: JsonObject[] = [];
    const collect = (secretId: string, find: () => Secret) => {
      try {
        const secret = find();
        secretValues.push(this.valueEntry(secret, this.selectVersion(secret, undefined, AWSCURRENT)));
        this.recordAccess(secret);
      } catch (error) {
        if (!(error instanceof ServiceError)) throw error;
        errors.push({ SecretId: secretId, ErrorCode: error.code, Message: error.message });
      }
    };
    if (ids !== undefined) {
      if (maxResults !== undefined) throw invalidParameter('MaxResults can only be used with Filters.');
      if (ids.length < 1 || ids.length > 20) {
        throw invalidParameter(`SecretIdList takes 1 to 20 secrets; got ${ids.length}.`);
      }
      for (const id of ids) collect(id, () => this.resolve(id));
      return { SecretValues: secretValues, Errors: errors };
    }
    const page = this.page('BatchGetSecretValue', this.matching(filters ?? []), {
      maxResults,
      defaultSize: 20,
      nextToken: optString(input, 'NextToken'),
      fingerprint: JSON.stringify(filters),
    });
    for (const secret of page.items) collect(secret.arn, () => secret);
    return withoutUndefined({ SecretValues: secretValues, Errors: errors, NextToken: page.nextToken });
  }

  describeSecret(input: JsonObject): JsonObject {
    const secret = this.resolve(reqString(input, 'SecretId'));
    return withoutUndefined({
      ...this.metadata(secret),
      VersionIdsToStages: this.labelled(secret),
    });
  }

  listSecrets(input: JsonObject): JsonObject {
    const filters = optObjectList(input, 'Filters') ?? [];
    const sortOrder = optString(input, 'SortOrder') ?? 'asc';
    const sortBy = optString(input, 'SortBy') ?? 'created-date';
    if (sortOrder !== 'asc' && sortOrder !== 'desc')
      throw invalidParameter(`Invalid SortOrder ${sortOrder}.`);
    if (!SORT_BY.has(sortBy)) throw invalidParameter(`Invalid SortBy ${sortBy}.`);
    optBoolean(input, 'IncludePlannedDeletion');
    const sorted = this.matching(filters).sort((a, b) => {
      const key = (secret: Secret): number | string =>
        sortBy === 'name'
          ? secret.name
          : sortBy === 'last-changed-date'
            ? secret.lastChangedDate
            : sortBy === 'last-accessed-date'
              ? (secret.lastAccessedDate ?? 0)
              : secret.createdDate;
      const [ka, kb] = [key(a), key(b)];
      const order = ka < kb ? -1 : ka > kb ? 1 : a.sequence - b.sequence;
      return sortOrder === 'asc' ? order : -order;
    });
    const page = this.page('ListSecrets', sorted, {
      maxResults: optRange(input, 'MaxResults', 1, 100),
      defaultSize: this.options.listPageSize,
      nextToken: optString(input, 'NextToken'),
      fingerprint: JSON.stringify([filters, sortOrder, sortBy]),
    });
    return withoutUndefined({
      SecretList: page.items.map((secret) =>
        withoutUndefined({ ...this.metadata(secret), SecretVersionsToStages: this.labelled(secret) }),
      ),
      NextToken: page.nextToken,
    });
  }

  listSecretVersionIds(input: JsonObject): JsonObject {
    const secret = this.resolve(reqString(input, 'SecretId'));
    const includeDeprecated = optBoolean(input, 'IncludeDeprecated') ?? false;
    const versions = [...secret.versions.values()].filter(
      (version) => includeDeprecated || version.stages.length > 0,
    );
    const page = this.page('ListSecretVersionIds', versions, {
      maxResults: optRange(input, 'MaxResults', 1, 100),
      defaultSize: this.options.listPageSize,
      nextToken: optString(input, 'NextToken'),
      fingerprint: `${secret.arn}:${includeDeprecated}`,
    });
    return withoutUndefined({
      ARN: secret.arn,
      Name: secret.name,
      Versions: page.items.map((version) => ({
        VersionId: version.versionId,
        VersionStages: [...version.stages],
        CreatedDate: seconds(version.createdDate),
      })),
      NextToken: page.nextToken,
    });
  }

  updateSecretVersionStage(input: JsonObject): JsonObject {
    const secret = this.resolve(reqString(input, 'SecretId'));
    const stage = reqString(input, 'VersionStage');
    checkLength('VersionStage', stage, 1, 256);
    const moveTo = optString(input, 'MoveToVersionId');
    const removeFrom = optString(input, 'RemoveFromVersionId');
    if (moveTo === undefined && removeFrom === undefined) {
      throw invalidParameter('You must specify MoveToVersionId, RemoveFromVersionId, or both.');
    }
    const target = moveTo === undefined ? undefined : secret.versions.get(moveTo);
    if (moveTo !== undefined && !target) {
      throw resourceNotFound(`Secrets Manager can't find the specified secret version: ${moveTo}`);
    }
    const holder = this.holderOf(secret, stage);
    if (removeFrom !== undefined && holder?.versionId !== removeFrom) {
      throw invalidParameter(
        `The staging label ${stage} is ${holder ? `attached to version ${holder.versionId}` : 'not attached to any version'}, ` +
          `not to RemoveFromVersionId ${removeFrom}.`,
      );
    }
    if (holder && target && holder !== target && removeFrom === undefined) {
      throw invalidParameter(
        `The staging label ${stage} is attached to version ${holder.versionId}; ` +
          'you must specify it in RemoveFromVersionId to move the label.',
      );
    }
    if (!target && stage === AWSCURRENT) {
      throw invalidParameter(
        'A secret always has an AWSCURRENT version; move the label instead of removing it.',
      );
    }
    if (target) {
      this.attach(secret, target, stage);
    } else if (holder) {
      this.detach(holder, stage);
    }
    this.touch(secret);
    this.prune(secret);
    return { ARN: secret.arn, Name: secret.name };
  }

  rotateSecret(input: JsonObject): JsonObject {
    const secret = this.resolve(reqString(input, 'SecretId'));
    const token = optString(input, 'ClientRequestToken') ?? randomUUID();
    checkLength('ClientRequestToken', token, 32, 64);
    const lambdaArn = optString(input, 'RotationLambdaARN');
    const rules = this.readRotationRules(optObject(input, 'RotationRules'));
    const rotateImmediately = optBoolean(input, 'RotateImmediately') ?? true;

    // The same token again (a client retrying a RotateSecret whose answer was lost) creates nothing new.
    if (secret.versions.has(token)) return { ARN: secret.arn, Name: secret.name, VersionId: token };

    const pending = this.holderOf(secret, AWSPENDING);
    if (pending && !pending.stages.includes(AWSCURRENT)) throw invalidRequest(ROTATION_INCOMPLETE_MESSAGE);
    const function_ = lambdaArn ?? secret.rotationLambdaArn;
    if (function_ === undefined) {
      throw invalidRequest(
        "You tried to enable rotation on a secret that doesn't already have a Lambda function ARN configured " +
          "and you didn't include such an ARN as a parameter in this call.",
      );
    }
    if (!pending && this.labelCount(secret) >= MAX_LABELS_PER_SECRET) {
      throw limitExceeded(`A secret can have at most ${MAX_LABELS_PER_SECRET} staging labels.`);
    }
    secret.rotationLambdaArn = function_;
    if (rules) secret.rotationRules = rules;
    secret.rotationEnabled = true;

    // The version id exists, labelled AWSPENDING and without a value, before any step runs.
    const stub: Version = { versionId: token, stages: [], createdDate: this.now() };
    secret.versions.set(token, stub);
    this.attach(secret, stub, AWSPENDING);
    secret.activeRotation = token;
    this.touch(secret);
    this.prune(secret);
    this.options.onRotationStarted({
      secretArn: secret.arn,
      versionId: token,
      lambdaArn: function_,
      mode: rotateImmediately ? 'rotate' : 'test',
    });
    return { ARN: secret.arn, Name: secret.name, VersionId: token };
  }

  cancelRotateSecret(input: JsonObject): JsonObject {
    const secret = this.resolve(reqString(input, 'SecretId'));
    const pending = this.holderOf(secret, AWSPENDING);
    secret.rotationEnabled = false;
    secret.activeRotation = undefined;
    this.touch(secret);
    return withoutUndefined({
      ARN: secret.arn,
      Name: secret.name,
      VersionId: pending && !pending.stages.includes(AWSCURRENT) ? pending.versionId : undefined,
    });
  }

  // ---------------------------------------------------------------- rotation bookkeeping (for the runner)

  isActiveRotation(secretArn: string, versionId: string): boolean {
    return this.byArn.get(secretArn)?.activeRotation === versionId;
  }

  /** LastRotatedDate: "the most recent date and time that the rotation process was successfully completed". */
  rotationSucceeded(secretArn: string, versionId: string): void {
    const secret = this.byArn.get(secretArn);
    if (!secret) return;
    secret.lastRotatedDate = this.now();
    if (secret.activeRotation === versionId) secret.activeRotation = undefined;
  }

  rotationFailed(secretArn: string, versionId: string): void {
    const secret = this.byArn.get(secretArn);
    if (secret?.activeRotation === versionId) secret.activeRotation = undefined;
  }

  /** RotateImmediately=false "creates an AWSPENDING version of the secret and then removes it". */
  endTestRotation(secretArn: string, versionId: string): void {
    const secret = this.byArn.get(secretArn);
    const version = secret?.versions.get(versionId);
    if (!secret || !version) return;
    this.detach(version, AWSPENDING);
    if (secret.activeRotation === versionId) secret.activeRotation = undefined;
    this.prune(secret);
  }

  versionIsCurrent(secretArn: string, versionId: string): boolean {
    return this.byArn.get(secretArn)?.versions.get(versionId)?.stages.includes(AWSCURRENT) ?? false;
  }

  // ---------------------------------------------------------------- direct (no HTTP) helpers

  configureRotation(secretId: string, lambdaArn: string, rules?: RotationRules): void {
    const secret = this.resolve(secretId);
    secret.rotationEnabled = true;
    secret.rotationLambdaArn = lambdaArn;
    if (rules) secret.rotationRules = this.readRotationRules(rules as JsonObject);
    this.touch(secret);
  }

  inspect(secretId: string): SecretSnapshot {
    const secret = this.resolve(secretId);
    return JSON.parse(
      JSON.stringify({
        arn: secret.arn,
        name: secret.name,
        createdDate: secret.createdDate,
        lastChangedDate: secret.lastChangedDate,
        versions: [...secret.versions.values()].map((version) => ({
          versionId: version.versionId,
          stages: version.stages,
          secretString: version.secretString,
          createdDate: version.createdDate,
          rotationToken: version.rotationToken,
        })),
        rotationEnabled: secret.rotationEnabled ?? false,
        rotationLambdaArn: secret.rotationLambdaArn,
        rotationRules: secret.rotationRules,
        lastRotatedDate: secret.lastRotatedDate,
      }),
    ) as SecretSnapshot;
  }

  // ---------------------------------------------------------------- shared pieces

  private readRotationRules(rules: JsonObject | undefined): RotationRules | undefined {
    if (rules === undefined) return undefined;
    const days = optRange(rules, 'AutomaticallyAfterDays', 1, 1000);
    const schedule = optString(rules, 'ScheduleExpression');
    const duration = optString(rules, 'Duration');
    if (days !== undefined && schedule !== undefined) {
      throw invalidParameter('Use AutomaticallyAfterDays or ScheduleExpression, but not both.');
    }
    return withoutUndefined({
      AutomaticallyAfterDays: days,
      ScheduleExpression: schedule,
      Duration: duration,
    }) as RotationRules;
  }

  private metadata(secret: Secret): JsonObject {
    const rules = secret.rotationRules;
    const days = rules?.AutomaticallyAfterDays;
    return {
      ARN: secret.arn,
      Name: secret.name,
      Description: secret.description,
      RotationEnabled: secret.rotationEnabled,
      RotationLambdaARN: secret.rotationLambdaArn,
      RotationRules: rules,
      LastRotatedDate: secret.lastRotatedDate === undefined ? undefined : seconds(secret.lastRotatedDate),
      LastChangedDate: seconds(secret.lastChangedDate),
      LastAccessedDate: secret.lastAccessedDate === undefined ? undefined : seconds(secret.lastAccessedDate),
      NextRotationDate:
        secret.rotationEnabled && days !== undefined
          ? seconds((secret.lastRotatedDate ?? secret.createdDate) + days * 86_400_000)
          : undefined,
      Tags: secret.tags.length > 0 ? secret.tags : undefined,
      CreatedDate: seconds(secret.createdDate),
      PrimaryRegion: this.options.region,
    };
  }

  /** Filters: AND across filters, OR across a filter's values (a value starting with "!" negates). */
  private matching(filters: JsonObject[]): Secret[] {
    if (filters.length > 10) throw invalidParameter(`At most 10 filters; got ${filters.length}.`);
    const parsed = filters.map((filter) => {
      const key = reqString(filter, 'Key');
      if (!FILTER_KEYS.has(key)) throw invalidParameter(`Invalid filter key ${key}.`);
      const values = optStringList(filter, 'Values') ?? [];
      if (values.length < 1 || values.length > 10) {
        throw invalidParameter(`A filter takes 1 to 10 values; got ${values.length}.`);
      }
      return { key, values };
    });
    const fields = (secret: Secret, key: string): { texts: string[]; caseSensitive: boolean } => {
      const tagKeys = secret.tags.flatMap((tag) => (tag.Key === undefined ? [] : [tag.Key]));
      const tagValues = secret.tags.flatMap((tag) => (tag.Value === undefined ? [] : [tag.Value]));
      switch (key) {
        case 'name':
          return { texts: [secret.name], caseSensitive: true };
        case 'description':
          return { texts: (secret.description ?? '').split(/\s+/).filter(Boolean), caseSensitive: false };
        case 'tag-key':
          return { texts: tagKeys, caseSensitive: true };
        case 'tag-value':
          return { texts: tagValues, caseSensitive: true };
        case 'primary-region':
          return { texts: [this.options.region], caseSensitive: true };
        case 'owning-service':
          return { texts: [], caseSensitive: false };
        default:
          return {
            texts: [secret.name, secret.description ?? '', ...tagKeys, ...tagValues].flatMap(searchWords),
            caseSensitive: false,
          };
      }
    };
    const matches = (secret: Secret, key: string, value: string): boolean => {
      const { texts, caseSensitive } = fields(secret, key);
      const fold = (text: string) => (caseSensitive ? text : text.toLowerCase());
      // `all` breaks the value into words; a secret matches when any of them begins a word of an attribute.
      const wanted = key === 'all' ? searchWords(value) : [value];
      return wanted.some((word) => texts.some((text) => fold(text).startsWith(fold(word))));
    };
    return [...this.byArn.values()]
      .filter((secret) =>
        parsed.every(({ key, values }) => {
          const positive = values.filter((value) => !value.startsWith('!'));
          const negative = values.filter((value) => value.startsWith('!')).map((value) => value.slice(1));
          return (
            (positive.length === 0 || positive.some((value) => matches(secret, key, value))) &&
            !negative.some((value) => matches(secret, key, value))
          );
        }),
      )
      .sort((a, b) => a.createdDate - b.createdDate || a.sequence - b.sequence);
  }

  /** Offset pagination; the token is bound to the operation and request so a foreign token is refused. */
  private page<T>(
    operation: string,
    items: T[],
    request: {
      maxResults: number | undefined;
      defaultSize: number;
      nextToken: string | undefined;
      fingerprint: string;
    },
  ): { items: T[]; nextToken?: string } {
    const fingerprint = createHash('sha256')
      .update(`${operation}\n${request.fingerprint}`)
      .digest('hex')
      .slice(0, 16);
    let offset = 0;
    if (request.nextToken !== undefined) {
      try {
        const decoded = JSON.parse(Buffer.from(request.nextToken, 'base64url').toString('utf8')) as unknown;
        const token = decoded as { o?: unknown; f?: unknown };
        if (
          typeof token.o !== 'number' ||
          token.f !== fingerprint ||
          !Number.isInteger(token.o) ||
          token.o < 0
        ) {
          throw invalidNextToken();
        }
        offset = token.o;
      } catch {
        throw invalidNextToken();
      }
    }
    const size = Math.min(request.maxResults ?? request.defaultSize, this.options.maxPageSize);
    const slice = items.slice(offset, offset + size);
    const next = offset + slice.length;
    return {
      items: slice,
      ...(next < items.length
        ? { nextToken: Buffer.from(JSON.stringify({ o: next, f: fingerprint })).toString('base64url') }
        : {}),
    };
  }
}
