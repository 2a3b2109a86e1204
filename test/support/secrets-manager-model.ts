import { randomUUID } from 'node:crypto';
import {
  BatchGetSecretValueCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  type GetSecretValueCommandInput,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  type PutSecretValueCommandInput,
  ResourceExistsException,
  ResourceNotFoundException,
  RotateSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';

/**
 * An in-memory model of the few Secrets Manager behaviours the engine relies on, installed on
 * aws-sdk-client-mock. Tests read and shape the state directly and override single commands to inject
 * failures (`sm.on(GetSecretValueCommand, {...}).rejects(...)` after `install()`).
 */
export interface ModelVersion {
  stages: string[];
  value?: string;
  createdDate: number;
  rotationToken?: string;
}

export interface ModelSecret {
  arn: string;
  name: string;
  rotationEnabled?: boolean;
  versions: Map<string, ModelVersion>;
}

const notFound = (message: string) => new ResourceNotFoundException({ message, $metadata: {} });

export class SecretsManagerModel {
  readonly secrets = new Map<string, ModelSecret>();
  readonly sm: AwsClientStub<SecretsManagerClient>;
  readonly client: SecretsManagerClient;

  constructor(private readonly clock: () => number) {
    this.client = new SecretsManagerClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    this.sm = mockClient(this.client);
    this.install();
  }

  addSecret(
    name: string,
    current: string | undefined,
    opts: { createdDate?: number; rotationEnabled?: boolean } = {},
  ) {
    const arn = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-${randomUUID().slice(0, 6)}`;
    const secret: ModelSecret = {
      arn,
      name,
      rotationEnabled: opts.rotationEnabled ?? true,
      versions: new Map(),
    };
    const versionId = randomUUID();
    secret.versions.set(versionId, {
      stages: ['AWSCURRENT'],
      ...(current === undefined ? {} : { value: current }),
      createdDate: opts.createdDate ?? this.clock(),
    });
    this.secrets.set(arn, secret);
    return { arn, name, versionId };
  }

  find(id: string): ModelSecret {
    for (const secret of this.secrets.values()) if (secret.arn === id || secret.name === id) return secret;
    throw notFound(`Secrets Manager can't find the specified secret.`);
  }

  versionWith(id: string, stage: string): [string, ModelVersion] | undefined {
    return [...this.find(id).versions.entries()].find(([, v]) => v.stages.includes(stage));
  }

  /** Adds a version stub with AWSPENDING and no value, like RotateSecret does before createSecret. */
  addPendingStub(id: string, versionId: string = randomUUID(), value?: string): string {
    this.find(id).versions.set(versionId, {
      stages: ['AWSPENDING'],
      ...(value === undefined ? {} : { value }),
      createdDate: this.clock(),
    });
    return versionId;
  }

  stagesOf(id: string): Record<string, string[]> {
    return Object.fromEntries([...this.find(id).versions.entries()].map(([vid, v]) => [vid, [...v.stages]]));
  }

  private moveLabel(secret: ModelSecret, stage: string, to: string | undefined) {
    for (const v of secret.versions.values()) v.stages = v.stages.filter((s) => s !== stage);
    if (to !== undefined) secret.versions.get(to)?.stages.push(stage);
  }

  install(): void {
    this.installRest();
    const { sm } = this;
    sm.on(DescribeSecretCommand).callsFake((input) => {
      const s = this.find(input.SecretId);
      return {
        ARN: s.arn,
        Name: s.name,
        RotationEnabled: s.rotationEnabled,
        VersionIdsToStages: this.stagesOf(s.arn),
      };
    });
    sm.on(GetSecretValueCommand).callsFake(this.getSecretValue);
    sm.on(PutSecretValueCommand).callsFake(this.putSecretValue);
  }

  /** The model's GetSecretValue, for tests that chain injected failures before it. */
  readonly getSecretValue = (input: GetSecretValueCommandInput) => {
    const s = this.find(input.SecretId as string);
    const entry = input.VersionId
      ? ([input.VersionId, s.versions.get(input.VersionId)] as const)
      : this.versionWith(s.arn, input.VersionStage ?? 'AWSCURRENT');
    const [versionId, version] = entry ?? [];
    if (!versionId || !version || version.value === undefined) throw notFound('version not found');
    if (input.VersionStage && !version.stages.includes(input.VersionStage))
      throw notFound('stage not on version');
    return {
      ARN: s.arn,
      Name: s.name,
      VersionId: versionId,
      SecretString: version.value,
      VersionStages: version.stages,
      CreatedDate: new Date(version.createdDate),
    };
  };

  /** The model's PutSecretValue, for tests that chain injected failures before it. */
  readonly putSecretValue = (input: PutSecretValueCommandInput) => {
    const s = this.find(input.SecretId as string);
    const versionId = input.ClientRequestToken ?? randomUUID();
    const existing = s.versions.get(versionId);
    if (existing?.value !== undefined) {
      if (existing.value !== input.SecretString) {
        throw new ResourceExistsException({ message: 'version exists with another value', $metadata: {} });
      }
      return { ARN: s.arn, Name: s.name, VersionId: versionId, VersionStages: existing.stages };
    }
    const stages = input.VersionStages ?? ['AWSCURRENT'];
    for (const stage of stages) this.moveLabel(s, stage, undefined);
    s.versions.set(versionId, {
      stages: [...stages],
      value: input.SecretString,
      createdDate: this.clock(),
      ...(input.RotationToken ? { rotationToken: input.RotationToken } : {}),
    });
    return { ARN: s.arn, Name: s.name, VersionId: versionId, VersionStages: stages };
  };

  private installRest(): void {
    const { sm } = this;
    sm.on(UpdateSecretVersionStageCommand).callsFake((input) => {
      const s = this.find(input.SecretId);
      const stage = input.VersionStage as string;
      const holder = this.versionWith(s.arn, stage)?.[0];
      if (holder !== undefined && input.MoveToVersionId !== holder && input.RemoveFromVersionId !== holder) {
        throw new Error(
          `InvalidParameterException: ${stage} is on ${holder}; RemoveFromVersionId must name it`,
        );
      }
      if (stage === 'AWSCURRENT' && holder !== undefined && input.MoveToVersionId !== undefined) {
        this.moveLabel(s, 'AWSPREVIOUS', holder);
      }
      this.moveLabel(s, stage, input.MoveToVersionId);
      return { ARN: s.arn, Name: s.name };
    });
    sm.on(RotateSecretCommand).callsFake((input) => {
      const s = this.find(input.SecretId);
      const versionId = this.addPendingStub(s.arn);
      return { ARN: s.arn, Name: s.name, VersionId: versionId };
    });
    sm.on(BatchGetSecretValueCommand).callsFake((input) => {
      const SecretValues = [];
      const Errors = [];
      for (const id of input.SecretIdList ?? []) {
        try {
          const s = this.find(id);
          const [versionId, version] = this.versionWith(s.arn, 'AWSCURRENT') ?? [];
          SecretValues.push({
            ARN: s.arn,
            Name: s.name,
            VersionId: versionId,
            SecretString: version?.value,
            VersionStages: version?.stages,
            CreatedDate: version ? new Date(version.createdDate) : undefined,
          });
        } catch {
          Errors.push({ SecretId: id, ErrorCode: 'ResourceNotFoundException', Message: 'not found' });
        }
      }
      return { SecretValues, Errors };
    });
    sm.on(ListSecretVersionIdsCommand).callsFake((input) => {
      const s = this.find(input.SecretId);
      return {
        ARN: s.arn,
        Name: s.name,
        Versions: [...s.versions.entries()]
          .filter(([, v]) => v.stages.length > 0)
          .map(([VersionId, v]) => ({
            VersionId,
            VersionStages: v.stages,
            CreatedDate: new Date(v.createdDate),
          })),
      };
    });
    sm.on(ListSecretsCommand).callsFake((input) => {
      const prefixes: string[] = input.Filters?.find((f: { Key?: string }) => f.Key === 'name')?.Values ?? [
        '',
      ];
      const all = [...this.secrets.values()].filter((s) =>
        prefixes.some((p: string) => s.name.startsWith(p)),
      );
      const start = Number(input.NextToken ?? 0);
      const page = all.slice(start, start + (input.MaxResults ?? 100));
      return {
        SecretList: page.map((s) => ({
          ARN: s.arn,
          Name: s.name,
          RotationEnabled: s.rotationEnabled,
          SecretVersionsToStages: this.stagesOf(s.arn),
        })),
        ...(start + page.length < all.length ? { NextToken: String(start + page.length) } : {}),
      };
    });
  }

  /** Number of calls the client made, all commands together. */
  callCount(): number {
    return this.sm.calls().length;
  }
}
