import { MomentoCallError, type MomentoFailureKind } from '../errors';
import type { KeyPair, MomentoAuth, MomentoKey } from '../rotation/ports';
import { credentialProviderFor } from './momento-credentials';

type MomentoSdk = typeof import('@gomomento/sdk');

/**
 * The MomentoAuth port over `@gomomento/sdk`. The SDK is most of the bundle and of a cold start, and most
 * invocations (sweeps where nothing is due) never call Momento, so it is imported on first use only, once per
 * container. Momento clients are bound to the key they authenticate with, and every rotation brings a new
 * key, so a client is built per call; the module and its gRPC machinery are what is shared.
 */
export class SdkMomentoAuth implements MomentoAuth {
  #sdk: Promise<MomentoSdk> | undefined;

  /** @param endpointOverride `host:port` for local emulators (plaintext gRPC); undefined in AWS. */
  constructor(private readonly endpointOverride: string | undefined) {}

  /**
   * One RefreshApiToken call, awaited until the SDK settles it (its own deadline is 60 s and it does not retry
   * this call). No shorter deadline here: an answer Momento committed must reach the engine whenever it comes,
   * and the engine decides how long it can wait (see the MomentoAuth port).
   */
  async refresh(current: { apiKey: string; refreshToken: string }): Promise<KeyPair> {
    const sdk = await this.#load();
    const client = new sdk.AuthClient({
      credentialProvider: this.#credentials(sdk, { version: 'v1', apiKey: current.apiKey }, 'refresh'),
      configuration: sdk.AuthClientConfigurations.Default.latest(new sdk.NoopMomentoLoggerFactory()),
    });
    let response: Awaited<ReturnType<typeof client.refreshApiKey>>;
    try {
      response = await client.refreshApiKey(current.refreshToken);
    } catch (error) {
      throw sdkException('refresh', error);
    }
    if (response instanceof sdk.RefreshApiKey.Success) {
      const validUntil = response.expiresAt.epoch();
      // A pair was issued: even without a usable expiry it must reach the secret, so never throw it away here.
      return {
        apiKey: response.apiKey,
        refreshToken: response.refreshToken,
        validUntil: Number.isFinite(validUntil) ? validUntil : 0,
      };
    }
    throw failure(sdk, 'refresh', response.errorCode());
  }

  async verifyKey(key: MomentoKey, timeoutMs: number): Promise<void> {
    const sdk = await this.#load();
    const client = new sdk.CacheClient({
      configuration: sdk.Configurations.Lambda.latest(new sdk.NoopMomentoLoggerFactory()),
      credentialProvider: this.#credentials(sdk, key, 'verify'),
      defaultTtlSeconds: 60,
    });
    try {
      const response = await withDeadline(client.listCaches(), timeoutMs, 'verify');
      if (response instanceof sdk.ListCaches.Success) return;
      if (response instanceof sdk.ListCaches.Error) throw failure(sdk, 'verify', response.errorCode());
      throw new MomentoCallError('verify', 'unavailable', 'UNEXPECTED_RESPONSE');
    } finally {
      client.close();
    }
  }

  #load(): Promise<MomentoSdk> {
    // The SDK is CommonJS. Node's own import gives its exports as `default` (and most of them by name too);
    // the function's ESM bundle puts it in a chunk that exports `default` only. tsx (the CLI, the scripts)
    // honours the SDK's __esModule flag instead: no `default`, every export by name.
    this.#sdk ??= import('@gomomento/sdk').then(
      (module) => (module as { default?: MomentoSdk }).default ?? module,
    );
    return this.#sdk;
  }

  #credentials(sdk: MomentoSdk, key: MomentoKey, operation: 'refresh' | 'verify') {
    try {
      return credentialProviderFor(sdk, key, this.endpointOverride);
    } catch (error) {
      // The SDK's verdict on the key may quote the key: only our own words leave this function. Anything else
      // (a TypeError from code of ours, a bundle that lost part of the SDK) is no verdict on the key, and goes on
      // as it is for the step to name.
      if (isCredentialParseError(sdk, error))
        throw new MomentoCallError(operation, 'invalid', 'MALFORMED_API_KEY');
      throw error;
    }
  }
}

/**
 * What the SDK's credential providers throw for a key they cannot read: InvalidArgumentError when a v1 key
 * decodes to nothing usable; jwt-decode's InvalidTokenError when a v2 key is no JWT; a plain Error for a key
 * or endpoint the provider refuses (a legacy key that names no endpoint, a v1 key given as v2, an empty one).
 */
function isCredentialParseError(sdk: MomentoSdk, error: unknown): boolean {
  if (error instanceof sdk.InvalidArgumentError) return true;
  if (!(error instanceof Error)) return false;
  return error.constructor === Error || error.name === 'InvalidTokenError';
}

function failure(sdk: MomentoSdk, operation: 'refresh' | 'verify', code: string): MomentoCallError {
  const codes = sdk.MomentoErrorCode;
  const kinds: Record<string, MomentoFailureKind> = {
    [codes.AUTHENTICATION_ERROR]: 'rejected',
    [codes.PERMISSION_ERROR]: 'forbidden',
    [codes.INVALID_ARGUMENT_ERROR]: 'invalid',
    [codes.BAD_REQUEST_ERROR]: 'invalid',
    [codes.NOT_FOUND_ERROR]: 'invalid',
    [codes.FAILED_PRECONDITION_ERROR]: 'invalid',
  };
  // Timeouts, unavailability, internal and unknown errors: the call may or may not have taken effect.
  return new MomentoCallError(operation, kinds[code] ?? 'unavailable', code);
}

/** An exception thrown by the SDK (not an error response): its text may quote request data, so only its class name. */
function sdkException(operation: 'refresh' | 'verify', error: unknown): MomentoCallError {
  return new MomentoCallError(operation, 'unavailable', error instanceof Error ? error.name : 'UNKNOWN');
}

/**
 * The key check is bounded by the engine's deadline: an abandoned ListCaches changes nothing at Momento, so
 * giving up on it loses nothing but the answer.
 */
async function withDeadline<T>(call: Promise<T>, timeoutMs: number, operation: 'verify'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new MomentoCallError(operation, 'unavailable', 'CLIENT_DEADLINE')),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([call, deadline]);
  } catch (error) {
    if (error instanceof MomentoCallError) throw error;
    throw sdkException(operation, error);
  } finally {
    clearTimeout(timer);
  }
}
