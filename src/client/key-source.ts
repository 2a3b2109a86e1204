import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { CacheClient, CredentialProvider } from '@gomomento/sdk';
import { credentialProviderFor } from '../adapters/momento-credentials';
import { readMomentoEndpointOverride } from '../config';
import { SecretUnavailableError } from '../errors';
import { AWSCURRENT, type MomentoKey } from '../rotation/ports';
import { readKey } from '../rotation/secret-value';
import { rotatingCacheClient } from './rotating-cache-client';

/** What CacheClient's constructor takes, but the credentials: those come from the secret. */
export type CacheClientOptions = Omit<ConstructorParameters<typeof CacheClient>[0], 'credentialProvider'>;

export interface MomentoKeySourceOptions {
  /** Name or ARN of the secret the rotator keeps fresh. */
  readonly secretId: string;
  /** @default a new SecretsManagerClient with the default configuration (region and credentials of the environment) */
  readonly secretsManager?: SecretsManagerClient;
  /**
   * How often AWSCURRENT's version id is compared with the one in hand (one DescribeSecret, no secret value):
   * how soon after a rotation the new key is used.
   * @default 60
   */
  readonly checkIntervalSeconds?: number;
  /**
   * A key this close to its `validUntil` is read again at the next use even if no check has run. The rotator
   * rotates long before (at half the lifetime by default), so this is the last line, not the usual path.
   * @default 300
   */
  readonly renewBeforeSeconds?: number;
  /**
   * Receives what went wrong in a background check while the key in hand is still valid (the key keeps being
   * used; the check runs again at the next use after a pause). Once the key has expired, the error rejects the call
   * that needed the key instead.
   * @default `process.emitWarning` with the error's message (which names the secret, never a value)
   */
  readonly onBackgroundError?: (error: Error) => void;
  /**
   * `host:port`: every Momento call goes there over plaintext gRPC. For local emulators only.
   * @default the `MOMENTO_ENDPOINT_OVERRIDE` environment variable, as for the rotator function
   */
  readonly momentoEndpointOverride?: string;
}

/** The key in hand: what AWSCURRENT held when it was last read. */
export interface CurrentKey {
  readonly key: MomentoKey;
  readonly versionId: string;
  /** Epoch seconds; undefined for a key that never expires. */
  readonly validUntil: number | undefined;
}

/** A background check waits this long after a failure, and a key read near its expiry this long between reads. */
const RETRY_PAUSE_MS = 5_000;

/**
 * The Momento key an application uses, read from the secret the rotator keeps fresh and kept in memory, like
 * Powertools Parameters' `getSecret` with `maxAge` and AWS's Secrets Manager caching clients: read once; then every
 * `checkIntervalSeconds` one DescribeSecret tells whether AWSCURRENT moved, and only then is the value read again.
 * A key close to its `validUntil`, or one Momento refused, is read again at once. Checks run in the background
 * while the key in hand is valid, so calls never wait for them; a call waits only for the first read and for a key
 * past its expiry.
 *
 * ```ts
 * const momentoKey = new MomentoKeySource({ secretId: 'momento/api-key' });
 * const cache = await momentoKey.cacheClient({ configuration: Configurations.Lambda.latest(), defaultTtlSeconds: 60 });
 * await cache.set('my-cache', 'greeting', 'hello');   // always with the current key
 * ```
 */
export class MomentoKeySource {
  readonly #secretId: string;
  readonly #client: SecretsManagerClient;
  readonly #checkIntervalMs: number;
  readonly #renewBeforeMs: number;
  readonly #onBackgroundError: (error: Error) => void;
  readonly #endpointOverride: string | undefined;
  #current: CurrentKey | undefined;
  /** When the key in hand was last confirmed as AWSCURRENT's (or a check last failed), epoch ms. */
  #checkedAt = 0;
  #pending: Promise<CurrentKey> | undefined;

  constructor(options: MomentoKeySourceOptions) {
    this.#secretId = options.secretId;
    this.#client = options.secretsManager ?? new SecretsManagerClient({});
    this.#checkIntervalMs = seconds(options.checkIntervalSeconds, 60, 'checkIntervalSeconds');
    this.#renewBeforeMs = seconds(options.renewBeforeSeconds, 300, 'renewBeforeSeconds');
    this.#onBackgroundError =
      options.onBackgroundError ?? ((error) => process.emitWarning(error.message, error.name));
    this.#endpointOverride = options.momentoEndpointOverride ?? readMomentoEndpointOverride(process.env);
  }

