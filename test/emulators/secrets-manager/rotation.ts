import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Context } from 'aws-lambda';
import type { RotationJob, SecretStore } from './store';

export type RotationStep = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';

const FOUR_STEPS: readonly RotationStep[] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];

/** The event Secrets Manager sends to the rotation function, one invocation per step. */
export interface RotationEvent {
  Step: RotationStep;
  /** Always the secret's complete ARN. */
  SecretId: string;
  /** The version id RotateSecret created (labelled AWSPENDING, no value until createSecret writes it). */
  ClientRequestToken: string;
  /** One per rotation; the function passes it back in PutSecretValue. */
  RotationToken: string;
}

/** A rotation function run in process, as Lambda would: it succeeds when its promise resolves. */
export type RotationFunction = (event: RotationEvent, context: Context) => Promise<unknown> | unknown;

export interface StepRecord {
  step: RotationStep;
  attempt: number;
  outcome: 'ok' | 'error' | 'timeout';
  error?: string;
  /** Wall-clock duration of the invocation (the injected clock is not used for durations). */
  durationMs: number;
}

export interface RotationRecord {
  secretArn: string;
  versionId: string;
  rotationToken: string;
  lambdaArn: string;
  /** `test`: RotateSecret with RotateImmediately=false (testSecret only). */
  mode: 'rotate' | 'test';
  outcome: 'succeeded' | 'failed';
  /** The step of the last attempt that failed. */
  failedStep?: RotationStep;
  error?: string;
  /** Whole-rotation attempts made (1 = no retry). */
  attempts: number;
  /** Whether the rotated version carried AWSCURRENT when the rotation ended. */
  promoted: boolean;
  /** Injected-clock times (epoch ms). */
  startedAt: number;
  finishedAt: number;
  steps: StepRecord[];
}

