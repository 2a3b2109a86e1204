import * as path from 'node:path';
import { Duration, Names, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Powertools service name: the `service` dimension of every metric the function emits. */
export const SERVICE_NAME = 'momento-token-rotator';
/** CloudWatch namespace of the function's EMF metrics. */
export const METRICS_NAMESPACE = 'MomentoTokenRotator';

/** The schedule periods the construct accepts: whole minutes, from 5 minutes to one day. */
export const MIN_SCHEDULE_PERIOD = Duration.minutes(5);
export const MAX_SCHEDULE_PERIOD = Duration.days(1);

const REPO_ROOT = path.join(import.meta.dirname, '..');

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

export interface MomentoKeyRotatorProps {
  /**
   * The secrets this rotator manages. Each holds the JSON the Momento console downloads
   * (`apiKey` or `authToken`, `refreshToken`, `validUntil`). A secret encrypted with a customer managed
   * key must carry it as `encryptionKey` (e.g. `Secret.fromSecretAttributes`), so that the function gets
   * the key grants it needs.
   */
  readonly secrets: readonly secretsmanager.ISecret[];

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
 * least privilege it needs, and alarms that say what to do.
 *
 * Every secret is set up for Lambda rotation with this function but without a Secrets Manager schedule:
 * the EventBridge schedule decides when a key is due, and starts the rotation with RotateSecret.
 */
export class MomentoKeyRotator extends Construct {
  /** The rotation function: scheduled sweeps, manual commands and the Secrets Manager rotation steps. */
  readonly function: nodejs.NodejsFunction;
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
  /** The function's alarms, by purpose. */
  readonly alarms: {
    readonly errors: cloudwatch.Alarm;
    readonly deadLetterQueue: cloudwatch.Alarm;
    readonly heartbeat: cloudwatch.Alarm;
    readonly chainAtRisk: cloudwatch.Alarm;
    /** One per managed secret, in the order of `props.secrets`. */
    readonly expiry: readonly cloudwatch.Alarm[];
  };

  constructor(scope: Construct, id: string, props: MomentoKeyRotatorProps) {
    super(scope, id);

    const settings = validate(this, props);
    this.schedulePeriod = settings.schedulePeriod;
    this.timeout = settings.timeout;
    const stack = Stack.of(this);
    const managed = props.secrets.map(toManagedSecret);

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
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RotateManagedSecrets',
        actions: [...SECRET_ACTIONS],
        resources: managed.map((m) => m.policyArn),
      }),
    );
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
    const environment = {
      ROTATOR_SECRET_IDS: managed.map((m) => m.id).join(','),
      ROTATE_AT_REMAINING_FRACTION: String(settings.rotateAtRemainingFraction),
      ROTATE_WITHIN_SECONDS: String(settings.rotateWithin.toSeconds()),
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      NODE_OPTIONS: '--enable-source-maps',
    };
    const bytes = environmentBytesAtLeast(environment, managed, stack);
    if (bytes > LAMBDA_ENVIRONMENT_LIMIT) {
      throw new Error(
        `${this.node.path}: secrets: ${managed.length} secrets make the function's environment at least ${bytes} ` +
          `bytes, over Lambda's limit of ${LAMBDA_ENVIRONMENT_LIMIT} for all its variables; split the secrets ` +
          'across several rotators (one stack or construct per group)',
      );
    }
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: path.join(REPO_ROOT, 'src', 'handler.ts'),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      description: 'Rotates Momento API keys stored in Secrets Manager before they expire',
      role: this.role,
      logGroup: this.logGroup,
      timeout: settings.timeout,
      memorySize: settings.memorySize,
      environment,
      bundling: {
        forceDockerBundling: false,
        format: nodejs.OutputFormat.CJS,
        minify: true,
        keepNames: true,
        sourceMap: true,
        sourcesContent: false,
        // The AWS SDK ships inside the bundle: the version the tests ran is the version that rotates keys,
        // not whatever the runtime carries that month.
        bundleAwsSDK: true,
      },
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
    this.alarms = this.createAlarms(managed, settings);
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

  private createAlarms(managed: readonly ManagedSecret[], settings: Settings): MomentoKeyRotator['alarms'] {
    const period = settings.schedulePeriod;
    const periodText = describe(period);
    const logGroupName = this.logGroup.logGroupName;
    const fiveMinutes = Duration.minutes(5);
    const count = (metricName: string, alarmPeriod: Duration) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: SERVICE_NAME },
        statistic: cloudwatch.Stats.SUM,
        period: alarmPeriod,
      });
    const notify = (alarm: cloudwatch.Alarm) => {
      alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.alarmTopic));
      alarm.addOkAction(new cloudwatchActions.SnsAction(this.alarmTopic));
      return alarm;
    };

    const errors = notify(
      new cloudwatch.Alarm(this, 'ErrorsAlarm', {
        metric: this.function.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription:
          `The Momento key rotator failed. Read the ERROR lines in log group ${logGroupName}: each names the secret, ` +
          'the step and the error. Fix the cause (permissions, Momento unreachable, a malformed secret JSON); ' +
          'Secrets Manager retries a failed rotation and the next sweep finishes or clears a stuck one.',
      }),
    );

    const deadLetterQueue = notify(
      new cloudwatch.Alarm(this, 'ScheduleDeadLetterAlarm', {
        metric: this.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: fiveMinutes,
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription:
          'EventBridge could not deliver a scheduled sweep to the Momento key rotator (function throttled, ' +
          `deleted or not allowed). Read the error attributes of the messages in queue ` +
          `${this.scheduleDeadLetterQueue.queueName}, fix the cause, then purge the queue. ` +
          'A missed sweep is made up by the next one.',
      }),
    );

    const heartbeat = notify(
      new cloudwatch.Alarm(this, 'HeartbeatAlarm', {
        metric: count('SweepCompleted', period),
        threshold: 1,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        // No data is the failure this alarm exists for.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        alarmDescription:
          `No Momento key rotation sweep completed for two schedule periods (${periodText} each): keys are ` +
          'not being checked. Check that the schedule rule is enabled, then the Errors alarm and the ' +
          `function's latest logs in ${logGroupName} (bad configuration fails at start, naming the variable).`,
      }),
    );

    const chainAtRisk = notify(
      new cloudwatch.Alarm(this, 'ChainAtRiskAlarm', {
        metric: count('ChainAtRisk', fiveMinutes),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription:
          'A Momento refresh chain is at risk: a refresh outcome is unknown, the refresh token was refused, ' +
          `or a new pair could not be stored. Read the ChainAtRisk line in log group ${logGroupName} for the secret. ` +
          'Force a rotation (aws lambda invoke, see the stack outputs); if the refresh token is refused, ' +
          'create a new key in the Momento console and put its JSON before the current key expires.',
      }),
    );

    const expiry = managed.map(({ secret }) =>
      notify(
        new cloudwatch.Alarm(this, `ExpiryAlarm${Names.uniqueId(secret)}`, {
          metric: new cloudwatch.Metric({
            namespace: METRICS_NAMESPACE,
            metricName: 'SecondsUntilExpiry',
            dimensionsMap: { service: SERVICE_NAME, SecretName: secret.secretName },
            statistic: cloudwatch.Stats.MINIMUM,
            period,
          }),
          threshold: settings.expiryAlarmThreshold.toSeconds(),
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          // A never-expiring or uninitialised key reports nothing; a silent function is the heartbeat's job.
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          alarmDescription:
            `The Momento key in secret ${secret.secretName} expires in less than ` +
            `${describe(settings.expiryAlarmThreshold)}: a sweep found it due at least one schedule period ago and ` +
            'no rotation has finished since. Read the Errors and ' +
            `ChainAtRisk alarms and log group ${logGroupName}, fix the cause, then force a rotation (aws lambda ` +
            'invoke, see the stack outputs). If the key has expired or its refresh token is spent, create a ' +
            'new key in the Momento console and put its JSON with aws secretsmanager put-secret-value.',
        }),
      ),
    );

    return { errors, deadLetterQueue, heartbeat, chainAtRisk, expiry };
  }
}

