import { createServer, type Server } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SdkMomentoAuth } from '../../src/adapters/momento';
import { MomentoCallError } from '../../src/errors';

/** A legacy-style JWT (header.claims.signature) whose claims name no control or cache endpoint. */
function jwtWithoutEndpoints(): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: 'rotator-test', t: 'l' })}.c2lnbmF0dXJl`;
}

/** Counts connections: a key refused while building credentials must never reach the network. */
let server: Server;
let connections = 0;
let endpoint = '';
beforeAll(async () => {
  server = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  endpoint = `127.0.0.1:${address.port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('credentials the SDK cannot read', () => {
  it('reports a key that does not decode as MALFORMED_API_KEY, without quoting it and without a call', async () => {
    // Prepare
    const apiKey = 'not-a-momento-key-0f9e8d7c6b5a';
    const adapter = new SdkMomentoAuth(endpoint);

    // Act
    const error = await adapter.refresh({ apiKey, refreshToken: 'refresh-0f9e8d7c' }).catch((e) => e);

    // Assess
    expect(error).toBeInstanceOf(MomentoCallError);
    expect(error).toMatchObject({ operation: 'refresh', kind: 'invalid', code: 'MALFORMED_API_KEY' });
    expect(JSON.stringify({ message: error.message, cause: String(error.cause) })).not.toContain('0f9e8d7c');
    expect(connections).toBe(0);
  });

  it('reports a legacy key that names no endpoint as MALFORMED_API_KEY when no override is set', async () => {
    // Prepare
    const adapter = new SdkMomentoAuth(undefined);

    // Act
    const error = await adapter
      .verifyKey({ version: 'v1', apiKey: jwtWithoutEndpoints() }, 1_000)
      .catch((e) => e);

    // Assess
    expect(error).toBeInstanceOf(MomentoCallError);
    expect(error).toMatchObject({ operation: 'verify', kind: 'invalid', code: 'MALFORMED_API_KEY' });
  });

  it('reports a v2 key that is no JWT as MALFORMED_API_KEY, without quoting what it decoded to', async () => {
    // Prepare: base64url of text that is not JSON, so the JWT decoder's own message would quote it.
    const part = Buffer.from('not json 3c4d5e6f').toString('base64url');
    const adapter = new SdkMomentoAuth(undefined);

    // Act
    const error = await adapter
      .verifyKey(
        { version: 'v2', apiKey: `${part}.${part}.${part}`, endpoint: 'cell-1.example.invalid' },
        1_000,
      )
      .catch((e) => e);

    // Assess
    expect(error).toBeInstanceOf(MomentoCallError);
    expect(error).toMatchObject({ operation: 'verify', kind: 'invalid', code: 'MALFORMED_API_KEY' });
    expect(String(error.message)).not.toContain('3c4d5e6f');
  });
});

describe('an SDK module that is not what the adapter expects', () => {
  afterEach(() => {
    vi.doUnmock('@gomomento/sdk');
    vi.resetModules();
  });

  it('lets the TypeError through instead of calling the key malformed', async () => {
    // Prepare: what a bundle that unwrapped the SDK's chunk wrongly hands the adapter.
    const real = await vi.importActual<{ default: object }>('@gomomento/sdk');
    vi.doMock('@gomomento/sdk', () => ({ default: { ...real.default, CredentialProvider: undefined } }));
    vi.resetModules();
    const { SdkMomentoAuth: Adapter } = await import('../../src/adapters/momento');
    const adapter = new Adapter(endpoint);

    // Act
    const error = await adapter
      .refresh({ apiKey: 'any-key-5a4b3c2d', refreshToken: 'refresh-5a4b3c2d' })
      .catch((e) => e);

    // Assess
    expect(error).toBeInstanceOf(TypeError);
    expect(error).not.toBeInstanceOf(MomentoCallError);
    expect(error.message).toContain('fromString');
    expect(connections).toBe(0);
  });
});
