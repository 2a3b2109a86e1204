/**
 * # Secrets Manager emulator
 *
 * An HTTP server on 127.0.0.1 (port 0 by default) speaking the AWS JSON 1.1 protocol of Secrets
 * Manager, so that the real `@aws-sdk/client-secrets-manager` v3 client reaches it with any credentials,
 * through `endpoint` or the `AWS_ENDPOINT_URL_SECRETS_MANAGER` environment variable:
 *
 * ```ts
 * const sm = await startSecretsManagerEmulator({ rotationFunctions: (arn) => handler });
 * const client = new SecretsManagerClient({ endpoint: sm.endpoint, region: 'us-east-1',
 *   credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
 * // ... afterAll: client.destroy(); await sm.stop();
 * ```
 *
 * ## Operations (X-Amz-Target `secretsmanager.<Operation>`)
 * CreateSecret, PutSecretValue, GetSecretValue, BatchGetSecretValue, ListSecrets, DescribeSecret,
 * ListSecretVersionIds, UpdateSecretVersionStage, RotateSecret, CancelRotateSecret. Anything else answers
 * UnknownOperationException. Dates are epoch seconds; errors carry `x-amzn-ErrorType` and
 * `{"__type","Message"}` so the SDK raises its modelled exception classes.
 *
 * Semantics worth knowing (each follows the AWS API reference / user guide, see the store):
 * - Secret ids: name, complete ARN (`arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>`),
 *   or partial ARN (the complete ARN without `-<6 chars>`).
 * - PutSecretValue: ClientRequestToken (32-64 chars) becomes the VersionId; same token + same value is
 *   ignored, same token + other value is ResourceExistsException. VersionStages defaults to AWSCURRENT
 *   (the first version always gets AWSCURRENT); moving AWSCURRENT moves AWSPREVIOUS to the old current.
 *   RotationToken (36-256 chars) is recorded on the version (`inspect`, `requestLog`).
 * - GetSecretValue: VersionId and/or VersionStage (both must designate the same version), AWSCURRENT by
 *   default; a version without a value (RotateSecret's stub) is ResourceNotFoundException.
 * - UpdateSecretVersionStage: a label attached elsewhere moves only with the matching
 *   RemoveFromVersionId (else InvalidParameterException); RemoveFromVersionId alone removes a label
 *   (not AWSCURRENT). Unlabelled versions are deprecated and dropped beyond `versionRetention`.
 * - RotateSecret: refuses with InvalidRequestException ("A previous rotation isn't complete...") while
 *   AWSPENDING is on a version that is not AWSCURRENT; otherwise it stores the rotation configuration
 *   (RotationEnabled=true), creates the version id (ClientRequestToken, labelled AWSPENDING, no value),
 *   answers `{ARN, Name, VersionId}` and only then runs the steps in the background. A RotateSecret
 *   repeating an existing version id (a client retry) answers that version and starts nothing.
 *   RotateImmediately=false runs testSecret only and removes AWSPENDING afterwards.
 * - Rotation: each step is one invocation of `rotationFunctions(lambdaArn)` with
 *   `{Step, SecretId: <ARN>, ClientRequestToken, RotationToken}` and a Lambda-like context whose
 *   `getRemainingTimeInMillis()` counts down from `invocationTimeoutMs`. A rejected or timed-out
 *   invocation fails the attempt (a timed-out one keeps running in the background, like a frozen
 *   container). "If any rotation step fails, Secrets Manager retries the entire rotation process
 *   multiple times": here up to `rotationRetry.maxAttempts` attempts from createSecret, same tokens,
 *   pausing `baseDelayMs` doubled each time (capped at `maxDelayMs`). Success sets LastRotatedDate.
 *   Beyond labelling the new version AWSPENDING, rotation moves no label itself: after success
 *   AWSPENDING stays where the function left it (the AWS template leaves it on the new AWSCURRENT
 *   version, which does not block the next rotation); after the last failed attempt it stays on the
 *   rotated version, often an empty one, and blocks RotateSecret until something clears or finishes it.
 *   Failed rotations are not reattempted later (the service would, at the next rotation window).
 * - ListSecrets / BatchGetSecretValue with Filters: AND across filters, OR across a filter's values
 *   (1-10), prefix match (`name`, `tag-key`, `tag-value` case-sensitive), `!` negates; `all` breaks its value
 *   into words (at punctuation, case changes, letter/digit changes) and matches, not case-sensitive, any
 *   word that begins a word of the name, description, tag keys or tag values; real NextToken pagination, a page of
 *   `listPageSize` when MaxResults is absent and never more than `maxPageSize`.
 * - BatchGetSecretValue with SecretIdList (1-20): AWSCURRENT of each, an `Errors` entry per id that
 *   fails (unknown secret, no current value).
 * Not emulated: signatures, KMS, SecretBinary beyond storing the base64 text, deletion, replication,
 * tags/policies operations, scheduled rotations, ListSecrets' eventual consistency.
 *
 * ## Emulator-side API
 * ```ts
 * startSecretsManagerEmulator(opts?: SecretsManagerEmulatorOptions): Promise<SecretsManagerEmulator>
 * emulator.endpoint                       // 'http://127.0.0.1:<port>'
 * emulator.createSecret(name, value?, { tags? })  // { arn, name, versionId? }, no HTTP, no faults
 * emulator.putSecretValue(id, value, { versionId?, versionStages?, rotationToken? })  // { versionId, versionStages }
 * emulator.configureRotation(id, lambdaArn, rules?)  // like CDK's RotationSchedule: enables, does not rotate
 * emulator.inspect(id)                    // versions with stages and values, rotation facts (epoch ms)
 * emulator.whenRotationsIdle({ includeAbandoned? })  // background rotations (and timed-out invocations)
 * emulator.whenRequestsIdle()             // HTTP calls still handled (a delayed one whose client left included)
 * emulator.rotationLog                    // finished rotations: outcome, failedStep, error, attempts, steps
 * emulator.requestLog                     // HTTP calls: operation, ids, tokens, status, fault (no values);
 *                                         //   the most recent `requestLogLimit` (trimmed in batches)
 * emulator.activeRotations                // rotations still running
 * emulator.faults.throttleNext(op, n) / serverErrorNext(op, n) / latency(op, ms, n?) /
 *   commitThenDropNext(op, n, 'reset' | 'status500') / chaos(op, rates, seed) / clear()   // op may be '*'
 * emulator.stats.calls[op], stats.faults[kind], stats.faultsByOperation, stats.reset()
 * await emulator.stop()                   // closes connections, ends pauses; rotations end as failed
 * ```
 * Throttling answers `ThrottlingException`/400 (retried by the SDK as throttling, base delay ~1 s);
 * server errors `InternalServiceError`/500 (retried as transient, base delay ~50 ms). Commit-then-drop
 * `reset` destroys the connection after the change (SDK: ECONNRESET, retried); `status500` answers 500
 * after the change. Either way a retried PutSecretValue carries the same token and succeeds idempotently.
 */
