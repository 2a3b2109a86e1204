import {
  BatchGetSecretValueCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RotateSecretCommand,
  type RotationRulesType,
  type SecretsManagerClient,
  type Tag,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { describeError, PendingVersionConflictError, RotationInProgressError } from '../errors';
import { designates, nameFilterFor } from '../rotation/policy';
import {
  AWSCURRENT,
  AWSPENDING,
  type BatchEntry,
  type MetadataListing,
  type SecretMetadata,
  type SecretStore,
  type SecretTag,
  type SecretVersion,
} from '../rotation/ports';

/** BatchGetSecretValue takes at most 20 ids; ListSecrets' name filter at most 10 values, a page 100 secrets. */
const BATCH_GET_LIMIT = 20;
const LIST_FILTER_LIMIT = 10;
const LIST_PAGE_LIMIT = 100;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * One call (with its pages) per chunk. A failed call fails only its own ids, each told why (operation, error
 * class and service message, no values); the caller goes on with the other chunks.
 */
async function eachChunk(
  ids: readonly string[],
  size: number,
  operation: string,
  call: (chunk: readonly string[]) => Promise<void>,
  failed: (id: string, why: string) => void,
): Promise<void> {
  for (const chunk of chunks(ids, size)) {
    try {
      await call(chunk);
    } catch (error) {
      const { errorName, errorMessage } = describeError(error);
      for (const id of chunk) failed(id, `${operation}: ${errorName}: ${errorMessage}`);
    }
  }
}

function toStages(record: Record<string, string[]> | undefined): Record<string, readonly string[]> {
  return { ...record };
}

/** The rotation facts DescribeSecret and ListSecrets report, in the port's words. */
function rotationFacts(entry: {
  RotationLambdaARN?: string;
  RotationRules?: RotationRulesType;
  LastRotatedDate?: Date;
}): Pick<SecretMetadata, 'rotationLambdaArn' | 'rotationSchedule' | 'lastRotatedDate'> {
  const rules = entry.RotationRules;
  const schedule =
    rules?.ScheduleExpression ??
    (rules?.AutomaticallyAfterDays === undefined ? undefined : `every ${rules.AutomaticallyAfterDays} days`);
  return {
    ...(entry.RotationLambdaARN === undefined ? {} : { rotationLambdaArn: entry.RotationLambdaARN }),
    ...(schedule === undefined ? {} : { rotationSchedule: schedule }),
    ...(entry.LastRotatedDate === undefined ? {} : { lastRotatedDate: entry.LastRotatedDate.getTime() }),
  };
}

/** What DescribeSecret and ListSecrets both say about a secret, in the port's terms. */
function toMetadata(
  entry: {
    ARN?: string;
    Name?: string;
    RotationEnabled?: boolean;
    RotationLambdaARN?: string;
    RotationRules?: RotationRulesType;
    LastRotatedDate?: Date;
    Tags?: Tag[];
  },
  versions: Record<string, string[]> | undefined,
  fallbackId: string,
): SecretMetadata {
  return {
    arn: entry.ARN ?? fallbackId,
    name: entry.Name ?? fallbackId,
    rotationEnabled: entry.RotationEnabled,
    versions: toStages(versions),
    tags: Object.fromEntries((entry.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? ''])),
    ...rotationFacts(entry),
  };
}

/** The SecretStore port over the AWS SDK v3 client. The client is passed in, built once per container. */
export class SecretsManagerStore implements SecretStore {
  constructor(private readonly client: SecretsManagerClient) {}

  async describe(secretId: string): Promise<SecretMetadata> {
    const out = await this.client.send(new DescribeSecretCommand({ SecretId: secretId }));
    return {
      ...toMetadata(out, out.VersionIdsToStages, secretId),
      scheduledForDeletion: out.DeletedDate !== undefined,
    };
  }

  async versionCreatedDate(secretId: string, versionId: string): Promise<number | undefined> {
    let nextToken: string | undefined;
    do {
      const out = await this.client.send(
        new ListSecretVersionIdsCommand({ SecretId: secretId, NextToken: nextToken }),
      );
      const version = out.Versions?.find((v) => v.VersionId === versionId);
      if (version !== undefined) return version.CreatedDate?.getTime();
      nextToken = out.NextToken;
    } while (nextToken !== undefined);
    return undefined;
  }

  /**
   * PutSecretValue as a person's new AWSCURRENT (the service moves AWSPREVIOUS). `clientRequestToken` makes a
   * retried call write one version.
   */
  async putCurrent(secretId: string, secretString: string, clientRequestToken: string): Promise<string> {
    const out = await this.client.send(
      new PutSecretValueCommand({
        SecretId: secretId,
        SecretString: secretString,
        ClientRequestToken: clientRequestToken,
        VersionStages: [AWSCURRENT],
      }),
    );
    return out.VersionId ?? clientRequestToken;
  }

