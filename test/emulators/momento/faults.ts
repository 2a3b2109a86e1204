import { status } from '@grpc/grpc-js';

export const EMULATED_METHODS = ['RefreshApiToken', 'ListCaches', 'Get', 'Set'] as const;
export type EmulatedMethod = (typeof EMULATED_METHODS)[number];

/** How a committed refresh loses its response: a gRPC status instead of the new pair, or no answer at all. */
export type DropAnswer = status | 'hang';

export type FaultKind = 'fail' | 'latency' | 'hang' | 'commitThenDrop';

/** What happens to one call, decided when it arrives. */
export interface ArrivalDecision {
  readonly delayMs: number;
  readonly action:
    | { readonly kind: 'hang' }
    | { readonly kind: 'fail'; readonly status: status }
    | { readonly kind: 'process' };
}

function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`count must be a non-negative integer, received ${count}`);
  }
}

function checkMethod(method: string): asserts method is EmulatedMethod {
  if (!(EMULATED_METHODS as readonly string[]).includes(method)) {
    throw new RangeError(`method must be one of ${EMULATED_METHODS.join(', ')}, received ${method}`);
  }
}

/**
 * The faults queued per method. Counted faults are taken by calls in arrival order, at most one per call:
 * a queued hang first, then a queued failure. Commit-then-drop is taken only by a refresh that commits.
 */
export class FaultPlan {
  readonly #failures = new Map<EmulatedMethod, status[]>();
  readonly #hangs = new Map<EmulatedMethod, number>();
  readonly #latencyMs = new Map<EmulatedMethod, number>();
  readonly #drops: DropAnswer[] = [];

  failNext(method: EmulatedMethod, count: number, code: status): void {
    checkMethod(method);
    checkCount(count);
    if (code === status.OK || status[code] === undefined) {
      throw new RangeError(`status must be a gRPC error status, received ${code}`);
    }
    const queue = this.#failures.get(method) ?? [];
    for (let i = 0; i < count; i += 1) queue.push(code);
    this.#failures.set(method, queue);
  }

  latency(method: EmulatedMethod, ms: number): void {
    checkMethod(method);
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`ms must be a non-negative number, received ${ms}`);
    this.#latencyMs.set(method, ms);
  }

  hangNext(method: EmulatedMethod, count: number): void {
    checkMethod(method);
    checkCount(count);
    this.#hangs.set(method, (this.#hangs.get(method) ?? 0) + count);
  }

  commitThenDropNext(method: 'RefreshApiToken', count: number, answer: DropAnswer): void {
    if (method !== 'RefreshApiToken') {
      throw new RangeError(`commit-then-drop applies to RefreshApiToken only, received ${String(method)}`);
    }
    checkCount(count);
    if (answer !== 'hang' && (answer === status.OK || status[answer] === undefined)) {
      throw new RangeError(`answer must be a gRPC error status or 'hang', received ${String(answer)}`);
    }
    for (let i = 0; i < count; i += 1) this.#drops.push(answer);
  }

  clear(): void {
    this.#failures.clear();
    this.#hangs.clear();
    this.#latencyMs.clear();
    this.#drops.length = 0;
  }

  onArrival(method: EmulatedMethod): ArrivalDecision {
    const delayMs = this.#latencyMs.get(method) ?? 0;
    const hangs = this.#hangs.get(method) ?? 0;
    if (hangs > 0) {
      this.#hangs.set(method, hangs - 1);
      return { delayMs, action: { kind: 'hang' } };
    }
    const failure = this.#failures.get(method)?.shift();
    if (failure !== undefined) return { delayMs, action: { kind: 'fail', status: failure } };
    return { delayMs, action: { kind: 'process' } };
  }

  /** Called when a refresh has committed: how its answer is lost, or undefined to answer normally. */
  takeDrop(): DropAnswer | undefined {
    return this.#drops.shift();
  }
}
