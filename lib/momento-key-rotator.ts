import { Aws, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  DEPLOYMENT_NAME,
  MAX_DEPLOYMENT_NAME_LENGTH,
  METRICS_NAMESPACE,
  rotatorFunctionName,
} from '../src/deployment-names';
import { FUNCTION_HANDLER, functionCode } from './function-code';
import { createMonitoring, describeDuration as describe, type RotatorAlarms } from './monitoring';

/** The schedule periods the construct accepts: whole minutes, from 5 minutes to one day. */
export const MIN_SCHEDULE_PERIOD = Duration.minutes(5);
export const MAX_SCHEDULE_PERIOD = Duration.days(1);

/**
 * The Secrets Manager actions the engine calls on the managed secrets. BatchGetSecretValue also needs
 * GetSecretValue on each secret it reads.
 */
export const SECRET_ACTIONS: readonly string[] = [
  'secretsmanager:DescribeSecret',
  'secretsmanager:GetSecretValue',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecretVersionStage',
  'secretsmanager:RotateSecret',
  // Healing asks how old an empty AWSPENDING version is before clearing it.
  'secretsmanager:ListSecretVersionIds',
];
/** Actions that IAM only authorises on `*`: the batched read and the paged staging-label listing of a sweep. */
export const WILDCARD_ONLY_SECRET_ACTIONS: readonly string[] = [
  'secretsmanager:BatchGetSecretValue',
  'secretsmanager:ListSecrets',
];
/** Envelope encryption: GenerateDataKey when a version is written, Decrypt when one is read. */
export const SECRET_KEY_ACTIONS: readonly string[] = ['kms:Decrypt', 'kms:GenerateDataKey'];

/** Secrets selected by a tag instead of by name: every secret of the account and region that carries it. */
export interface SecretTag {
  /** The tag key. Not one of AWS's own (`aws:`); no `=`, which separates key and value in the deploy option. */
  readonly key: string;

  /**
   * The tag value a secret must carry.
   *
   * @default any value: a secret is selected when it carries the key
   */
  readonly value?: string;

  /**
   * The customer managed KMS key that encrypts the tagged secrets, when they use one. The function may use it
   * only through Secrets Manager, for secrets of this account and region.
   *
   * @default the tagged secrets use the AWS managed key `aws/secretsmanager` (no key grant needed)
   */
  readonly encryptionKey?: kms.IKey;
}

export interface MomentoKeyRotatorProps {
  /**
   * The secrets this rotator manages by name. Each holds the JSON the Momento console downloads
   * (`apiKey` or `authToken`, `refreshToken`, `validUntil`). A secret encrypted with a customer managed
   * key must carry it as `encryptionKey` (e.g. `Secret.fromSecretAttributes`), so that the function gets
   * the key grants it needs. Each is wired for rotation with the function at deploy time.
   *
   * @default none; at least one of `secrets` and `secretTag` must select a secret
   */
  readonly secrets?: readonly secretsmanager.ISecret[];

  /**
   * Also manage every secret of the account and region that carries this tag, found by each sweep (ListSecrets
   * filters), however many there are. The role's secret actions on them are conditioned on the tag
   * (`secretsmanager:ResourceTag/<key>`). A tagged secret not yet wired for rotation is wired by the first
   * rotation the function starts (RotateSecret with this function, never with a schedule). Whoever may tag a
   * secret with it decides what this function manages: guard the tag key accordingly.
   *
   * @default no tag: only `secrets`
   */
  readonly secretTag?: SecretTag;

  /**
   * The name of this rotator within its account and region: the function is `<deploymentName>-rotator`, the
   * alarms `<deploymentName>-<purpose>`, the dashboard `<deploymentName>`, and every metric carries the dimension
   * `service=<deploymentName>`, so that several rotators never share a heartbeat. A letter, then letters,
   * digits and hyphens; at most 56 characters (Lambda allows 64 in a function name).
   *
   * @default the stack's name
   */
  readonly deploymentName?: string;