  async getVersion(
    secretId: string,
    select: { versionId?: string; stage?: string },
  ): Promise<SecretVersion | undefined> {
    try {
      const out = await this.client.send(
        new GetSecretValueCommand({
          SecretId: secretId,
          VersionId: select.versionId,
          VersionStage: select.stage,
        }),
      );
      return {
        arn: out.ARN ?? secretId,
        name: out.Name ?? secretId,
        versionId: out.VersionId ?? select.versionId ?? '',
        secretString: out.SecretString,
        createdDate: out.CreatedDate?.getTime(),
      };
    } catch (error) {
      // Exactly the one expected error; everything else (throttling, 5xx, access) must stop the caller.
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  }

  async putPending(
    secretId: string,
    versionId: string,
    secretString: string,
    rotationToken: string | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    try {
      await this.client.send(
        new PutSecretValueCommand({
          SecretId: secretId,
          ClientRequestToken: versionId,
          SecretString: secretString,
          VersionStages: [AWSPENDING],
          ...(rotationToken === undefined ? {} : { RotationToken: rotationToken }),
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      if (error instanceof ResourceExistsException) {
        throw new PendingVersionConflictError(
          `secret ${secretId}: version ${versionId} already holds a different value`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  async promote(secretId: string, toVersionId: string, fromVersionId: string): Promise<void> {
    await this.client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: AWSCURRENT,
        MoveToVersionId: toVersionId,
        RemoveFromVersionId: fromVersionId,
      }),
    );
  }

  async clearPending(secretId: string, versionId: string): Promise<void> {
    await this.client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: AWSPENDING,
        RemoveFromVersionId: versionId,
      }),
    );
  }

  async labelPending(secretId: string, versionId: string, fromVersionId: string | undefined): Promise<void> {
    await this.client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: AWSPENDING,
        MoveToVersionId: versionId,
        ...(fromVersionId === undefined ? {} : { RemoveFromVersionId: fromVersionId }),
      }),
    );
  }

  async startRotation(secretId: string, wireTo?: string): Promise<string> {
    let versionId: string | undefined;
    try {
      versionId = (
        await this.client.send(
          new RotateSecretCommand({
            SecretId: secretId,
            ...(wireTo === undefined ? {} : { RotationLambdaARN: wireTo }),
          }),
        )
      ).VersionId;
    } catch (error) {
      // The service's documented refusal while AWSPENDING sits on a version that is not AWSCURRENT.
      if (
        error instanceof InvalidRequestException &&
        /previous rotation isn't complete/i.test(error.message)
      ) {
        throw new RotationInProgressError(secretId, { cause: error });
      }
      throw error;
    }
    if (versionId === undefined) throw new Error(`RotateSecret on ${secretId} returned no VersionId`);
    return versionId;
  }

  async batchGetCurrent(secretIds: readonly string[]): Promise<BatchEntry[]> {
    const found = new Map<string, BatchEntry>();
    await eachChunk(
      secretIds,
      BATCH_GET_LIMIT,
      'BatchGetSecretValue',
      (chunk) => this.#batchGetChunk(chunk, found),
      (id, why) => {
        if (!found.has(id)) found.set(id, { secretId: id, error: why });
      },
    );
    return secretIds.map(
      (id) => found.get(id) ?? { secretId: id, error: 'not returned by BatchGetSecretValue' },
    );
  }

  async #batchGetChunk(chunk: readonly string[], found: Map<string, BatchEntry>): Promise<void> {
    let nextToken: string | undefined;
    do {
      const out = await this.client.send(
        new BatchGetSecretValueCommand({ SecretIdList: [...chunk], NextToken: nextToken }),
      );
      for (const value of out.SecretValues ?? []) {
        const secret = { arn: value.ARN ?? '', name: value.Name ?? '' };
        const id = chunk.find((candidate) => designates(candidate, secret));
        if (id === undefined) continue;
        found.set(id, {
          secretId: id,
          current: {
            ...secret,
            versionId: value.VersionId ?? '',
            secretString: value.SecretString,
            createdDate: value.CreatedDate?.getTime(),
          },
        });
      }
      for (const error of out.Errors ?? []) {
        if (error.SecretId !== undefined && chunk.includes(error.SecretId)) {
          found.set(error.SecretId, {
            secretId: error.SecretId,
            error: `${error.ErrorCode ?? 'Error'}: ${error.Message ?? ''}`.trim(),
          });
        }
      }
      nextToken = out.NextToken;
    } while (nextToken);
  }

  async listMetadata(secretIds: readonly string[]): Promise<MetadataListing> {
    const found = new Map<string, SecretMetadata>();
    const errors = new Map<string, string>();
    await eachChunk(
      secretIds,
      LIST_FILTER_LIMIT,
      'ListSecrets',
      (chunk) => this.#listChunk(chunk, found),
      (id, why) => {
        if (!found.has(id)) errors.set(id, why);
      },
    );
    return { found, errors };
  }

  async #listChunk(chunk: readonly string[], found: Map<string, SecretMetadata>): Promise<void> {
    const prefixes = [...new Set(chunk.map(nameFilterFor))];
    let nextToken: string | undefined;
    do {
      const out = await this.client.send(
        new ListSecretsCommand({
          Filters: [{ Key: 'name', Values: prefixes }],
          MaxResults: LIST_PAGE_LIMIT,
          NextToken: nextToken,
        }),
      );
      for (const entry of out.SecretList ?? []) {
        const meta = toMetadata(entry, entry.SecretVersionsToStages, '');
        for (const id of chunk) if (designates(id, meta)) found.set(id, meta);
      }
      nextToken = out.NextToken;
    } while (nextToken);
  }

  async listTagged(tag: SecretTag): Promise<SecretMetadata[]> {
    const filters = [
      { Key: 'tag-key' as const, Values: [tag.key] },
      ...(tag.value === undefined ? [] : [{ Key: 'tag-value' as const, Values: [tag.value] }]),
    ];
    const found: SecretMetadata[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.client.send(
        new ListSecretsCommand({ Filters: filters, MaxResults: LIST_PAGE_LIMIT, NextToken: nextToken }),
      );
      for (const entry of out.SecretList ?? [])
        found.push(toMetadata(entry, entry.SecretVersionsToStages, ''));
      nextToken = out.NextToken;
    } while (nextToken);
    return found;
  }
}