import { FaultInjector } from './faults';
import { RotationRunner } from './rotation';
import { type RequestRecord, startHttpServer } from './server';
import { type RotationRules, type SecretSnapshot, SecretStore } from './store';

export type {
  ChaosRates,
  DropMode,
  EmulatorStats,
  FaultControl,
  FaultKind,
  Operation,
  OperationSelector,
} from './faults';
export type {
  RetryPolicy,
  RotationEvent,
  RotationFunction,
  RotationRecord,
  RotationStep,
  StepRecord,
} from './rotation';
export type { RequestRecord } from './server';
export type { RotationRules, SecretSnapshot, VersionSnapshot } from './store';
export { AWSCURRENT, AWSPENDING, AWSPREVIOUS, ROTATION_INCOMPLETE_MESSAGE } from './store';

import type { EmulatorStats, FaultControl } from './faults';
import type { RetryPolicy, RotationFunction, RotationRecord } from './rotation';

export interface SecretsManagerEmulatorOptions {
  /** Epoch ms for CreatedDate, LastChangedDate, LastRotatedDate... @default Date.now */
  readonly clock?: () => number;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly accountId?: string;
  /** The rotation function for a Lambda ARN; undefined makes each invocation fail as "Function not found". */
  readonly rotationFunctions?: (lambdaArn: string) => RotationFunction | undefined;
  /**
   * Lambda timeout of each step invocation, in wall-clock ms. The product's createSecret refuses to start
   * a refresh with less than about 31.5 s left, so a shorter timeout fails every rotation.
   * @default 180_000, the stack's default function timeout (lib/momento-key-rotator.ts)
   */
  readonly invocationTimeoutMs?: number;
  /** Whole-rotation retries after a failed step. @default { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 5_000 } */
  readonly rotationRetry?: Partial<RetryPolicy>;
  /** ListSecrets / ListSecretVersionIds page size when MaxResults is absent. @default 10 */
  readonly listPageSize?: number;
  /** Largest page ever returned, even if MaxResults asks for more. @default 100 */
  readonly maxPageSize?: number;
  /** Deprecated (unlabelled) versions kept. @default { keep: 100, minAgeMs: 86_400_000 } */
  readonly versionRetention?: { readonly keep: number; readonly minAgeMs: number };
  /** Most recent HTTP calls kept in `requestLog`. @default 50_000 */
  readonly requestLogLimit?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 0 (any free port) */
  readonly port?: number;
}

