import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CountMetric, Telemetry } from '../rotation/ports';

/**
 * Telemetry over Powertools: JSON logs and CloudWatch EMF metrics. Counts carry only the `service` dimension.
 * The per-secret gauges (SecondsUntilExpiry, SecondsUninitialised) are written once per report into two series:
 * with `SecretName` (one line per secret on the dashboard) and with `service` alone, where CloudWatch's Minimum
 * (or Maximum) is the worst secret of the deployment: one alarm for all, however many secrets.
 */
export class PowertoolsTelemetry implements Telemetry {
  /** The per-secret metrics' emitter: one for the container, made on first use (see #perSecret). */
  #emitter: Metrics | undefined;

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
    this.#perSecret('SecondsUntilExpiry', secretName, seconds);
  }

  secondsUninitialised(secretName: string, seconds: number): void {
    this.#perSecret('SecondsUninitialised', secretName, seconds);
  }

  /**
   * One EMF line per secret, with its own SecretName dimension. A single-metric instance writes each metric at
   * once and then forgets its dimensions, so one instance serves every secret; a new one per secret
   * (`singleMetric()` per call) was about a quarter of a large sweep's CPU.
   */
  #perSecret(metric: string, secretName: string, seconds: number): void {
    this.#emitter ??= this.metrics.singleMetric();
    this.#emitter.addDimension('SecretName', secretName);
    // An empty set is the default dimensions alone: `service`.
    this.#emitter.addDimensions({});
    this.#emitter.addMetric(metric, MetricUnit.Seconds, seconds);
  }

  /**
   * Writes the buffered counts; called once at the end of every invocation, failed or not. Most steps count
   * nothing, and publishing an empty buffer only prints a plain-text warning into the JSON log stream.
   */
  flush(): void {
    if (this.metrics.hasStoredMetrics()) this.metrics.publishStoredMetrics();
  }
}
