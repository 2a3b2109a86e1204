import type { CredentialProvider } from '@gomomento/sdk';
import type { MomentoKey } from '../rotation/ports';

/** The part of `@gomomento/sdk` needed here; passed in so that the function's adapter can load the SDK late. */
type Sdk = Pick<typeof import('@gomomento/sdk'), 'CredentialProvider'>;

/**
 * The SDK's credentials for a stored key: a v1 key through `fromString` (its endpoint is inside it), a v2 key
 * through `fromApiKeyV2` with the endpoint stored beside it. With `endpointOverride` (`host:port`, local
 * emulators only) every call goes there over plaintext gRPC. Shared by the function, the CLI and the
 * application helper, so all three judge a key the same way. Throws whatever the SDK throws for a key it
 * refuses: callers must not pass that error on as it is, since the SDK's message may quote the key.
 */
export function credentialProviderFor(
  sdk: Sdk,
  key: MomentoKey,
  endpointOverride: string | undefined,
): CredentialProvider {
  if (key.version === 'v1') {
    if (endpointOverride === undefined) return sdk.CredentialProvider.fromString({ apiKey: key.apiKey });
    return sdk.CredentialProvider.fromString({
      apiKey: key.apiKey,
      endpointOverrides: {
        controlEndpoint: endpointOverride,
        cacheEndpoint: endpointOverride,
        tokenEndpoint: endpointOverride,
        secureConnection: false,
      },
    });
  }
  // The SDK's own check of the key (a JWT with the v2 claim) and the endpoint, override or not.
  const v2 = sdk.CredentialProvider.fromApiKeyV2({ apiKey: key.apiKey, endpoint: key.endpoint });
  if (endpointOverride === undefined) return v2;
  const split = endpointOverride.lastIndexOf(':');
  const local = sdk.CredentialProvider.forMomentoLocal({
    hostname: endpointOverride.slice(0, split),
    port: Number(endpointOverride.slice(split + 1)),
  });
  // fromApiKeyV2 takes no endpoint override: the v2 key, sent to the local endpoints.
  return new KeyAtEndpoints(v2.getAuthToken(), local);
}

/** A credential provider that sends `authToken` to the endpoints of `endpoints`. */
class KeyAtEndpoints implements CredentialProvider {
  // A private field: util.inspect and JSON.stringify of this object never show the key.
  readonly #authToken: string;

  constructor(
    authToken: string,
    private readonly endpoints: CredentialProvider,
  ) {
    this.#authToken = authToken;
  }

  getAuthToken(): string {
    return this.#authToken;
  }
  getControlEndpoint(): string {
    return this.endpoints.getControlEndpoint();
  }
  getCacheEndpoint(): string {
    return this.endpoints.getCacheEndpoint();
  }
  getTokenEndpoint(): string {
    return this.endpoints.getTokenEndpoint();
  }
  isEndpointSecure(): boolean {
    return this.endpoints.isEndpointSecure();
  }
  isControlEndpointSecure(): boolean {
    return this.endpoints.isEndpointSecure();
  }
  isCacheEndpointSecure(): boolean {
    return this.endpoints.isEndpointSecure();
  }
  isTokenEndpointSecure(): boolean {
    return this.endpoints.isEndpointSecure();
  }
  areEndpointsOverridden(): boolean {
    return true;
  }
  withMomentoLocal(): CredentialProvider {
    return this.endpoints.withMomentoLocal();
  }
}