export interface SecretsManagerEmulator {
  readonly endpoint: string;
  readonly region: string;
  readonly accountId: string;
  /** Creates a secret directly (no HTTP, no faults); with a value, its first version is AWSCURRENT. */
  createSecret(
    name: string,
    secretString?: string,
    opts?: { tags?: Readonly<Record<string, string>> },
  ): { arn: string; name: string; versionId?: string };
  /** PutSecretValue directly (no HTTP, no faults), same semantics. */
  putSecretValue(
    secretId: string,
    secretString: string,
    opts?: { versionId?: string; versionStages?: string[]; rotationToken?: string },
  ): { versionId: string; versionStages: string[] };
  /** Sets RotationEnabled and RotationLambdaARN (and rules) without starting a rotation. */
  configureRotation(secretId: string, lambdaArn: string, rules?: RotationRules): void;
  /** A copy of the secret's state, dates in epoch ms; throws for an unknown id. */
  inspect(secretId: string): SecretSnapshot;
  /** Waits for background rotations; `includeAbandoned` also waits for timed-out invocations to settle. */
  whenRotationsIdle(opts?: { includeAbandoned?: boolean }): Promise<void>;
  /**
   * Waits until no HTTP call is being handled: a call delayed by injected latency is processed after the
   * delay even when its client gave up meanwhile, and may change the secret then.
   */
  whenRequestsIdle(): Promise<void>;
  /** Rotations in progress. */
  readonly activeRotations: number;
  readonly rotationLog: readonly RotationRecord[];
  readonly requestLog: readonly RequestRecord[];
  readonly faults: FaultControl;
  readonly stats: EmulatorStats;
  stop(): Promise<void>;
}

export async function startSecretsManagerEmulator(
  opts: SecretsManagerEmulatorOptions = {},
): Promise<SecretsManagerEmulator> {
  const clock = opts.clock ?? Date.now;
  const region = opts.region ?? 'us-east-1';
  const accountId = opts.accountId ?? '123456789012';
  const requestLog: RequestRecord[] = [];
  const faults = new FaultInjector();
  let runner: RotationRunner | undefined;
  const store = new SecretStore({
    region,
    accountId,
    clock,
    listPageSize: opts.listPageSize ?? 10,
    maxPageSize: opts.maxPageSize ?? 100,
    versionRetention: opts.versionRetention ?? { keep: 100, minAgeMs: 86_400_000 },
    onRotationStarted: (job) => runner?.start(job),
  });
  runner = new RotationRunner({
    store,
    clock,
    functions: opts.rotationFunctions ?? (() => undefined),
    invocationTimeoutMs: opts.invocationTimeoutMs ?? 180_000,
    retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 5_000, ...opts.rotationRetry },
  });
  const rotations = runner;
  const {
    server,
    endpoint,
    whenIdle: whenRequestsIdle,
  } = await startHttpServer({
    store,
    faults,
    requestLog,
    requestLogLimit: opts.requestLogLimit ?? 50_000,
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
  });

  return {
    endpoint,
    region,
    accountId,
    createSecret(name, secretString, create = {}) {
      const tags = Object.entries(create.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
      const out = store.createSecret({
        Name: name,
        SecretString: secretString,
        ...(tags.length > 0 ? { Tags: tags } : {}),
      });
      return {
        arn: out.ARN as string,
        name: out.Name as string,
        ...(typeof out.VersionId === 'string' ? { versionId: out.VersionId } : {}),
      };
    },
    putSecretValue(secretId, secretString, put = {}) {
      const out = store.putSecretValue({
        SecretId: secretId,
        SecretString: secretString,
        ClientRequestToken: put.versionId,
        VersionStages: put.versionStages,
        RotationToken: put.rotationToken,
      });
      return { versionId: out.VersionId as string, versionStages: out.VersionStages as string[] };
    },
    configureRotation: (secretId, lambdaArn, rules) => store.configureRotation(secretId, lambdaArn, rules),
    inspect: (secretId) => store.inspect(secretId),
    whenRotationsIdle: (idle = {}) => rotations.whenIdle(idle.includeAbandoned ?? false),
    whenRequestsIdle,
    get activeRotations() {
      return rotations.active;
    },
    rotationLog: rotations.log,
    requestLog,
    faults,
    stats: faults.stats,
    async stop() {
      rotations.stop();
      faults.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await rotations.whenIdle(false);
    },
  };
}
