import { describe, expect, it } from 'vitest';
import { MalformedSecretError, ManualRenewalError } from '../../src/errors';
import { parseRotatable, parseSecret, readKey } from '../../src/rotation/secret-value';
import { recordError, registerSecret, secretMaterial } from '../support/secret-material';

const NOW = Date.UTC(2026, 10, 23, 12);
const IN_A_DAY = NOW / 1000 + 86_400;
const ENDPOINT = 'cell-4-us-west-2-1.prod.a.momentohq.com';

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A key shaped as Momento's v2 keys are (a JWT with t=g); the random signature is what must never leak. */
function v2Key(claims: Record<string, unknown> = {}): string {
  const signature = secretMaterial('v2sig').split('-').slice(1).join('');
  registerSecret(`v2sig-${signature}`);
  return `${base64url({ alg: 'HS512', typ: 'JWT' })}.${base64url({ t: 'g', jti: 'k1', ...claims })}.${signature}`;
}

function parse(value: Record<string, unknown>) {
  return parseSecret(JSON.stringify(value), 'momento/api-key', 'v-1', NOW);
}

function refusal(value: Record<string, unknown>): MalformedSecretError {
  try {
    parse(value);
  } catch (error) {
    recordError(error);
    if (error instanceof MalformedSecretError) return error;
    throw error;
  }
  throw new Error('the value was accepted');
}

describe('v2 keys in the stored value', () => {
  it('recognises a v2 key with its endpoint as manual-renewal, expiring at its exp claim', () => {
    const apiKey = v2Key({ exp: IN_A_DAY });

    expect(parse({ apiKey, endpoint: ENDPOINT })).toEqual({
      kind: 'manual-renewal',
      key: { version: 'v2', apiKey, endpoint: ENDPOINT },
      validUntil: IN_A_DAY,
    });
  });

  it('takes the earliest of a stored validUntil, a stored expiresAt and the exp claim', () => {
    const apiKey = v2Key({ exp: IN_A_DAY });

    expect(parse({ apiKey, endpoint: ENDPOINT, validUntil: IN_A_DAY - 60 })).toMatchObject({
      validUntil: IN_A_DAY - 60,
    });
    expect(
      parse({ apiKey, endpoint: ENDPOINT, expiresAt: new Date((IN_A_DAY - 120) * 1000).toISOString() }),
    ).toMatchObject({ validUntil: IN_A_DAY - 120 });
    expect(parse({ authToken: v2Key(), endpoint: ENDPOINT, expiresAt: IN_A_DAY })).toMatchObject({
      validUntil: IN_A_DAY,
    });
  });

  it('reports a v2 key with no expiry anywhere as manual-renewal without expiry', () => {
    expect(parse({ apiKey: v2Key(), endpoint: ENDPOINT })).toMatchObject({
      kind: 'manual-renewal',
      validUntil: undefined,
    });
  });

  it('refuses a v2 key without its endpoint, naming the field', () => {
    const error = refusal({ apiKey: v2Key({ exp: IN_A_DAY }) });

    expect(error.field).toBe('endpoint');
    expect(error.message).toContain('secret momento/api-key version v-1: field "endpoint" is required');
  });

  it('refuses a refresh token beside a v2 key: v2 keys have none', () => {
    const error = refusal({ apiKey: v2Key(), endpoint: ENDPOINT, refreshToken: secretMaterial('rt') });

    expect(error.field).toBe('refreshToken');
  });

  it('refuses an endpoint that is not a host name', () => {
    expect(refusal({ apiKey: v2Key(), endpoint: 'https://cell-4.example.com/' }).field).toBe('endpoint');
  });

  it('never rotates a v2 key: parseRotatable refuses with ManualRenewalError and how to renew', () => {
    const value = JSON.stringify({ apiKey: v2Key({ exp: IN_A_DAY }), endpoint: ENDPOINT });

    let thrown: unknown;
    try {
      parseRotatable(value, 'momento/api-key', 'v-1', NOW);
    } catch (error) {
      recordError(error);
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(ManualRenewalError);
    expect((thrown as Error).message).toContain(
      'create a new key in the Momento console before 2026-11-24T12:00:00',
    );
    expect((thrown as Error).message).toContain('npx momento-token-rotator put --secret-id momento/api-key');
  });
});

describe('the key an application uses', () => {
  it('gives a v1 key with its expiry, a never-expiring key without, and a v2 key with its endpoint', () => {
    const v1 = secretMaterial('key');
    const forever = secretMaterial('key');
    const v2 = v2Key({ exp: IN_A_DAY });
    const read = (value: Record<string, unknown>) => readKey(JSON.stringify(value), 'app/key', 'v-2', NOW);

    expect(read({ apiKey: v1, refreshToken: secretMaterial('rt'), validUntil: String(IN_A_DAY) })).toEqual({
      key: { version: 'v1', apiKey: v1 },
      validUntil: IN_A_DAY,
    });
    expect(read({ authToken: forever })).toEqual({
      key: { version: 'v1', apiKey: forever },
      validUntil: undefined,
    });
    expect(read({ apiKey: v2, endpoint: ENDPOINT })).toEqual({
      key: { version: 'v2', apiKey: v2, endpoint: ENDPOINT },
      validUntil: IN_A_DAY,
    });
  });
});