  /** The key to use now. Waits only for the first read, or when the key in hand has expired. */
  async current(): Promise<CurrentKey> {
    const now = Date.now();
    const current = this.#current;
    if (current === undefined) return this.#read('value');
    const expired = current.validUntil !== undefined && now >= current.validUntil * 1000;
    const renew = current.validUntil !== undefined && now >= current.validUntil * 1000 - this.#renewBeforeMs;
    const interval = renew ? Math.min(RETRY_PAUSE_MS, this.#checkIntervalMs) : this.#checkIntervalMs;
    if (now - this.#checkedAt < interval) return current;
    // Near expiry the value itself is read: the version check would only add a call before it.
    const read = this.#read(renew ? 'value' : 'version');
    if (expired) return read;
    read.catch((error: unknown) => this.#onBackgroundError(asError(error)));
    return current;
  }

  /**
   * Momento refused `rejected` (AUTHENTICATION_ERROR): reads AWSCURRENT at once, one read for all the calls that
   * saw the refusal. Resolves to the key now in hand, which is `rejected` again when the secret still holds it.
   */
  async reload(rejected: CurrentKey): Promise<CurrentKey> {
    if (this.#current !== rejected) return this.#current ?? this.#read('value');
    return this.#read('value');
  }

  /** Credentials for the current key: v1 keys through `fromString`, v2 keys through `fromApiKeyV2`. */
  async credentialProvider(): Promise<CredentialProvider> {
    return this.credentialProviderFor(await this.current());
  }

  credentialProviderFor(current: CurrentKey): CredentialProvider {
    try {
      return credentialProviderFor({ CredentialProvider }, current.key, this.#endpointOverride);
    } catch {
      // The SDK's message may quote the key: only our own words.
      throw new SecretUnavailableError(
        `secret ${this.#secretId} version ${current.versionId}: the Momento SDK refused the key as malformed`,
      );
    }
  }

  /**
   * A CacheClient that always uses the current key: a new client is built when the key changes, and the old one
   * is closed once the calls it carries have finished (the old key stays valid until its own expiry, so they
   * succeed). A call answered AUTHENTICATION_ERROR reads the secret at once and, when that brings another key, is
   * made once more with it. `close()` closes every client it built.
   */
  async cacheClient(props: CacheClientOptions): Promise<CacheClient> {
    return rotatingCacheClient(
      this,
      (credentialProvider) => new CacheClient({ ...props, credentialProvider }),
    );
  }

  /** One read at a time; `version` first compares AWSCURRENT's version id and reads the value only if it moved. */
  #read(what: 'version' | 'value'): Promise<CurrentKey> {
    this.#pending ??= this.#fetch(what).finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #fetch(what: 'version' | 'value'): Promise<CurrentKey> {
    const current = this.#current;
    try {
      if (what === 'version' && current !== undefined) {
        const described = await this.#client.send(new DescribeSecretCommand({ SecretId: this.#secretId }));
        const stages = described.VersionIdsToStages ?? {};
        if (stages[current.versionId]?.includes(AWSCURRENT)) {
          this.#checkedAt = Date.now();
          return current;
        }
      }
      const out = await this.#client.send(
        new GetSecretValueCommand({ SecretId: this.#secretId, VersionStage: AWSCURRENT }),
      );
      const versionId = out.VersionId ?? '';
      const read = readKey(out.SecretString, out.Name ?? this.#secretId, versionId, Date.now());
      const next: CurrentKey =
        current !== undefined && current.versionId === versionId ? current : { ...read, versionId };
      this.#current = next;
      this.#checkedAt = Date.now();
      return next;
    } catch (error) {
      // A failing Secrets Manager is not asked again at every call: the key in hand serves until the pause ends.
      this.#checkedAt = Date.now();
      throw error;
    }
  }
}

function seconds(value: number | undefined, fallback: number, name: string): number {
  const chosen = value ?? fallback;
  if (!Number.isFinite(chosen) || chosen < 0) {
    throw new RangeError(`${name} must be a number of seconds, 0 or more; received ${value}`);
  }
  return chosen * 1000;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