  /**
   * How often the scheduled sweep runs. Whole minutes, from 5 minutes to 1 day. The sweep, the due rule's
   * absolute margin, the heartbeat alarm and the expiry alarms are all measured in schedule periods.
   *
   * @default Duration.hours(1)
   */
  readonly schedulePeriod?: Duration;

  /**
   * Due rule: a key is rotated once no more than this fraction of its lifetime remains.
   * Greater than 0 and less than 1.
   *
   * @default 0.5
   */
  readonly rotateAtRemainingFraction?: number;

  /**
   * Due rule: a key is also rotated once it has no more than this long left, whatever its lifetime.
   * Whole seconds, longer than one schedule period.
   *
   * @default two schedule periods, so that one failed sweep still leaves another chance before expiry
   */
  readonly rotateWithin?: Duration;

  /**
   * The topic every alarm notifies (on ALARM and on OK).
   *
   * @default a new topic, encrypted with a new customer managed key that CloudWatch may use, SSL enforced
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * An expiry alarm fires when a sweep finds a managed key with less than this long left. At most
   * `rotateWithin` minus one schedule period: the sweep that finds a key due always sees more than that left
   * (it would have been due one sweep earlier otherwise), so a healthy rotation never fires the alarm, and a
   * key below it is one whose rotation should have finished at least one sweep ago. For long-lived keys the
   * fraction rule rotates far earlier; raise `rotateWithin` with it to be warned earlier.
   *
   * @default `rotateWithin` minus one schedule period (one period with the defaults)
   */
  readonly expiryAlarmThreshold?: Duration;

  /**
   * The uninitialised alarm fires when a managed secret has held no key pair (the placeholder the stack writes, or
   * any value without `apiKey`/`authToken` and `refreshToken`) for this long since that value was stored.
   *
   * @default Duration.days(1)
   */
  readonly uninitialisedAlarmAfter?: Duration;

  /**
   * How long the function's logs are kept.
   *
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * The function's timeout. A manual forced rotation waits for the rotation inside one invocation, and a
   * createSecret step needs room for the refresh call (10 s deadline) and the pending write (20 s kept).
   * From 1 to 15 minutes.
   *
   * @default Duration.minutes(3): about two minutes of waiting for a manual rotation, plus the refresh
   * deadline and the write reserve
   */
  readonly timeout?: Duration;

  /**
   * The function's memory in MiB (CPU scales with it). From 128 to 10240.
   *
   * @default 512: enough CPU for a fast cold start and the TLS/gRPC handshake with Momento; a sweep that
   * finds nothing due costs well under a cent a month
   */
  readonly memorySize?: number;
}

/** A managed secret with the ARN its IAM statements and environment use. */
interface ManagedSecret {
  readonly secret: secretsmanager.ISecret;
  /** The complete ARN, or the partial ARN followed by `-??????` (Secrets Manager's random suffix). */
  readonly policyArn: string;
  /** The ARN the function is told about (complete when known, otherwise partial). */
  readonly id: string;
}

/**
 * A scheduled Lambda function that keeps Momento API keys stored in Secrets Manager fresh, with the
 * least privilege it needs, alarms that say what to do, and a dashboard.
 *
 * Every secret is set up for Lambda rotation with this function but without a Secrets Manager schedule:
 * the EventBridge schedule decides when a key is due, and starts the rotation with RotateSecret.
 */