export interface RetryPolicy {
  /** Whole-rotation attempts, the first included. */
  readonly maxAttempts: number;
  /** Pause before the second attempt; doubled before each later one. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

interface Sleep {
  readonly done: Promise<void>;
  cancel(): void;
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function lambdaContext(lambdaArn: string, deadline: number): Context {
  const functionName = lambdaArn.split(':')[6] ?? lambdaArn;
  const callbackStyle = () => {
    throw new Error(
      'the emulator runs async handlers only: return a promise instead of using the callback API',
    );
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: lambdaArn,
    memoryLimitInMB: '128',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `emulator/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, Math.floor(deadline - performance.now())),
    done: callbackStyle,
    fail: callbackStyle,
    succeed: callbackStyle,
  };
}

/**
 * Runs the rotations RotateSecret starts, in the background, like the service: the four steps in order,
 * each a separate invocation with its own timeout; a failed step fails the attempt, and the whole
 * rotation is retried ("If any rotation step fails, Secrets Manager retries the entire rotation process
 * multiple times") with the same ClientRequestToken and RotationToken, after a growing pause.
 */
export class RotationRunner {
  readonly log: RotationRecord[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly abandoned = new Set<Promise<void>>();
  private readonly sleeps = new Set<Sleep>();
  private stopped = false;

  constructor(
    private readonly deps: {
      readonly store: SecretStore;
      readonly clock: () => number;
      readonly functions: (lambdaArn: string) => RotationFunction | undefined;
      readonly invocationTimeoutMs: number;
      readonly retry: RetryPolicy;
    },
  ) {}

  get active(): number {
    return this.running.size;
  }

  start(job: RotationJob): void {
    const run = this.run(job);
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  /** Resolves once no rotation runs; with `includeAbandoned`, also once timed-out invocations settled. */
  async whenIdle(includeAbandoned: boolean): Promise<void> {
    for (;;) {
      const pending = [...this.running, ...(includeAbandoned ? this.abandoned : [])];
      if (pending.length === 0) return;
      await Promise.allSettled(pending);
    }
  }

  /** Ends pauses and timeouts at once; running rotations finish as failed without another attempt. */
  stop(): void {
    this.stopped = true;
    for (const sleep of this.sleeps) sleep.cancel();
    this.sleeps.clear();
  }

  private sleep(ms: number): Sleep {
    let resolve: () => void = () => undefined;
    const done = new Promise<void>((r) => {
      resolve = r;
    });
    const timer = setTimeout(() => sleep.cancel(), ms);
    const sleep: Sleep = {
      done,
      cancel: () => {
        clearTimeout(timer);
        this.sleeps.delete(sleep);
        resolve();
      },
    };
    if (this.stopped) sleep.cancel();
    else this.sleeps.add(sleep);
    return sleep;
  }

  private async run(job: RotationJob): Promise<void> {
    // RotateSecret answers first; the steps run afterwards ("the asynchronous process of rotating").
    await new Promise((resolve) => setImmediate(resolve));
    const { store, clock, retry } = this.deps;
    const rotationToken = randomUUID();
    const startedAt = clock();
    const steps = job.mode === 'rotate' ? FOUR_STEPS : (['testSecret'] as const);
    const maxAttempts = job.mode === 'rotate' ? Math.max(1, retry.maxAttempts) : 1;
    const records: StepRecord[] = [];
    let failure: { step?: RotationStep; error: string } | undefined;
    let attempts = 0;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) {
        const pause = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 2));
        await this.sleep(pause).done;
      }
      const stopReason = this.stopped
        ? 'emulator stopped'
        : store.isActiveRotation(job.secretArn, job.versionId)
          ? undefined
          : 'rotation superseded or cancelled';
      if (stopReason) {
        failure = failure
          ? { ...failure, error: `${failure.error} (not retried: ${stopReason})` }
          : { error: `${stopReason} before the first step` };
        break;
      }
      attempts = attempt;
      failure = undefined;
      for (const step of steps) {
        const record = await this.invoke(job, step, rotationToken, attempt);
        records.push(record);
        if (record.outcome !== 'ok') {
          failure = { step, error: record.error ?? record.outcome };
          break;
        }
      }
      if (!failure) break;
    }
    if (job.mode === 'test') store.endTestRotation(job.secretArn, job.versionId);
    else if (failure) store.rotationFailed(job.secretArn, job.versionId);
    else store.rotationSucceeded(job.secretArn, job.versionId);
    this.log.push({
      secretArn: job.secretArn,
      versionId: job.versionId,
      rotationToken,
      lambdaArn: job.lambdaArn,
      mode: job.mode,
      outcome: failure ? 'failed' : 'succeeded',
      ...(failure?.step === undefined ? {} : { failedStep: failure.step }),
      ...(failure ? { error: failure.error } : {}),
      attempts,
      promoted: store.versionIsCurrent(job.secretArn, job.versionId),
      startedAt,
      finishedAt: clock(),
      steps: records,
    });
  }

  private async invoke(
    job: RotationJob,
    step: RotationStep,
    rotationToken: string,
    attempt: number,
  ): Promise<StepRecord> {
    const fn = this.deps.functions(job.lambdaArn);
    if (!fn) {
      return {
        step,
        attempt,
        outcome: 'error',
        error: `ResourceNotFoundException: Function not found: ${job.lambdaArn}`,
        durationMs: 0,
      };
    }
    const timeoutMs = this.deps.invocationTimeoutMs;
    const started = performance.now();
    const event: RotationEvent = {
      Step: step,
      SecretId: job.secretArn,
      ClientRequestToken: job.versionId,
      RotationToken: rotationToken,
    };
    const settled = Promise.resolve()
      .then(() => fn(event, lambdaContext(job.lambdaArn, started + timeoutMs)))
      .then(
        () => ({ ok: true as const }),
        (error: unknown) => ({ ok: false as const, error }),
      );
    const deadline = this.sleep(timeoutMs);
    const outcome = await Promise.race([settled, deadline.done.then(() => 'timeout' as const)]);
    deadline.cancel();
    const durationMs = Math.round(performance.now() - started);
    if (outcome === 'timeout') {
      // Like a frozen container, the function's work goes on in the background; the invocation failed.
      const background = settled.then(() => undefined);
      this.abandoned.add(background);
      void background.finally(() => this.abandoned.delete(background));
      const error = this.stopped
        ? 'emulator stopped during the invocation'
        : `Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`;
      return { step, attempt, outcome: 'timeout', error, durationMs };
    }
    if (!outcome.ok) return { step, attempt, outcome: 'error', error: describe(outcome.error), durationMs };
    return { step, attempt, outcome: 'ok', durationMs };
  }
}
