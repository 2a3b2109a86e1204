import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  type MomentoEmulator,
  type MomentoEmulatorOptions,
  startMomentoEmulator,
} from '../emulators/momento';
import {
  type RotationFunction,
  type SecretsManagerEmulator,
  type SecretsManagerEmulatorOptions,
  startSecretsManagerEmulator,
} from '../emulators/secrets-manager';

export const REGION = 'us-east-1';
export const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:momento-token-rotator';

export interface LocalAwsOptions {
  /** Epoch ms, shared by both emulators. @default () => Date.now() (so that faked Dates are seen) */
  readonly clock?: () => number;
  readonly secretsManager?: Omit<SecretsManagerEmulatorOptions, 'clock' | 'rotationFunctions'>;
  readonly momento?: Omit<MomentoEmulatorOptions, 'clock'>;
}

export interface SeededSecret {
  readonly arn: string;
  readonly name: string;
  readonly chain: string;
}

/**
 * Both emulators on 127.0.0.1 with one clock, a real Secrets Manager client, and the rotation Lambda bound
 * late (the handler module needs the emulators' endpoints in its environment before it is imported).
 */
export class LocalAws {
  private rotationFunction: RotationFunction | undefined;

  private constructor(
    readonly momento: MomentoEmulator,
    readonly sm: SecretsManagerEmulator,
    readonly client: SecretsManagerClient,
  ) {}

  static async start(opts: LocalAwsOptions = {}): Promise<LocalAws> {
    const clock = opts.clock ?? (() => Date.now());
    let self: LocalAws | undefined;
    const momento = await startMomentoEmulator({ ...opts.momento, clock });
    const sm = await startSecretsManagerEmulator({
      // The deployed function's timeout: the engine refuses to refresh with less than ~32 s left.
      invocationTimeoutMs: 180_000,
      ...opts.secretsManager,
      clock,
      rotationFunctions: (arn) => (arn === FUNCTION_ARN ? self?.rotationFunction : undefined),
    });
    const client = new SecretsManagerClient({
      endpoint: sm.endpoint,
      region: REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    self = new LocalAws(momento, sm, client);
    return self;
  }

  /**
   * The environment the deployed function would have, pointed at the emulators; with a tag, the stack's tag
   * selection (ROTATOR_SECRET_TAG, and the function's ARN to wire tagged secrets to).
   */
  env(secretIds: readonly string[], secretTag?: string): Record<string, string> {
    return {
      ROTATOR_SECRET_IDS: secretIds.join(','),
      // Empty rather than absent without a tag: an earlier stub in the same test file must not linger.
      ROTATOR_SECRET_TAG: secretTag ?? '',
      ROTATOR_FUNCTION_ARN: secretTag === undefined ? '' : FUNCTION_ARN,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: this.sm.endpoint,
      MOMENTO_ENDPOINT_OVERRIDE: this.momento.endpoint,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    };
  }

  /** What Secrets Manager invokes for the four steps (the CDK's RotationSchedule wiring). */
  setRotationFunction(fn: RotationFunction): void {
    this.rotationFunction = fn;
  }

  /** A user's day one: a key minted in the Momento console, its JSON put into a secret with rotation wired. */
  seed(
    name: string,
    lifetimeSeconds: number,
    shape: {
      keyField?: 'apiKey' | 'authToken';
      tags?: Readonly<Record<string, string>>;
      /** Wire rotation to the function (as the stack does for the secrets it names). @default true */
      wired?: boolean;
    } = {},
  ): SeededSecret {
    const pair = this.momento.mintKeyPair({ lifetimeSeconds });
    const { arn } = this.sm.createSecret(
      name,
      JSON.stringify({
        [shape.keyField ?? 'apiKey']: pair.apiKey,
        refreshToken: pair.refreshToken,
        validUntil: pair.validUntil,
      }),
      { tags: shape.tags },
    );
    if (shape.wired ?? true) this.sm.configureRotation(arn, FUNCTION_ARN);
    return { arn, name, chain: this.momento.chainOf(pair.apiKey) };
  }

  /** The parsed value of a version (AWSCURRENT by default), for checks. */
  value(
    secretId: string,
    stage = 'AWSCURRENT',
  ): Record<string, unknown> & { apiKey?: string; refreshToken?: string } {
    const version = this.sm.inspect(secretId).versions.find((v) => v.stages.includes(stage));
    return version?.secretString === undefined ? {} : JSON.parse(version.secretString);
  }

  versionIdWith(secretId: string, stage: string): string | undefined {
    return this.sm.inspect(secretId).versions.find((v) => v.stages.includes(stage))?.versionId;
  }

  /** The chain is intact when its one live refresh token is the one stored as AWSCURRENT. */
  chainIntact(secret: SeededSecret): boolean {
    const live = this.momento.liveRefreshToken(secret.chain);
    return live !== undefined && this.value(secret.arn).refreshToken === live;
  }

  async stop(): Promise<void> {
    this.client.destroy();
    await this.sm.stop();
    await this.momento.stop();
  }
}