export class MomentoKeyRotator extends Construct {
  /** The rotation function: scheduled sweeps, manual commands and the Secrets Manager rotation steps. */
  readonly function: lambda.Function;
  /** The function's execution role. */
  readonly role: iam.Role;
  /** The function's log group. */
  readonly logGroup: logs.LogGroup;
  /** The EventBridge rule that runs the sweep. */
  readonly scheduleRule: events.Rule;
  /** Scheduled events EventBridge could not deliver to the function. */
  readonly scheduleDeadLetterQueue: sqs.Queue;
  /** The topic every alarm notifies. */
  readonly alarmTopic: sns.ITopic;
  /** The schedule period, as validated. */
  readonly schedulePeriod: Duration;
  /** The function's timeout, as validated: the longest a manual rotation waits. */
  readonly timeout: Duration;
  /** The name the function, alarms, dashboard and metrics derive from. */
  readonly deploymentName: string;
  /** The function's alarms, by purpose. */
  readonly alarms: RotatorAlarms;
  /** Time left per key, rotations, failures and heals, with every alarm's state. */
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MomentoKeyRotatorProps) {
    super(scope, id);

    const settings = validate(this, props);
    this.schedulePeriod = settings.schedulePeriod;
    this.timeout = settings.timeout;
    this.deploymentName = settings.deploymentName;
    const stack = Stack.of(this);
    const managed = (props.secrets ?? []).map(toManagedSecret);
    const functionName = rotatorFunctionName(settings.deploymentName);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', { retention: settings.logRetention });

    // An explicit role with no managed policy: the log permissions are scoped to this one log group.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Rotates the Momento API keys in the managed secrets',
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    if (managed.length > 0) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'RotateManagedSecrets',
          actions: [...SECRET_ACTIONS],
          resources: managed.map((m) => m.policyArn),
        }),
      );
    }
    if (props.secretTag !== undefined) this.grantTaggedSecrets(props.secretTag);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SweepManagedSecrets',
        actions: [...WILDCARD_ONLY_SECRET_ACTIONS],
        resources: ['*'],
      }),
    );
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'BatchGetSecretValue and ListSecrets take no resource ARN (IAM authorises them on * only); ' +
        'BatchGetSecretValue still needs GetSecretValue on each secret, which is scoped to the managed secrets.',
    });
    managed.forEach((m, index) => {
      const key = m.secret.encryptionKey;
      if (key === undefined) return;
      const exactArn = m.secret.secretFullArn !== undefined;
      const viaSecretsManager = { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` };
      const forThisSecret = { 'kms:EncryptionContext:SecretARN': m.policyArn };
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: `UseKeyOfManagedSecret${index}`,
          actions: [...SECRET_KEY_ACTIONS],
          resources: [key.keyArn],
          conditions: exactArn
            ? { StringEquals: { ...viaSecretsManager, ...forThisSecret } }
            : { StringEquals: viaSecretsManager, StringLike: forThisSecret },
        }),
      );
    });
    const environment: Record<string, string> = {
      ...(managed.length > 0 ? { ROTATOR_SECRET_IDS: managed.map((m) => m.id).join(',') } : {}),
      ...(props.secretTag === undefined ? {} : { ROTATOR_SECRET_TAG: tagOption(props.secretTag) }),
      ROTATE_AT_REMAINING_FRACTION: String(settings.rotateAtRemainingFraction),
      ROTATE_WITHIN_SECONDS: String(settings.rotateWithin.toSeconds()),
      POWERTOOLS_SERVICE_NAME: settings.deploymentName,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      // No NODE_OPTIONS=--enable-source-maps: with it Node reads the source maps at every cold start, not only
      // when it prints an error (+18-24 % CPU, +10 MB; docs/BENCH.md). The maps ship beside the code: set the
      // flag on the function to get mapped stack traces while debugging.
    };
    const bytes = environmentBytesAtLeast(environment, managed, stack);
    if (bytes > LAMBDA_ENVIRONMENT_LIMIT) {
      throw new Error(
        `${this.node.path}: secrets: ${managed.length} secrets make the function's environment at least ${bytes} ` +
          `bytes, over Lambda's limit of ${LAMBDA_ENVIRONMENT_LIMIT} for all its variables; select them by tag ` +
          '(secretTag), which has no such limit, or split them across several rotators',
      );
    }
    // Prebuilt by scripts/build.ts (ESM, code splitting): NodejsFunction bundles a single file, which makes
    // every cold start parse the Momento SDK that most invocations never call.
    this.function = new lambda.Function(this, 'Function', {
      functionName,
      code: functionCode(),
      handler: FUNCTION_HANDLER,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      description: 'Rotates Momento API keys stored in Secrets Manager before they expire',
      role: this.role,
      logGroup: this.logGroup,
      timeout: settings.timeout,
      memorySize: settings.memorySize,
      environment,
    });
    // Scheduled events are the only asynchronous invocations. A failed sweep is not retried at once: the
    // next sweep is the retry, Secrets Manager retries the rotation steps itself, and Errors alarms.
    this.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: settings.queuedEventMaxAge });

    // RotateSecret (called by the function for scheduled and manual rotations) requires the caller to be
    // allowed to invoke the rotation function. A policy of its own, not the role's default policy, which
    // the function depends on: that would be a circular dependency.
    const selfInvoke = new iam.Policy(this, 'InvokeSelfPolicy', {
      statements: [
        new iam.PolicyStatement({
          sid: 'StartRotationWithThisFunction',
          actions: ['lambda:InvokeFunction'],
          resources: [this.function.functionArn],
        }),
      ],
    });
    this.role.attachInlinePolicy(selfInvoke);

    // Secrets Manager invokes the function for the rotation steps; only on behalf of this account.
    const secretsManagerInvokeId = 'SecretsManagerInvoke';
    this.function.addPermission(secretsManagerInvokeId, {
      principal: new iam.ServicePrincipal('secretsmanager.amazonaws.com'),
      action: 'lambda:InvokeFunction',
      sourceAccount: stack.account,
    });
    const secretsManagerInvoke = this.function.permissionsNode.findChild(secretsManagerInvokeId);

    // Handing addRotationSchedule a reference instead of the function itself keeps aws-cdk-lib from adding
    // its generic grants (GetRandomPassword on *, kms:Encrypt/ReEncrypt*) and a permission without
    // SourceAccount; the exact ones are above.
    const rotationTarget = lambda.Function.fromFunctionAttributes(this, 'RotationTarget', {
      functionArn: this.function.functionArn,
      sameEnvironment: true,
    });
    for (const m of managed) {
      const schedule = m.secret.addRotationSchedule('MomentoKeyRotation', {
        rotationLambda: rotationTarget,
        // No Secrets Manager schedule: the EventBridge sweep decides when a key is due.
        automaticallyAfter: Duration.days(0),
        // The default would rotate at deploy time, spending a refresh token on a placeholder value.
        rotateImmediatelyOnUpdate: false,
      });
      // Configuring rotation runs the function's testSecret step: its permissions must be in place first.
      schedule.node.addDependency(secretsManagerInvoke, this.role, selfInvoke);
      Validations.of(m.secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Rotation is configured (this Lambda function) without a fixed Secrets Manager interval on purpose: ' +
          `a sweep every ${describe(settings.schedulePeriod)} rotates each key when its own expiry makes it due, ` +
          'which a fixed interval cannot follow.',
      });
    }

    this.scheduleDeadLetterQueue = new sqs.Queue(this, 'ScheduleDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.scheduleDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue of the EventBridge schedule target; its messages are ' +
        'read by a person after the dead-letter alarm fires, not by a consumer that could fail.',
    });

    this.scheduleRule = new events.Rule(this, 'Schedule', {
      description: 'Runs the Momento key rotation sweep',
      schedule: events.Schedule.rate(settings.schedulePeriod),
      targets: [
        new targets.LambdaFunction(this.function, {
          // An event older than one period is superseded by the next sweep; within it, EventBridge backs
          // off between attempts. What still fails lands in the queue, and its alarm tells a person.
          maxEventAge: settings.eventMaxAge,
          retryAttempts: 10,
          deadLetterQueue: this.scheduleDeadLetterQueue,
        }),
      ],
    });

    this.alarmTopic = props.alarmTopic ?? this.createAlarmTopic();
    const monitoring = createMonitoring(this, {
      deploymentName: settings.deploymentName,
      function: this.function,
      logGroup: this.logGroup,
      scheduleDeadLetterQueue: this.scheduleDeadLetterQueue,
      alarmTopic: this.alarmTopic,
      schedulePeriod: settings.schedulePeriod,
      expiryAlarmThreshold: settings.expiryAlarmThreshold,
      uninitialisedAlarmAfter: settings.uninitialisedAlarmAfter,
    });
    this.alarms = monitoring.alarms;
    this.dashboard = monitoring.dashboard;
  }

  /**
   * The secret actions on every secret of this account and region that carries the tag, and nothing without it:
   * the function finds these secrets at run time, so no ARN can name them here.
   */
  private grantTaggedSecrets(tag: SecretTag): void {
    const condition = `secretsmanager:ResourceTag/${tag.key}`;
    // Pseudo parameters even when the stack's environment is known: the acknowledgement below names the resource
    // as cdk-nag prints it.
    const anySecretHere = `arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:*`;
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RotateTaggedSecrets',
        actions: [...SECRET_ACTIONS],
        resources: [anySecretHere],
        conditions:
          tag.value === undefined
            ? { Null: { [condition]: 'false' } }
            : { StringEquals: { [condition]: tag.value } },
      }),
    );
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:*]',
      reason:
        'Tag-selected secrets are found at run time, so no ARN can name them: the secret actions are granted on ' +
        `the secrets of this account and region only, and only on those that carry the tag ${tag.key} ` +
        '(condition secretsmanager:ResourceTag), which is what selects them.',
    });
    const key = tag.encryptionKey;
    if (key !== undefined) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'UseKeyOfTaggedSecrets',
          actions: [...SECRET_KEY_ACTIONS],
          resources: [key.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` },
            StringLike: { 'kms:EncryptionContext:SecretARN': anySecretHere },
          },
        }),
      );
    }
  }

  private createAlarmTopic(): sns.Topic {
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the Momento key rotator alarm topic',
      enableKeyRotation: true,
      // Holds no data at rest: SNS messages are transient.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // CloudWatch alarms of this account and region, and nothing else acting through CloudWatch (confused deputy).
    const { account, region, partition } = Stack.of(this);
    const fromOwnAlarms = {
      StringEquals: { 'aws:SourceAccount': account },
      ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${account}:alarm:*` },
    };
    // CloudWatch publishes alarm notifications to the encrypted topic; the AWS managed SNS key refuses it.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchPublishesAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: fromOwnAlarms,
      }),
    );
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Momento key rotator alarms',
      masterKey: key,
      enforceSSL: true,
    });
    // enforceSSL gives the topic an access policy of its own, which replaces the default one that let the
    // account's alarms publish: without this statement no alarm would ever reach the topic.
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: fromOwnAlarms,
      }),
    );
    return topic;
  }
}

