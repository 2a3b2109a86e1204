import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
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
});
