export const OPERATIONS = [
  'BatchGetSecretValue',
  'CancelRotateSecret',
  'CreateSecret',
  'DescribeSecret',
  'GetSecretValue',
  'ListSecrets',
  'ListSecretVersionIds',
  'PutSecretValue',
  'RotateSecret',
  'UpdateSecretVersionStage',
] as const;

export type Operation = (typeof OPERATIONS)[number];
/** An operation, or every operation. */
export type OperationSelector = Operation | '*';

export type FaultKind = 'throttle' | 'serverError' | 'latency' | 'commitThenDrop';

/**
 * How a committed response is lost: `reset` destroys the connection (the SDK sees ECONNRESET),
 * `status500` answers InternalServiceError although the change was made. The SDK retries both.
 */
export type DropMode = 'reset' | 'status500';

export interface ChaosRates {
  /** Probability (0..1) that a call is throttled (ThrottlingException, nothing changes). */
  readonly throttle?: number;
  /** Probability that a call fails with InternalServiceError/500 (nothing changes). */
  readonly serverError?: number;
  /** Probability that a call takes effect and its response is lost. */
  readonly commitThenDrop?: number;
  readonly dropMode?: DropMode;
  /** Added delay per call, uniformly drawn from [0, latencyMs]. */
  readonly latencyMs?: number;
}

/**
 * Counted faults add up: arming `throttleNext(op, 1)` twice throttles the next two calls, and counted
 * latencies and drops queue behind those already armed (first armed, first taken).
 */
export interface FaultControl {
  /** The next `n` calls of `op` answer ThrottlingException (HTTP 400) and change nothing; adds to those armed. */
  throttleNext(op: OperationSelector, n?: number): void;
  /** The next `n` calls of `op` answer InternalServiceError (HTTP 500) and change nothing; adds to those armed. */
  serverErrorNext(op: OperationSelector, n?: number): void;
  /**
   * Calls of `op` wait `ms` before they are processed: only the next `n` (queued behind counted latencies
   * already armed), or, without `n`, every call until cleared (replacing whatever latency `op` had).
   */
  latency(op: OperationSelector, ms: number, n?: number): void;
  /** The next `n` calls of `op` take effect, then the response is lost (see {@link DropMode}); adds to those armed. */
  commitThenDropNext(op: OperationSelector, n?: number, mode?: DropMode): void;
  /** Random faults on every call of `op`, from a seeded generator so a run can be replayed. */
  chaos(op: OperationSelector, rates: ChaosRates, seed?: number): void;
  /** Removes every injected fault (counters in `stats` stay). */
  clear(): void;
}

export interface EmulatorStats {
  /** HTTP calls received per operation, faulted ones included. */
  readonly calls: Record<Operation, number>;
  /** Faults injected, by kind. */
  readonly faults: Record<FaultKind, number>;
  /** Faults injected, by operation and kind. */
  readonly faultsByOperation: Partial<Record<Operation, Partial<Record<FaultKind, number>>>>;
  /** Sets every counter back to zero. */
  reset(): void;
}

/** What happens to one call. */
export interface FaultDecision {
  readonly delayMs: number;
  readonly reject?: 'throttle' | 'serverError';
  readonly drop?: DropMode;
}

/** A counted latency: `ms` for each of the next `remaining` calls (Infinity: every call until cleared). */
interface Latency {
  readonly ms: number;
  remaining: number;
}

interface Chaos {
  rates: ChaosRates;
  random: () => number;
}

