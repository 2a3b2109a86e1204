import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../src/deployment-names';
import type { CountMetric } from '../src/rotation/ports';

/**
 * The metrics the function emits that the alarms and the dashboard read: the engine's own names, so that a metric
 * renamed there cannot leave an alarm here watching nothing.
 */
type EngineMetric = CountMetric | 'SecondsUntilExpiry' | 'SecondsUninitialised';

/** The rotator's alarms, by purpose. Each description is its runbook line. */
export interface RotatorAlarms {
  readonly errors: cloudwatch.Alarm;
  readonly deadLetterQueue: cloudwatch.Alarm;
  readonly heartbeat: cloudwatch.Alarm;
  readonly chainAtRisk: cloudwatch.Alarm;
  /** The lowest time left of any managed key, across the deployment. */
  readonly expiry: cloudwatch.Alarm;
  /** A secret still without a key pair after the grace period. */
  readonly uninitialised: cloudwatch.Alarm;
  /** A secret whose value cannot be read, or read but not used (malformed). */
  readonly unreadable: cloudwatch.Alarm;
  /** A managed secret that Secrets Manager still rotates on a schedule of its own. */
  readonly leftoverSchedule: cloudwatch.Alarm;
  /** A Momento v2 key (never refreshed) is due: a person must renew it, days before the expiry alarm would. */
  readonly manualRenewal: cloudwatch.Alarm;
}

export interface MonitoringProps {
  /** Deployment name: the `service` dimension of every metric, and the prefix of every alarm name. */
  readonly deploymentName: string;
  readonly function: lambda.IFunction;
  readonly logGroup: logs.ILogGroup;
  readonly scheduleDeadLetterQueue: sqs.IQueue;
  readonly alarmTopic: sns.ITopic;
  readonly schedulePeriod: Duration;
  readonly expiryAlarmThreshold: Duration;
  readonly uninitialisedAlarmAfter: Duration;
}

/**
 * The alarms and the dashboard of one rotator.
 *
 * Alarms on what the function reports are evaluated over two schedule periods and fire on one breaching period
 * of the two. A sweep runs once a period but not at the same second each time, so now and then one period holds
 * no sweep and the next holds two: with one period evaluated, a fault that persists would go to OK in that
 * empty period and back to ALARM in the next. With two, it stays in ALARM while every sweep still sees it, and
 * the alarm clears two quiet periods after the cause is gone. Missing data is not breaching: no event, no fault
 * (the heartbeat alarm is the one that treats silence as the failure).
 */
