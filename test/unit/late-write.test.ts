import { GetSecretValueCommand, type GetSecretValueCommandInput } from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { consoleJson, DAY, Harness } from '../support/harness';
import { metricCount } from '../support/secret-material';
import { throttled } from '../support/service-errors';

const TOKEN = '7d4e2a9c-0000-4000-8000-0000000000dd';

let h: Harness;
beforeEach(() => {
  h = new Harness();
});

describe('a createSecret retry after an earlier attempt gave up on a slow write', () => {
  /**
   * The earlier attempt spent the refresh token and gave up waiting for its write; that write lands after this
   * attempt's probe found nothing, and just before Momento refuses the spent token.
   */
  function earlierWriteLandsAfterTheProbe(secretArn: string, probeAfterRefusal: 'answers' | 'is throttled') {
    const landed = consoleJson(h.momento.mint(30 * DAY));
    let reads = 0;
    h.model.sm
      .on(GetSecretValueCommand, { SecretId: secretArn, VersionId: TOKEN })
      .callsFake((input: GetSecretValueCommandInput) => {
        reads += 1;
        if (reads === 2) {
          const version = h.model.find(secretArn).versions.get(TOKEN);
          if (version) version.value = landed;
          if (probeAfterRefusal === 'is throttled') throw throttled();
        }
        return h.model.getSecretValue(input);
      });
    h.momento.failures.refresh.push('invalid');
  }

  it('finds the pair it landed and stops, instead of calling the chain broken', async () => {
    // Prepare
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    earlierWriteLandsAfterTheProbe(secret.arn, 'answers');

    // Act
    const result = await h.step('createSecret', secret.arn, TOKEN);

    // Assess
    expect(result).toMatchObject({ outcome: 'already-done' });
    expect(metricCount('ChainAtRisk')).toBe(0);
    expect(h.momento.refreshCalls).toHaveLength(1);
  });

  it('still reports the refusal as ChainAtRisk when that second look fails', async () => {
    // Prepare
    const secret = h.addManagedSecret('momento/api-key');
    h.model.addPendingStub(secret.arn, TOKEN);
    earlierWriteLandsAfterTheProbe(secret.arn, 'is throttled');

    // Act
    const outcome = h.step('createSecret', secret.arn, TOKEN);

    // Assess
    await expect(outcome).rejects.toMatchObject({ name: 'RefreshFailedError' });
    expect(metricCount('ChainAtRisk')).toBe(1);
  });
});
