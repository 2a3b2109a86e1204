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

export interface FaultControl {
  /** The next `n` calls of `op` answer ThrottlingException (HTTP 400) and change nothing. */
  throttleNext(op: OperationSelector, n?: number): void;
  /** The next `n` calls of `op` answer InternalServiceError (HTTP 500) and change nothing. */
  serverErrorNext(op: OperationSelector, n?: number): void;
  /** Calls of `op` wait `ms` before they are processed: all of them, or only the next `n`. */
  latency(op: OperationSelector, ms: number, n?: number): void;
  /** The next `n` calls of `op` take effect, then the response is lost (see {@link DropMode}). */
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

interface Counted {
  remaining: number;
}

interface Latency {
  ms: number;
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

function zeroCalls(): Record<Operation, number> {
  return Object.fromEntries(OPERATIONS.map((op) => [op, 0])) as Record<Operation, number>;
}

function zeroFaults(): Record<FaultKind, number> {
  return { throttle: 0, serverError: 0, latency: 0, commitThenDrop: 0 };
}

export class FaultInjector implements FaultControl {
  private throttles = new Map<OperationSelector, Counted>();
  private serverErrors = new Map<OperationSelector, Counted>();
  private drops = new Map<OperationSelector, Counted & { mode: DropMode }>();
  private latencies = new Map<OperationSelector, Latency>();
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
    this.throttles.set(op, { remaining: n });
  }

  serverErrorNext(op: OperationSelector, n = 1): void {
    this.serverErrors.set(op, { remaining: n });
  }

  latency(op: OperationSelector, ms: number, n = Number.POSITIVE_INFINITY): void {
    this.latencies.set(op, { ms, remaining: n });
  }

  commitThenDropNext(op: OperationSelector, n = 1, mode: DropMode = 'reset'): void {
    this.drops.set(op, { remaining: n, mode });
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
    let delayMs = 0;
    const latency = this.take(this.latencies, op);
    if (latency) delayMs += latency.ms;
    const chaos = this.chaosByOp.get(op) ?? this.chaosByOp.get('*');
    const roll = (p: number | undefined) =>
      p !== undefined && p > 0 && chaos !== undefined && chaos.random() < p;
    if (chaos?.rates.latencyMs) delayMs += Math.round(chaos.random() * chaos.rates.latencyMs);
    if (delayMs > 0) this.count(op, 'latency');

    if (this.take(this.throttles, op) || roll(chaos?.rates.throttle)) {
      this.count(op, 'throttle');
      return { delayMs, reject: 'throttle' };
    }
    if (this.take(this.serverErrors, op) || roll(chaos?.rates.serverError)) {
      this.count(op, 'serverError');
      return { delayMs, reject: 'serverError' };
    }
    const drop = this.take(this.drops, op);
    if (drop || roll(chaos?.rates.commitThenDrop)) {
      this.count(op, 'commitThenDrop');
      return { delayMs, drop: drop?.mode ?? chaos?.rates.dropMode ?? 'reset' };
    }
    return { delayMs };
  }

  private take<T extends Counted>(faults: Map<OperationSelector, T>, op: Operation): T | undefined {
    for (const key of [op, '*'] as const) {
      const fault = faults.get(key);
      if (fault && fault.remaining > 0) {
        fault.remaining--;
        if (fault.remaining <= 0) faults.delete(key);
        return fault;
      }
    }
    return undefined;
  }

  private count(op: Operation, kind: FaultKind): void {
    this.stats.faults[kind]++;
    const byOp = this.stats.faultsByOperation[op] ?? {};
    byOp[kind] = (byOp[kind] ?? 0) + 1;
    this.stats.faultsByOperation[op] = byOp;
  }
}
