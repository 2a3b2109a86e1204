import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describeError, MalformedSecretError, MomentoCallError } from '../errors';
import { fingerprint } from '../fingerprint';
import { unfinishedPendingVersion } from '../rotation/policy';
import type { MomentoKey } from '../rotation/ports';
import { type ParsedSecret, parseSecret, serialisePut } from '../rotation/secret-value';
import { CliError, EXIT, type ExitCode } from './exit-codes';
import { isoSeconds, timeLeft } from './format';
import { type KeyFacts, readKeyFacts } from './key-facts';
import type { Services } from './services';

export interface PutOptions {
  readonly secretId: string;
  readonly file: string;
  readonly force?: boolean;
}

/** How long the key check may take: Momento answers in milliseconds; this is for a slow network. */
const CHECK_TIMEOUT_MS = 10_000;

type KeyOf = { key: MomentoKey; validUntil: number | undefined; kind: string };

function keyOf(parsed: Exclude<ParsedSecret, { kind: 'uninitialised' }>): KeyOf {
  if (parsed.kind === 'rotatable') {
    return {
      key: { version: 'v1', apiKey: parsed.apiKey },
      validUntil: parsed.validUntil,
      kind: 'v1 key, refreshed by the rotator',
    };
  }
  if (parsed.kind === 'never-expires')
    return { key: parsed.key, validUntil: undefined, kind: 'v1 key that never expires' };
  return { key: parsed.key, validUntil: parsed.validUntil, kind: 'v2 key, renewed by hand (manual-renewal)' };
}

function expiryText(validUntil: number | undefined, now: number): string {
  if (validUntil === undefined) return 'never expires';
  return `valid until ${isoSeconds(validUntil)} (${timeLeft(validUntil - Math.floor(now / 1000))} left)`;
}

/**
 * Reads the console's JSON, judges it with the engine's parser, checks the key live at Momento, refuses to go
 * back in the chain or to cut into a running rotation (unless forced), and writes it as the new AWSCURRENT.
 */
export async function put(options: PutOptions, services: Services): Promise<ExitCode> {
  const { store, out } = services;
  let text: string;
  try {
    text = await readFile(options.file, 'utf8');
  } catch (error) {
    throw new CliError(
      `cannot read --file ${options.file}: ${describeError(error).errorMessage}`,
      EXIT.usage,
      { cause: error },
    );
  }
  let parsed: ParsedSecret;
  try {
    parsed = parseSecret(text, options.secretId, undefined, services.now());
  } catch (error) {
    if (!(error instanceof MalformedSecretError)) throw error;
    throw new CliError(
      `--file ${options.file}: field "${error.field}" ${error.problem}; nothing written`,
      EXIT.refused,
      { cause: error },
    );
  }
  if (parsed.kind === 'uninitialised') {
    throw new CliError(
      `--file ${options.file} holds no apiKey and no refreshToken: put the JSON the Momento console gave with the key; nothing written`,
      EXIT.refused,
    );
  }
  const incoming = keyOf(parsed);
  const now = services.now();
  if (incoming.validUntil !== undefined && incoming.validUntil * 1000 <= now) {
    throw new CliError(
      `the key in ${options.file} expired at ${isoSeconds(incoming.validUntil)}; nothing written`,
      EXIT.refused,
    );
  }
  out(
    `key in ${options.file}: ${fingerprint(incoming.key.apiKey)}, ${incoming.kind}, ${expiryText(incoming.validUntil, now)}`,
  );

  await checkAtMomento(incoming.key, services);

  const meta = await store.describe(options.secretId);
  const stored = await readKeyFacts(meta, services, {
    rotateAtRemainingFraction: 0.5,
    rotateWithinSeconds: 0,
  });
  if (stored.key !== undefined && stored.key.apiKey === incoming.key.apiKey) {
    out(
      `secret ${meta.name} already holds this key as AWSCURRENT (version ${stored.facts.versionId}): nothing to write`,
    );
    return EXIT.ok;
  }
  const pending = unfinishedPendingVersion(meta);
  const objections = [
    ...(pending === undefined
      ? []
      : [
          `a rotation is in progress (AWSPENDING on version ${pending}): it may be writing a newer pair right now`,
        ]),
    ...(olderThanStored(incoming, stored.facts)
      ? [
          `the key in the file expires before the stored one (${describeStored(stored.facts)}): an older download? ` +
            'Writing it would throw away the newer link of the refresh chain',
        ]
      : []),
  ];
  if (objections.length > 0 && !options.force) {
    throw new CliError(
      `refused: ${objections.join('; ')}. Nothing written (--force writes anyway)`,
      EXIT.refused,
    );
  }
  for (const objection of objections) out(`--force: writing although ${objection}`);
  if (stored.facts.versionId !== null)
    out(`replacing AWSCURRENT version ${stored.facts.versionId}: ${describeStored(stored.facts)}`);

  const versionId = await store.putCurrent(meta.arn, serialisePut(stored.secretString, text), randomUUID());
  out(
    `wrote ${meta.name} version ${versionId} as AWSCURRENT: key ${fingerprint(incoming.key.apiKey)}, ${expiryText(incoming.validUntil, services.now())}`,
  );
  if (pending !== undefined) {
    // Left in place, the unfinished rotation's pair (older chain, maybe a later validUntil) could be promoted over
    // the key just written by the next sweep's healing.
    await store.clearPending(meta.arn, pending);
    out(
      `removed AWSPENDING from version ${pending}, so that the unfinished rotation cannot replace the new key`,
    );
  }
  if (meta.rotationEnabled !== true || meta.rotationLambdaArn === undefined) {
    out(
      'note: rotation is not configured on this secret yet: deploy the stack that manages it (npx cdk deploy)',
    );
  } else if (parsed.kind === 'rotatable') {
    out('the rotator refreshes it before it expires: nothing more to do');
  } else if (parsed.kind === 'manual-renewal') {
    out(
      'a v2 key cannot be refreshed: create a new key in the Momento console before it expires and put it again',
    );
  }
  return EXIT.ok;
}

/** Live check with the function's own adapter: a PERMISSION_ERROR (data-scoped key) still proves the key. */
async function checkAtMomento(key: MomentoKey, services: Services): Promise<void> {
  try {
    await services.momento.verifyKey(key, CHECK_TIMEOUT_MS);
    services.out('Momento accepts the key');
  } catch (error) {
    if (!(error instanceof MomentoCallError)) throw error;
    if (error.kind === 'forbidden') {
      services.out(`Momento accepts the key (${error.code}: a key scoped to data calls may not list caches)`);
      return;
    }
    if (error.kind === 'unavailable') {
      throw new CliError(
        `could not ask Momento about the key (${error.code}); nothing written`,
        EXIT.unreachable,
        { cause: error },
      );
    }
    throw new CliError(`Momento rejected the key (${error.code}); nothing written`, EXIT.refused, {
      cause: error,
    });
  }
}

function olderThanStored(incoming: KeyOf, stored: KeyFacts): boolean {
  return (
    incoming.validUntil !== undefined && stored.validUntil !== null && incoming.validUntil < stored.validUntil
  );
}

function describeStored(facts: KeyFacts): string {
  if (facts.fingerprint === null) return facts.problem ?? facts.state;
  const expiry = facts.validUntil === null ? 'never expires' : `valid until ${isoSeconds(facts.validUntil)}`;
  return `key ${facts.fingerprint}, ${expiry}`;
}
