import {
  Aws,
  CfnOutput,
  type Duration,
  RemovalPolicy,
  SecretValue,
  Stack,
  type StackProps,
} from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { MomentoKeyRotator, type SecretTag } from './momento-key-rotator';

/**
 * The value a secret created by the stack starts with: JSON without a key or a refresh token, which the
 * engine reports as uninitialised until the console JSON is put.
 *
 * Never change it: CloudFormation writes SecretString again whenever it changes in the template, and that
 * would overwrite the live key pair of every deployed secret (and with it the refresh chain).
 */
export const PLACEHOLDER_SECRET_VALUE = JSON.stringify({
  uninitialised: 'Put the JSON downloaded from the Momento console into this secret (see the stack outputs).',
});

/** The file name the put-secret-value command reads: the console's download, renamed. */
export const CONSOLE_JSON_FILE = 'momento_token_info.json';

export interface MomentoTokenRotatorStackProps extends StackProps {
  /**
   * Names of secrets the stack creates, each with a placeholder value and kept when the stack is deleted.
   *
   * @default none; at least one of `secretNames`, `existingSecretArns` and `secretTag` must select a secret
   */
  readonly secretNames?: readonly string[];

  /**
   * Complete ARNs of existing secrets to manage instead of creating them. The stack never changes
   * their value; it only configures their rotation.
   *
   * @default none
   */
  readonly existingSecretArns?: readonly string[];

  /**
   * Also manage every secret of the account and region that carries this tag (see MomentoKeyRotatorProps).
   *
   * @default no tag
   */
  readonly secretTag?: Omit<SecretTag, 'encryptionKey'>;

  /**
   * ARN of the customer managed KMS key that encrypts the existing and the tagged secrets, when they use one.
   *
   * @default those secrets use the AWS managed key `aws/secretsmanager` (no key grant needed)
   */
  readonly existingSecretsKeyArn?: string;

  /**
   * An email address subscribed to the alarm topic. The address must confirm the subscription.
   *
   * @default no subscription
   */
  readonly alarmEmail?: string;

  /**
   * ARN of an existing SNS topic for the alarms, instead of the one the stack creates.
   *
   * @default a new encrypted topic
   */
  readonly alarmTopicArn?: string;

  /**
   * How often the sweep runs.
   *
   * @default Duration.hours(1)
   */
  readonly schedulePeriod?: Duration;

  /**
   * Due rule fraction (see MomentoKeyRotatorProps).
   *
   * @default 0.5
   */
  readonly rotateAtRemainingFraction?: number;
}

/** Everything `cdk deploy` creates: the secrets (or their imports), the rotator, and the operator outputs. */
export class MomentoTokenRotatorStack extends Stack {
  readonly rotator: MomentoKeyRotator;

  constructor(scope: Construct, id: string, props: MomentoTokenRotatorStackProps) {
    super(scope, id, props);

    const created = (props.secretNames ?? []).map((name) => ({
      name,
      secret: new secretsmanager.Secret(this, `Secret-${encodeURIComponent(name)}`, {
        secretName: name,
        description: 'Momento API key pair, kept fresh by the Momento key rotator',
        secretStringValue: SecretValue.unsafePlainText(PLACEHOLDER_SECRET_VALUE),
        // `cdk destroy` must never delete a key: a lost refresh token means starting over in the console.
        removalPolicy: RemovalPolicy.RETAIN,
      }),
    }));

    const existingKey =
      props.existingSecretsKeyArn === undefined
        ? undefined
        : kms.Key.fromKeyArn(this, 'ExistingSecretsKey', props.existingSecretsKeyArn);
    const imported = (props.existingSecretArns ?? []).map((arn) => {
      const secret = secretsmanager.Secret.fromSecretAttributes(this, `Existing-${encodeURIComponent(arn)}`, {
        secretCompleteArn: arn,
        encryptionKey: existingKey,
      });
      return { name: secret.secretName, secret };
    });

    const all = [...created, ...imported];
    if (all.length === 0 && props.secretTag === undefined) {
      throw new Error(
        `${this.node.path}: name at least one secret: secretNames to create them, existingSecretArns to ` +
          'manage existing ones, or secretTag to manage the secrets that carry a tag (received none)',
      );
    }

    const alarmTopic =
      props.alarmTopicArn === undefined
        ? undefined
        : sns.Topic.fromTopicArn(this, 'GivenAlarmTopic', props.alarmTopicArn);
    this.rotator = new MomentoKeyRotator(this, 'Rotator', {
      secrets: all.map((s) => s.secret),
      secretTag:
        props.secretTag === undefined ? undefined : { ...props.secretTag, encryptionKey: existingKey },
      schedulePeriod: props.schedulePeriod,
      rotateAtRemainingFraction: props.rotateAtRemainingFraction,
      alarmTopic,
    });
    if (props.alarmEmail !== undefined) {
      this.rotator.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }

    const functionName = this.rotator.function.functionName;
    // Longer than the function can run: the CLI's default 60 s read timeout would retry a waiting
    // invocation and start a second rotation.
    const readTimeout = this.rotator.timeout.toSeconds() + 30;
    new CfnOutput(this, 'FunctionName', {
      description: 'The rotation function',
      value: functionName,
    });
    new CfnOutput(this, 'FunctionArn', {
      description: 'The rotation function, as secrets are wired to it (RotationLambdaARN)',
      value: this.rotator.function.functionArn,
    });
    new CfnOutput(this, 'DashboardName', {
      description: 'The CloudWatch dashboard: time left per key, rotations, failures, heals, alarms',
      value: this.rotator.dashboard.dashboardName,
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'The topic every alarm notifies; subscribe your on-call here',
      value: this.rotator.alarmTopic.topicArn,
    });
    new CfnOutput(this, 'StatusCommand', {
      description: 'Shows how long each managed key has left',
      value:
        `aws lambda invoke --region ${Aws.REGION} --function-name ${functionName} ` +
        `--cli-binary-format raw-in-base64-out --payload '{"action":"status"}' status.json`,
    });
    // Only for secrets that start as the placeholder: pasted for a secret that already holds a live pair, with a
    // console download from before its last rotation, it would overwrite AWSCURRENT with a spent refresh token.
    created.forEach(({ name }, index) => {
      new CfnOutput(this, `PutSecretValueCommand${index + 1}`, {
        description: `Stores the JSON downloaded from the Momento console in ${name}, which the stack created empty`,
        value:
          `aws secretsmanager put-secret-value --region ${Aws.REGION} --secret-id ${name} ` +
          `--secret-string file://${CONSOLE_JSON_FILE}`,
      });
    });
    all.forEach(({ name }, index) => {
      new CfnOutput(this, `ForceRotateCommand${index + 1}`, {
        description: `Rotates the key in ${name} now and waits for the outcome`,
        value:
          `aws lambda invoke --region ${Aws.REGION} --function-name ${functionName} ` +
          `--cli-binary-format raw-in-base64-out --cli-read-timeout ${readTimeout} ` +
          `--payload '{"action":"rotate","force":true,"secretId":"${name}"}' out.json`,
      });
    });
  }
}