interface Settings {
  readonly schedulePeriod: Duration;
  readonly eventMaxAge: Duration;
  readonly queuedEventMaxAge: Duration;
  readonly rotateAtRemainingFraction: number;
  readonly rotateWithin: Duration;
  readonly expiryAlarmThreshold: Duration;
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

  if (props.secrets.length === 0) fail('secrets must name at least one secret (received none)');
  // Two imports of one ARN are one secret too: compare what CloudFormation will see.
  const stack = Stack.of(scope);
  const arns = props.secrets.map((s) => JSON.stringify(stack.resolve(s.secretArn)));
  const repeated = props.secrets.find((_, index) => arns.indexOf(arns[index] as string) !== index);
  if (repeated !== undefined) {
    const shown = Token.isUnresolved(repeated.secretArn) ? repeated.node.path : repeated.secretArn;
    fail(`secrets lists the same secret twice (received ${shown} twice)`);
  }

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
    schedulePeriod,
    // One period, within what each service takes: EventBridge 60 s to 24 h, Lambda's event queue 60 s to 6 h.
    eventMaxAge: Duration.seconds(Math.min(periodSeconds, 86_400)),
    queuedEventMaxAge: Duration.seconds(Math.min(periodSeconds, 21_600)),
    rotateAtRemainingFraction: fraction,
    rotateWithin,
    expiryAlarmThreshold,
    logRetention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    timeout,
    memorySize,
  };
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

/** "1 hour", "90 minutes": the unit a person reads in an alarm description. */
function describe(duration: Duration): string {
  const seconds = duration.toSeconds();
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}`;
  if (seconds % 60 === 0) return `${seconds / 60} minute${seconds === 60 ? '' : 's'}`;
  return `${seconds} seconds`;
}