export function createMonitoring(
  scope: Construct,
  props: MonitoringProps,
): { alarms: RotatorAlarms; dashboard: cloudwatch.Dashboard } {
  const { deploymentName: name, schedulePeriod: period } = props;
  const periodText = describeDuration(period);
  const logGroupName = props.logGroup.logGroupName;
  const metric = (metricName: EngineMetric, statistic: string, dimensions: Record<string, string> = {}) =>
    new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: name, ...dimensions },
      statistic,
      period,
    });
  const count = (metricName: EngineMetric) => metric(metricName, cloudwatch.Stats.SUM);
  const alarm = (
    id: string,
    purpose: string,
    options: Omit<cloudwatch.AlarmProps, 'alarmName' | 'evaluationPeriods'> & { evaluationPeriods?: number },
  ) => {
    const created = new cloudwatch.Alarm(scope, id, {
      alarmName: `${name}-${purpose}`,
      evaluationPeriods: 2,
      datapointsToAlarm: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...options,
    });
    created.addAlarmAction(new cloudwatchActions.SnsAction(props.alarmTopic));
    created.addOkAction(new cloudwatchActions.SnsAction(props.alarmTopic));
    return created;
  };
  const atLeastOne = {
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  };

  const errors = alarm('ErrorsAlarm', 'errors', {
    metric: props.function.metricErrors({ period, statistic: cloudwatch.Stats.SUM }),
    ...atLeastOne,
    alarmDescription:
      `The Momento key rotator ${name} failed. Read the ERROR lines in log group ${logGroupName}: each names the ` +
      'secret, the step and the error. Fix the cause (permissions, Momento unreachable, a malformed secret JSON); ' +
      'Secrets Manager retries a failed rotation and the next sweep finishes or clears a stuck one. The alarm ' +
      'clears after two schedule periods without a failure.',
  });

  const deadLetterQueue = alarm('ScheduleDeadLetterAlarm', 'schedule-dead-letters', {
    // A message stays until someone purges the queue, so five minutes tell as much as a whole period.
    metric: props.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(5),
      statistic: cloudwatch.Stats.MAXIMUM,
    }),
    evaluationPeriods: 1,
    ...atLeastOne,
    alarmDescription:
      `EventBridge could not deliver a scheduled sweep to the Momento key rotator ${name} (function throttled, ` +
      'deleted or not allowed). Read the error attributes of the messages in queue ' +
      `${props.scheduleDeadLetterQueue.queueName}, fix the cause, then purge the queue. A missed sweep is made up ` +
      'by the next one.',
  });

  const heartbeat = alarm('HeartbeatAlarm', 'heartbeat', {
    metric: count('SweepCompleted'),
    datapointsToAlarm: 2,
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    // No data is the failure this alarm exists for.
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    alarmDescription:
      `No sweep of the Momento key rotator ${name} completed for two schedule periods (${periodText} each): keys ` +
      'are not being checked. Check that the schedule rule is enabled, then the errors alarm and the ' +
      `function's latest logs in ${logGroupName} (bad configuration fails at start, naming the variable).`,
  });

  const chainAtRisk = alarm('ChainAtRiskAlarm', 'chain-at-risk', {
    metric: count('ChainAtRisk'),
    ...atLeastOne,
    alarmDescription:
      'A Momento refresh chain is at risk: a refresh outcome is unknown, the refresh token was refused, or a new ' +
      `pair could not be stored. Read the ChainAtRisk line in log group ${logGroupName} for the secret. Force a ` +
      'rotation (aws lambda invoke, see the stack outputs); if the refresh token is refused, create a new key in ' +
      'the Momento console and put its JSON before the current key expires.',
  });

  const expiry = alarm('ExpiryAlarm', 'expiry', {
    // Every report of every secret also lands in the deployment-wide series: one alarm watches them all.
    metric: metric('SecondsUntilExpiry', cloudwatch.Stats.MINIMUM),
    threshold: props.expiryAlarmThreshold.toSeconds(),
    comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    alarmDescription:
      `A Momento key managed by ${name} expires in less than ${describeDuration(props.expiryAlarmThreshold)}: a ` +
      'sweep found it due at least one schedule period ago and no rotation has finished since. Find the secret with ' +
      'the status command (stack outputs) or the time-left graph of the dashboard, read the errors and ' +
      `chain-at-risk alarms and log group ${logGroupName}, fix the cause, then force a rotation (aws lambda invoke, ` +
      'see the stack outputs). If the key has expired or its refresh token is spent, create a new key in the ' +
      'Momento console and put its JSON with aws secretsmanager put-secret-value.',
  });

  const uninitialised = alarm('UninitialisedAlarm', 'uninitialised', {
    metric: metric('SecondsUninitialised', cloudwatch.Stats.MAXIMUM),
    threshold: props.uninitialisedAlarmAfter.toSeconds(),
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    alarmDescription:
      `A secret managed by ${name} has held no Momento key for ${describeDuration(props.uninitialisedAlarmAfter)} ` +
      'or more: nothing rotates it. Find it with the status command (state "uninitialised") or the warning line ' +
      `in log group ${logGroupName}, then put the JSON downloaded from the Momento console into it ` +
      '(aws secretsmanager put-secret-value, or the CLI put command); or stop managing it.',
  });

  const unreadable = alarm('UnreadableAlarm', 'unreadable', {
    metric: new cloudwatch.MathExpression({
      expression: 'FILL(unreadable, 0) + FILL(malformed, 0)',
      usingMetrics: { unreadable: count('SecretUnreadable'), malformed: count('MalformedSecret') },
      label: 'secrets that cannot be read or used',
      period,
    }),
    ...atLeastOne,
    alarmDescription:
      `A secret managed by ${name} cannot be read (access denied, its KMS key refused or deleted, the secret ` +
      'deleted) or holds a value that is not a usable Momento key pair. Nothing rotates it, and its expiry is not ' +
      `watched. Read the "sweep: secret failed" and malformed-secret lines in log group ${logGroupName}: each names ` +
      'the secret and the reason. Fix the permission or key, or put the JSON downloaded from the Momento console.',
  });

  const leftoverSchedule = alarm('LeftoverScheduleAlarm', 'leftover-schedule', {
    metric: count('LeftoverRotationSchedule'),
    ...atLeastOne,
    alarmDescription:
      `A secret managed by ${name} still has a Secrets Manager rotation schedule (RotationRules), so Secrets ` +
      'Manager also rotates it on that schedule, whatever its expiry. Find it with the status command or the ' +
      `leftover-schedule line in log group ${logGroupName}; remove the schedule with aws secretsmanager ` +
      'cancel-rotate-secret, then wire rotation back without one: aws secretsmanager rotate-secret ' +
      '--rotation-lambda-arn <the function ARN> --no-rotate-immediately (see the README).',
  });

  const manualRenewal = alarm('ManualRenewalAlarm', 'manual-renewal', {
    metric: count('ManualRenewalDue'),
    ...atLeastOne,
    alarmDescription:
      `A Momento v2 key managed by ${name} is due for renewal: v2 keys have no refresh token, so nothing can ` +
      'renew them but a person, and this fires as early as a v1 key would be rotated (the due rule), not just ' +
      'before the expiry. Find the secret with the status command (state "manual-renewal") or the "v2 key due for ' +
      `manual renewal" line in log group ${logGroupName}, create a new key in the Momento console and put it with ` +
      'npx momento-token-rotator put --secret-id <secret> --file <downloaded JSON> before it expires.',
  });

  const alarms: RotatorAlarms = {
    errors,
    deadLetterQueue,
    heartbeat,
    chainAtRisk,
    expiry,
    uninitialised,
    unreadable,
    leftoverSchedule,
    manualRenewal,
  };
  return { alarms, dashboard: createDashboard(scope, props, alarms, metric, count) };
}