interface Settings {
  readonly deploymentName: string;
  readonly schedulePeriod: Duration;
  readonly eventMaxAge: Duration;
  readonly queuedEventMaxAge: Duration;
  readonly rotateAtRemainingFraction: number;
  readonly rotateWithin: Duration;
  readonly expiryAlarmThreshold: Duration;
  readonly uninitialisedAlarmAfter: Duration;
  readonly logRetention: logs.RetentionDays;
  readonly timeout: Duration;
  readonly memorySize: number;
}

function validate(scope: Construct, props: MomentoKeyRotatorProps): Settings {
  const fail = (message: string): never => {
    throw new Error(`${scope.node.path}: ${message}`);
  };
  const seconds = (duration: Duration) => duration.toSeconds({ integral: false });
  const concrete = (name: string, duration: Duration | undefined): void => {
    if (duration !== undefined && Token.isUnresolved(seconds(duration))) {
      fail(`${name} must be a concrete duration, not a token`);
    }
  };

  const secrets = props.secrets ?? [];
  if (secrets.length === 0 && props.secretTag === undefined) {
    fail('secrets or secretTag must select at least one secret (received neither)');
  }
  // Two imports of one ARN are one secret too: compare what CloudFormation will see.
  const stack = Stack.of(scope);
  const arns = secrets.map((s) => JSON.stringify(stack.resolve(s.secretArn)));
  const repeated = secrets.find((_, index) => arns.indexOf(arns[index] as string) !== index);
  if (repeated !== undefined) {
    const shown = Token.isUnresolved(repeated.secretArn) ? repeated.node.path : repeated.secretArn;
    fail(`secrets lists the same secret twice (received ${shown} twice)`);
  }

  if (props.secretTag !== undefined) validateTag(props.secretTag, fail);
  const deploymentName = validateDeploymentName(scope, props.deploymentName ?? stack.stackName, fail);

  concrete('schedulePeriod', props.schedulePeriod);
  const schedulePeriod = props.schedulePeriod ?? Duration.hours(1);
  const periodSeconds = seconds(schedulePeriod);
  if (
    periodSeconds % 60 !== 0 ||
    periodSeconds < MIN_SCHEDULE_PERIOD.toSeconds() ||
    periodSeconds > MAX_SCHEDULE_PERIOD.toSeconds()
  ) {
    fail(
      `schedulePeriod must be a whole number of minutes from ${MIN_SCHEDULE_PERIOD.toMinutes()} to ` +
        `${MAX_SCHEDULE_PERIOD.toMinutes()} (received ${schedulePeriod.toHumanString()})`,
    );
  }

  const fraction = props.rotateAtRemainingFraction ?? 0.5;
  if (!Number.isFinite(fraction) || fraction <= 0 || fraction >= 1) {
    fail(`rotateAtRemainingFraction must be greater than 0 and less than 1 (received ${fraction})`);
  }

  concrete('rotateWithin', props.rotateWithin);
  const rotateWithin = props.rotateWithin ?? Duration.seconds(periodSeconds * 2);
  if (!Number.isInteger(seconds(rotateWithin)) || seconds(rotateWithin) <= periodSeconds) {
    fail(
      `rotateWithin must be a whole number of seconds longer than one schedule period (${schedulePeriod.toHumanString()}), ` +
        `so that a sweep finds every key due before it expires (received ${rotateWithin.toHumanString()})`,
    );
  }

  concrete('expiryAlarmThreshold', props.expiryAlarmThreshold);
  const alarmCeiling = seconds(rotateWithin) - periodSeconds;
  const expiryAlarmThreshold = props.expiryAlarmThreshold ?? Duration.seconds(alarmCeiling);
  if (seconds(expiryAlarmThreshold) <= 0 || seconds(expiryAlarmThreshold) > alarmCeiling) {
    fail(
      `expiryAlarmThreshold must be longer than 0 and at most rotateWithin minus one schedule period ` +
        `(${Duration.seconds(alarmCeiling).toHumanString()}): a sweep that finds a key due may see that little ` +
        `left, and the alarm would fire on healthy rotations (received ${expiryAlarmThreshold.toHumanString()})`,
    );
  }

  concrete('uninitialisedAlarmAfter', props.uninitialisedAlarmAfter);
  const uninitialisedAlarmAfter = props.uninitialisedAlarmAfter ?? Duration.days(1);
  if (!Number.isInteger(seconds(uninitialisedAlarmAfter)) || seconds(uninitialisedAlarmAfter) <= 0) {
    fail(
      `uninitialisedAlarmAfter must be a whole number of seconds longer than 0 (received ${uninitialisedAlarmAfter.toHumanString()})`,
    );
  }

  concrete('timeout', props.timeout);
  const timeout = props.timeout ?? Duration.minutes(3);
  if (seconds(timeout) < 60 || seconds(timeout) > 900) {
    fail(`timeout must be from 1 to 15 minutes (received ${timeout.toHumanString()})`);
  }

  const memorySize = props.memorySize ?? 512;
  if (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10_240) {
    fail(`memorySize must be a whole number of MiB from 128 to 10240 (received ${memorySize})`);
  }

  return {
    deploymentName,
    schedulePeriod,
    // One period, within what each service takes: EventBridge 60 s to 24 h, Lambda's event queue 60 s to 6 h.
    eventMaxAge: Duration.seconds(Math.min(periodSeconds, 86_400)),
    queuedEventMaxAge: Duration.seconds(Math.min(periodSeconds, 21_600)),
    rotateAtRemainingFraction: fraction,
    rotateWithin,
    expiryAlarmThreshold,
    uninitialisedAlarmAfter,
    logRetention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    timeout,
    memorySize,
  };
}

