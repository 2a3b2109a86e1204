import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CountMetric, Telemetry } from '../rotation/ports';

/**
 * Telemetry over Powertools: JSON logs and CloudWatch EMF metrics. Counts carry only the `service` dimension.
 * SecondsUntilExpiry is written once per report into two series: with `SecretName` (one line per secret on the
 * dashboard) and with `service` alone, where CloudWatch's Minimum is the lowest time left of any key of the
 * deployment: one alarm for all, however many secrets.
 */
export class PowertoolsTelemetry implements Telemetry {
  constructor(
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  info(message: string, fields: Record<string, unknown> = {}): void {
    this.logger.info(message, fields);
  }

  warn(message: string, fields: Record<string, unknown> = {}): void {
    this.logger.warn(message, fields);
  }

  error(message: string, fields: Record<string, unknown> = {}): void {
    this.logger.error(message, fields);
  }

  count(metric: CountMetric): void {
    this.metrics.addMetric(metric, MetricUnit.Count, 1);
  }

  secondsUntilExpiry(secretName: string, seconds: number): void {
    const single = this.metrics.singleMetric();
    single.addDimension('SecretName', secretName);
    // An empty set is the default dimensions alone: `service`.
    single.addDimensions({});
    single.addMetric('SecondsUntilExpiry', MetricUnit.Seconds, seconds);
  }

  /**
   * Writes the buffered counts; called once at the end of every invocation, failed or not. Most steps count
   * nothing, and publishing an empty buffer only prints a plain-text warning into the JSON log stream.
   */
  flush(): void {
    if (this.metrics.hasStoredMetrics()) this.metrics.publishStoredMetrics();
  }
}