function createDashboard(
  scope: Construct,
  props: MonitoringProps,
  alarms: RotatorAlarms,
  metric: (name: EngineMetric, statistic: string) => cloudwatch.Metric,
  count: (name: EngineMetric) => cloudwatch.Metric,
): cloudwatch.Dashboard {
  const name = props.deploymentName;
  const periodSeconds = props.schedulePeriod.toSeconds();
  const hours = (expression: string, label: string) =>
    new cloudwatch.MathExpression({
      expression: `${expression} / 3600`,
      label,
      period: props.schedulePeriod,
    });
  const perSecret = hours(
    `SEARCH('{${METRICS_NAMESPACE},SecretName,service} MetricName="SecondsUntilExpiry" service="${name}"', ` +
      `'Minimum', ${periodSeconds})`,
    '',
  );
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', {
    dashboardName: name,
    defaultInterval: Duration.days(7),
  });
  dashboard.addWidgets(
    new cloudwatch.AlarmStatusWidget({
      title: `${name}: alarms`,
      alarms: Object.values(alarms),
      width: 24,
      height: 3,
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Hours left per key (one line per secret)',
      left: [perSecret],
      leftYAxis: { min: 0, label: 'hours', showUnits: false },
      leftAnnotations: [
        {
          value: props.expiryAlarmThreshold.toSeconds() / 3600,
          label: 'expiry alarm',
          color: cloudwatch.Color.RED,
        },
      ],
      legendPosition: cloudwatch.LegendPosition.RIGHT,
      width: 16,
      height: 8,
    }),
    new cloudwatch.SingleValueWidget({
      title: 'Lowest hours left, any key',
      metrics: [
        new cloudwatch.MathExpression({
          expression: 'lowest / 3600',
          usingMetrics: { lowest: metric('SecondsUntilExpiry', cloudwatch.Stats.MINIMUM) },
          label: 'hours',
          period: props.schedulePeriod,
        }),
      ],
      width: 8,
      height: 8,
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Rotations',
      left: [count('RotationStarted'), count('RotationSucceeded'), count('RotationFailed')],
      leftYAxis: { min: 0, showUnits: false },
      width: 8,
      height: 6,
    }),
    new cloudwatch.GraphWidget({
      title: 'Failures',
      left: [
        props.function.metricErrors({ period: props.schedulePeriod, statistic: cloudwatch.Stats.SUM }),
        count('ChainAtRisk'),
        count('SecretUnreadable'),
        count('MalformedSecret'),
      ],
      leftYAxis: { min: 0, showUnits: false },
      width: 8,
      height: 6,
    }),
    new cloudwatch.GraphWidget({
      title: 'Heals and secrets that need a person',
      left: [count('StuckRotationHealed'), count('Uninitialised'), count('LeftoverRotationSchedule')],
      leftYAxis: { min: 0, showUnits: false },
      width: 8,
      height: 6,
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Sweeps and invocations',
      left: [
        count('SweepCompleted'),
        props.function.metricInvocations({ period: props.schedulePeriod, statistic: cloudwatch.Stats.SUM }),
      ],
      right: [props.function.metricDuration({ period: props.schedulePeriod, statistic: 'p99' })],
      leftYAxis: { min: 0, showUnits: false },
      width: 24,
      height: 6,
    }),
  );
  return dashboard;
}

/** "1 hour", "90 minutes": the unit a person reads in an alarm description. */
export function describeDuration(duration: Duration): string {
  const seconds = duration.toSeconds();
  if (seconds % 86_400 === 0) return `${seconds / 86_400} day${seconds === 86_400 ? '' : 's'}`;
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}`;
  if (seconds % 60 === 0) return `${seconds / 60} minute${seconds === 60 ? '' : 's'}`;
  return `${seconds} seconds`;
}