/** Tag keys and values as Secrets Manager and the deploy option accept them; `aws:` keys are AWS's own. */
const TAG_KEY = /^[\p{L}\p{N} _.:/+@-]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{N} _.:/=+@-]{1,256}$/u;

function validateTag(tag: SecretTag, fail: (message: string) => never): void {
  if (!TAG_KEY.test(tag.key) || tag.key.toLowerCase().startsWith('aws:') || tag.key.trim() !== tag.key) {
    fail(
      'secretTag.key must be 1 to 128 letters, digits, spaces and _.:/+@-, not starting with aws: and without ' +
        `leading or trailing spaces (received ${JSON.stringify(tag.key)})`,
    );
  }
  if (tag.value !== undefined && (!TAG_VALUE.test(tag.value) || tag.value.trim() !== tag.value)) {
    fail(
      'secretTag.value must be 1 to 256 letters, digits, spaces and _.:/=+@-, without leading or trailing spaces ' +
        `(received ${JSON.stringify(tag.value)})`,
    );
  }
}

/** The tag as the function reads it from ROTATOR_SECRET_TAG: `key` or `key=value`. */
function tagOption(tag: SecretTag): string {
  return tag.value === undefined ? tag.key : `${tag.key}=${tag.value}`;
}

function validateDeploymentName(scope: Construct, name: string, fail: (message: string) => never): string {
  if (Token.isUnresolved(name)) fail('deploymentName must be a concrete string, not a token');
  if (!DEPLOYMENT_NAME.test(name)) {
    fail(
      `deploymentName must be a letter, then letters, digits and hyphens, at most ${MAX_DEPLOYMENT_NAME_LENGTH} ` +
        `characters, so that the function name ${rotatorFunctionName('<deploymentName>')} fits Lambda's 64 ` +
        `(received ${JSON.stringify(name)}${name.length > MAX_DEPLOYMENT_NAME_LENGTH ? `, ${name.length} characters` : ''}); ` +
        'the default is the stack name',
    );
  }
  const sibling = Stack.of(scope)
    .node.findAll()
    .find((c) => c !== scope && c instanceof MomentoKeyRotator && c.deploymentName === name);
  if (sibling !== undefined) {
    fail(
      `deploymentName ${JSON.stringify(name)} is already used by ${sibling.node.path}: give each rotator in a stack a ` +
        'deploymentName of its own',
    );
  }
  return name;
}

