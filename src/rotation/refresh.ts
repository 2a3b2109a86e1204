import {
  CannotStoreNewPairError,
  describeError,
  InsufficientTimeError,
  MomentoCallError,
  PendingWriteFailedError,
  RefreshFailedError,
} from '../errors';
import type { EngineContext } from './context';
import { AWSPENDING, AWSPREVIOUS, type Invocation, type KeyPair, type SecretMetadata } from './ports';
import { type ParsedSecret, serialiseRotated } from './secret-value';

type Rotatable = Extract<ParsedSecret, { kind: 'rotatable' }>;
type Pair = { apiKey: string; refreshToken: string; validUntil: number };

/** Secrets Manager's limit on a SecretString. */
const SECRET_STRING_LIMIT = 65_536;
/**
 * Room kept for a new key and refresh token longer than the current ones: Momento's tokens vary by a few
 * characters between refreshes, never by a kilobyte.
 */
const NEW_PAIR_GROWTH = 1_024;

/** The next link of the chain, and the refresh token it replaced (spent at Momento once the pair was issued). */
export interface NextLink {
  readonly next: KeyPair;
  readonly spentRefreshToken: string;
}

const NO_ANSWER = Symbol('no answer');

/** `call`'s result, or NO_ANSWER if it has not settled within `ms`. The call itself is left running. */
async function within<T>(call: Promise<T>, ms: number): Promise<T | typeof NO_ANSWER> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof NO_ANSWER>((resolve) => {
    timer = setTimeout(() => resolve(NO_ANSWER), Math.max(0, ms));
  });
  try {
    return await Promise.race([call, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The part of createSecret where a refresh token is spent: getting the next pair from Momento (or from this
 * container's memory of pairs it was issued but did not store), and writing it as AWSPENDING. Invariant 1 lives
 * here: a refresh starts only with time for its answer and the write, its answer is awaited as long as it can
 * still be stored, an answer that comes later is kept, and nothing happens between the answer and the write.
 */
export class ChainRefresher {
  readonly #ctx: EngineContext;

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
  }

  /**
   * What can be known before a token is spent: a secret scheduled for deletion refuses every write, and a value
   * over Secrets Manager's limit can never be written. Either would strand the new pair, so no refresh is made.
   */
  ensureStorable(meta: SecretMetadata, token: string, pair: Rotatable): void {
    if (meta.scheduledForDeletion === true) {
      throw new CannotStoreNewPairError(
        `secret ${meta.arn} version ${token}: the secret is scheduled for deletion and Secrets Manager refuses ` +
          'every write to it; no refresh was made. Restore it with aws secretsmanager restore-secret',
      );
    }
    const estimate = serialiseRotated(pair, pair).length + NEW_PAIR_GROWTH;
    if (estimate > SECRET_STRING_LIMIT) {
      throw new CannotStoreNewPairError(
        `secret ${meta.arn} version ${token}: the rotated value would be about ${estimate} characters, over ` +
          `Secrets Manager's ${SECRET_STRING_LIMIT}; no refresh was made. Move the secret's other fields elsewhere`,
      );
    }
  }

  /**
   * The next pair for AWSCURRENT's `pair`: one this container was issued earlier and has not stored (no call),
   * or one refresh. 'written-meanwhile' when Momento refused because an earlier attempt of this step spent the
   * token and its write has landed since.
   */
  async next(
    meta: SecretMetadata,
    token: string,
    pair: Pair,
    invocation: Invocation,
  ): Promise<NextLink | 'written-meanwhile'> {
    const kept = this.#ctx.issued.find(meta.arn, pair.refreshToken);
    if (kept !== undefined) {
      this.#ctx.deps.telemetry.warn(
        'writing a pair Momento issued to this container earlier, whose answer came late or whose write failed; ' +
          'no refresh needed',
        { secretArn: meta.arn, versionId: token, step: 'createSecret' },
      );
      return { next: kept, spentRefreshToken: pair.refreshToken };
    }
    this.#ensureTimeToRefresh(meta, token, invocation);
    return this.#refreshChain(meta, token, pair, invocation);
  }

  #timeNeededToRefresh(): number {
    const { refreshMinWaitMs, writeReserveMs, safetyMarginMs } = this.#ctx.timing;
    return refreshMinWaitMs + writeReserveMs + safetyMarginMs;
  }

  #hasTimeToRefresh(invocation: Invocation): boolean {
    return invocation.getRemainingTimeInMillis() >= this.#timeNeededToRefresh();
  }

  /** Invariant 1: a refresh starts only with time left for its answer and for writing the new pair. */
  #ensureTimeToRefresh(meta: SecretMetadata, token: string, invocation: Invocation): void {
    const needed = this.#timeNeededToRefresh();
    const remaining = invocation.getRemainingTimeInMillis();
    if (remaining < needed) {
      throw new InsufficientTimeError(
        `secret ${meta.arn} version ${token}: ${remaining} ms left, ${needed} ms needed to refresh and write; ` +
          'no refresh was made',
      );
    }
  }

  /**
   * One refresh, awaited while the invocation can still store its answer. If that time runs out first, the
   * outcome is unknown (ChainAtRisk), and an answer that still arrives is kept for the next createSecret of the
   * secret on this container: Momento has spent the old token, so that pair is the only way forward.
   */
  async #refresh(meta: SecretMetadata, token: string, pair: Pair, invocation: Invocation): Promise<KeyPair> {
    const { momento, telemetry } = this.#ctx.deps;
    const { writeReserveMs, safetyMarginMs } = this.#ctx.timing;
    const call = momento.refresh({ apiKey: pair.apiKey, refreshToken: pair.refreshToken });
    const waitMs = invocation.getRemainingTimeInMillis() - writeReserveMs - safetyMarginMs;
    const answer = await within(call, waitMs);
    if (answer !== NO_ANSWER) return answer;
    call.then(
      (late) => {
        this.#ctx.issued.keep(meta.arn, pair.refreshToken, late);
        telemetry.warn(
          'a refresh answer arrived after its invocation stopped waiting: the new pair is kept by this container ' +
            'and written by the next createSecret of the secret here',
          { secretArn: meta.arn, versionId: token },
        );
      },
      () => undefined,
    );
    throw new MomentoCallError('refresh', 'unavailable', 'NO_ANSWER_IN_TIME');
  }

  /**
   * One refresh of AWSCURRENT's pair. When Momento refuses it and AWSPREVIOUS holds a different pair with the
   * same validUntil (two refreshes within one second), that twin may be the chain's live link: it is tried
   * once. Refreshing a spent token is refused and changes nothing, so trying costs nothing but a call.
   */
  async #refreshChain(
    meta: SecretMetadata,
    token: string,
    pair: Pair,
    invocation: Invocation,
  ): Promise<NextLink | 'written-meanwhile'> {
    const { telemetry, store } = this.#ctx.deps;
    try {
      return {
        next: await this.#refresh(meta, token, pair, invocation),
        spentRefreshToken: pair.refreshToken,
      };
    } catch (error) {
      const refused =
        error instanceof MomentoCallError && (error.kind === 'rejected' || error.kind === 'invalid');
      if (!refused) {
        this.#reportRefreshFailure(meta, token, pair.validUntil, error);
        throw refreshFailed(meta, token, error);
      }
      // An earlier attempt of this step that gave up on a slow write may have spent the token and had its write
      // land since: then the chain is safe in the pending version, and "broken" would be the wrong alarm.
      // Neither that look nor the twin's may replace the refusal: if a read fails, the refusal is reported.
      const landed = await store
        .getVersion(meta.arn, { versionId: token, stage: AWSPENDING })
        .catch(() => undefined);
      if (landed !== undefined) return 'written-meanwhile';
      const twin = await this.#twinInPrevious(meta, pair).catch(() => undefined);
      if (twin === undefined) {
        this.#reportRefreshFailure(meta, token, pair.validUntil, error);
        throw refreshFailed(meta, token, error);
      }
      telemetry.warn("Momento refused AWSCURRENT's pair; trying its twin in AWSPREVIOUS (same validUntil)", {
        secretArn: meta.arn,
        versionId: token,
      });
      const keptForTwin = this.#ctx.issued.find(meta.arn, twin.refreshToken);
      if (keptForTwin !== undefined) return { next: keptForTwin, spentRefreshToken: twin.refreshToken };
      if (!this.#hasTimeToRefresh(invocation)) {
        // No time to try the twin: the refusal stands, as it is.
        this.#reportRefreshFailure(meta, token, pair.validUntil, error);
        throw refreshFailed(meta, token, error);
      }
      try {
        return {
          next: await this.#refresh(meta, token, twin, invocation),
          spentRefreshToken: twin.refreshToken,
        };
      } catch (twinError) {
        this.#reportRefreshFailure(meta, token, twin.validUntil, twinError);
        throw refreshFailed(meta, token, twinError);
      }
    }
  }

  async #twinInPrevious(meta: SecretMetadata, pair: Pair): Promise<Rotatable | undefined> {
    const previous = await this.#ctx.deps.store.getVersion(meta.arn, { stage: AWSPREVIOUS });
    if (previous === undefined) return undefined;
    try {
      const twin = this.#ctx.parse(previous, meta.name);
      const isTwin =
        twin.kind === 'rotatable' &&
        twin.validUntil === pair.validUntil &&
        twin.refreshToken !== pair.refreshToken;
      return isTwin ? twin : undefined;
    } catch {
      return undefined;
    }
  }

  #reportRefreshFailure(
    meta: SecretMetadata,
    token: string,
    currentValidUntil: number,
    error: unknown,
  ): void {
    const { telemetry } = this.#ctx.deps;
    const fields = {
      secretArn: meta.arn,
      versionId: token,
      currentKeyValidUntil: new Date(currentValidUntil * 1000).toISOString(),
      ...describeError(error),
    };
    if (!(error instanceof MomentoCallError)) return;
    if (error.kind === 'unavailable') {
      // The call may have been committed at Momento with the response lost: the old refresh token may be spent.
      telemetry.count('ChainAtRisk');
      telemetry.error(
        'ChainAtRisk: refresh outcome unknown; if Momento committed it the refresh chain is lost. ' +
          'The next attempt tells: a refused refresh token means a new key is needed from the Momento console ' +
          'before the current key expires',
        fields,
      );
    } else if (error.kind === 'rejected' || error.kind === 'invalid') {
      // Momento answers a spent, expired or unknown pair with INVALID_ARGUMENT or UNAUTHENTICATED: either way the
      // stored pair can no longer be refreshed.
      telemetry.count('ChainAtRisk');
      telemetry.error(
        'ChainAtRisk: Momento refused the stored key and refresh token (spent, expired or revoked): the refresh chain is broken. ' +
          'Create a new key in the Momento console and put its JSON into the secret before the current key expires',
        fields,
      );
    }
  }

  /**
   * Writes the new pair as AWSPENDING under the rotation's token, retried until it sticks or time runs out. A
   * pair that could not be written stays in this container's memory, so that a retry here writes it.
   */
  async writePending(
    meta: SecretMetadata,
    token: string,
    current: Rotatable,
    link: NextLink,
    rotationToken: string | undefined,
    invocation: Invocation,
  ): Promise<void> {
    const { store, telemetry } = this.#ctx.deps;
    const secretString = serialiseRotated(current, link.next);
    try {
      await this.#ctx.untilItSticks(
        invocation,
        'writing the pending version',
        { secretArn: meta.arn, versionId: token },
        (signal) => store.putPending(meta.arn, token, secretString, rotationToken, signal),
      );
    } catch (error) {
      this.#ctx.issued.keep(meta.arn, link.spentRefreshToken, link.next);
      telemetry.count('ChainAtRisk');
      telemetry.error(
        'ChainAtRisk: Momento issued a new pair but it could not be written as AWSPENDING; this container keeps it ' +
          'and a retry of the rotation here writes it, but the refresh chain is lost if the container ends first. ' +
          'Fix the cause named here; if the chain is lost, create a new key in the Momento console before the ' +
          'current key expires',
        {
          secretArn: meta.arn,
          versionId: token,
          currentKeyValidUntil: new Date(current.validUntil * 1000).toISOString(),
          ...describeError(error),
        },
      );
      throw new PendingWriteFailedError(
        `secret ${meta.arn} version ${token}: the new pair could not be written as AWSPENDING in the time left`,
        { cause: error },
      );
    }
    this.#ctx.issued.forget(meta.arn, link.spentRefreshToken);
    // Accepted under this token means the version holds exactly this value, for good.
    this.#ctx.remember({
      arn: meta.arn,
      name: meta.name,
      versionId: token,
      secretString,
      createdDate: undefined,
    });
  }
}

/** A Momento failure of the refresh, named; anything else is left to runStep, which adds secret, version and step. */
function refreshFailed(meta: SecretMetadata, token: string, error: unknown): unknown {
  return error instanceof MomentoCallError ? new RefreshFailedError(meta.arn, token, error) : error;
}
