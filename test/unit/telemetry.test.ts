import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PowertoolsTelemetry } from '../../src/adapters/telemetry';

/** The EMF documents Powertools writes to stdout while `act` runs. */
function emfWrittenBy(act: () => void): Record<string, unknown>[] {
  const lines: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    act();
  } finally {
    write.mockRestore();
  }
  return lines
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function telemetry(): PowertoolsTelemetry {
  return new PowertoolsTelemetry(
    new Logger({ serviceName: 'team-b' }),
    new Metrics({ serviceName: 'team-b', namespace: 'MomentoTokenRotator' }),
  );
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('SecondsUntilExpiry', () => {
  it("lands in the secret's own series and in the deployment-wide one the expiry alarm watches", () => {
    const [emf, ...more] = emfWrittenBy(() => telemetry().secondsUntilExpiry('momento/a', 5400));

    expect(more).toEqual([]);
    expect(emf).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: 'MomentoTokenRotator',
            Dimensions: [['service', 'SecretName'], ['service']],
            Metrics: [{ Name: 'SecondsUntilExpiry', Unit: 'Seconds' }],
          },
        ],
      },
      service: 'team-b',
      SecretName: 'momento/a',
      SecondsUntilExpiry: 5400,
    });
  });

  it('writes, secret after secret, what a new single metric per secret wrote, with the counts kept apart', () => {
    // Prepare: the same instant for every line, and what a single-metric instance built per secret wrote.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2030, 0, 1, 9) });
    const secrets: ReadonlyArray<[string, number]> = [
      ['team-a/momento', 3600],
      ['team-b/momento', 86_400],
      ['team-a/momento', 1800],
    ];
    const expected = emfWrittenBy(() => {
      const metrics = new Metrics({ serviceName: 'team-b', namespace: 'MomentoTokenRotator' });
      metrics.addMetric('SweepCompleted', MetricUnit.Count, 1);
      for (const [name, seconds] of secrets) {
        const single = metrics.singleMetric();
        single.addDimension('SecretName', name);
        single.addDimensions({});
        single.addMetric('SecondsUntilExpiry', MetricUnit.Seconds, seconds);
      }
      metrics.publishStoredMetrics();
    });
    const sweep = telemetry();

    // Act
    const written = emfWrittenBy(() => {
      sweep.count('SweepCompleted');
      for (const [name, seconds] of secrets) sweep.secondsUntilExpiry(name, seconds);
      sweep.flush();
    });

    // Assess
    expect(expected).toHaveLength(secrets.length + 1);
    expect(written).toEqual(expected);
  });
});