function toManagedSecret(secret: secretsmanager.ISecret): ManagedSecret {
  return {
    secret,
    policyArn: secret.secretFullArn ?? `${secret.secretArn}-??????`,
    id: secret.secretFullArn ?? secret.secretArn,
  };
}

/** Lambda refuses a function whose environment variables (names and values) exceed 4 KB in all. */
const LAMBDA_ENVIRONMENT_LIMIT = 4096;

/**
 * A lower bound of the environment's size once deployed. An ARN only CloudFormation knows counts its fixed
 * parts (`arn:aws:secretsmanager:<region>:<account>:secret:`), the name when the construct can see it, and the
 * six-character suffix; so the synth fails only where the deployment certainly would.
 */
function environmentBytesAtLeast(
  environment: Record<string, string>,
  managed: readonly ManagedSecret[],
  stack: Stack,
): number {
  const known = (value: string, fallback: number) => (Token.isUnresolved(value) ? fallback : value.length);
  const arnFixedParts =
    'arn:aws:secretsmanager:'.length +
    known(stack.region, 'us-east-1'.length) +
    ':'.length +
    12 +
    ':secret:'.length +
    '-AbCdEf'.length;
  const ids = managed.reduce((sum, m) => {
    if (!Token.isUnresolved(m.id)) return sum + m.id.length;
    const child = m.secret.node.defaultChild;
    const name =
      child instanceof secretsmanager.CfnSecret && typeof child.name === 'string' ? child.name : '';
    return sum + arnFixedParts + known(name, 1);
  }, managed.length - 1);
  return Object.entries(environment).reduce(
    (sum, [key, value]) => sum + key.length + (key === 'ROTATOR_SECRET_IDS' ? ids : known(value, 0)),
    0,
  );
}