/** Mulberry32: tiny, seeded, good enough to replay a chaos run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function checkedCount(n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, received ${n}`);
  return n;
}

function zeroCalls(): Record<Operation, number> {
  return Object.fromEntries(OPERATIONS.map((op) => [op, 0])) as Record<Operation, number>;
}

function zeroFaults(): Record<FaultKind, number> {
  return { throttle: 0, serverError: 0, latency: 0, commitThenDrop: 0 };
}

export class FaultInjector implements FaultControl {
  private throttles = new Map<OperationSelector, number>();
  private serverErrors = new Map<OperationSelector, number>();
  /** One mode per armed drop, in the order armed. */
  private drops = new Map<OperationSelector, DropMode[]>();
  /** Latencies in the order armed. */
  private latencies = new Map<OperationSelector, Latency[]>();
  private chaosByOp = new Map<OperationSelector, Chaos>();

  readonly stats: EmulatorStats;

  constructor() {
    const calls = zeroCalls();
    const faults = zeroFaults();
    const faultsByOperation: Partial<Record<Operation, Partial<Record<FaultKind, number>>>> = {};
    this.stats = {
      calls,
      faults,
      faultsByOperation,
      // In place, so references a test already holds see the reset.
      reset: () => {
        Object.assign(calls, zeroCalls());
        Object.assign(faults, zeroFaults());
        for (const op of OPERATIONS) delete faultsByOperation[op];
      },
    };
  }

  throttleNext(op: OperationSelector, n = 1): void {
    this.throttles.set(op, (this.throttles.get(op) ?? 0) + checkedCount(n));
  }

  serverErrorNext(op: OperationSelector, n = 1): void {
    this.serverErrors.set(op, (this.serverErrors.get(op) ?? 0) + checkedCount(n));
  }

  latency(op: OperationSelector, ms: number, n = Number.POSITIVE_INFINITY): void {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`ms must be a non-negative number, received ${ms}`);
    if (n === Number.POSITIVE_INFINITY) {
      this.latencies.set(op, [{ ms, remaining: n }]);
      return;
    }
    if (checkedCount(n) === 0) return;
    const queue = this.latencies.get(op) ?? [];
    queue.push({ ms, remaining: n });
    this.latencies.set(op, queue);
  }

  commitThenDropNext(op: OperationSelector, n = 1, mode: DropMode = 'reset'): void {
    const queue = this.drops.get(op) ?? [];
    for (let i = checkedCount(n); i > 0; i--) queue.push(mode);
    this.drops.set(op, queue);
  }

  chaos(op: OperationSelector, rates: ChaosRates, seed = 1): void {
    this.chaosByOp.set(op, { rates, random: seeded(seed) });
  }

  clear(): void {
    this.throttles.clear();
    this.serverErrors.clear();
    this.drops.clear();
    this.latencies.clear();
    this.chaosByOp.clear();
  }

  /** Counts the call and decides its faults; counted faults win over random ones. */
  decide(op: Operation): FaultDecision {
    this.stats.calls[op]++;
    let delayMs = this.takeLatency(op);
    const chaos = this.chaosByOp.get(op) ?? this.chaosByOp.get('*');
    const roll = (p: number | undefined) =>
      p !== undefined && p > 0 && chaos !== undefined && chaos.random() < p;
    if (chaos?.rates.latencyMs) delayMs += Math.round(chaos.random() * chaos.rates.latencyMs);
    if (delayMs > 0) this.count(op, 'latency');

    if (this.takeCounted(this.throttles, op) || roll(chaos?.rates.throttle)) {
      this.count(op, 'throttle');
      return { delayMs, reject: 'throttle' };
    }
    if (this.takeCounted(this.serverErrors, op) || roll(chaos?.rates.serverError)) {
      this.count(op, 'serverError');
      return { delayMs, reject: 'serverError' };
    }
    const drop = this.takeDrop(op);
    if (drop || roll(chaos?.rates.commitThenDrop)) {
      this.count(op, 'commitThenDrop');
      return { delayMs, drop: drop ?? chaos?.rates.dropMode ?? 'reset' };
    }
    return { delayMs };
  }

  /** Takes one armed call from `op`'s own count first, then from `*`'s. */
  private takeCounted(faults: Map<OperationSelector, number>, op: Operation): boolean {
    for (const key of [op, '*'] as const) {
      const remaining = faults.get(key) ?? 0;
      if (remaining > 0) {
        if (remaining === 1) faults.delete(key);
        else faults.set(key, remaining - 1);
        return true;
      }
    }
    return false;
  }

  private takeDrop(op: Operation): DropMode | undefined {
    for (const key of [op, '*'] as const) {
      const queue = this.drops.get(key);
      const mode = queue?.shift();
      if (queue?.length === 0) this.drops.delete(key);
      if (mode !== undefined) return mode;
    }
    return undefined;
  }

  private takeLatency(op: Operation): number {
    for (const key of [op, '*'] as const) {
      const queue = this.latencies.get(key);
      const head = queue?.[0];
      if (queue === undefined || head === undefined) continue;
      head.remaining--;
      if (head.remaining <= 0) queue.shift();
      if (queue.length === 0) this.latencies.delete(key);
      return head.ms;
    }
    return 0;
  }

  private count(op: Operation, kind: FaultKind): void {
    this.stats.faults[kind]++;
    const byOp = this.stats.faultsByOperation[op] ?? {};
    byOp[kind] = (byOp[kind] ?? 0) + 1;
    this.stats.faultsByOperation[op] = byOp;
  }
}
