/** Fresh node processes for the benchmark: one-shot timed loads, and long-lived "containers" over IPC. */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { build } from 'esbuild';
import type { FromChild, LoadedFile, ProcessUsage, ToChild } from './container';

/** The child program (scripts/bench/container.ts) as plain CommonJS, so children run without tsx's loader. */
export async function buildContainer(outFile: string): Promise<string> {
  await build({
    entryPoints: [path.join(import.meta.dirname, 'container.ts')],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'error',
  });
  return outFile;
}

/**
 * The environment of every child, built from nothing rather than inherited: NODE_EXTRA_CA_CERTS (set on this
 * machine) costs ~37 ms per Node 20 start, NODE_OPTIONS could carry a loader, and Lambda gives a function a
 * small, known environment too. NODE_NO_WARNINGS silences the AWS SDK's "Node 20 support ends" warning, which
 * Lambda's Node 24 runtime never prints.
 */
export function childEnv(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_NO_WARNINGS: '1', ...extra };
}

export interface TimedRun {
  /** Spawn to exit, measured by the parent. */
  readonly wallMs: number;
  readonly stdout: string;
}

export function timeProcess(args: readonly string[], env: Record<string, string>): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      if (code === 0) resolve({ wallMs, stdout });
      else reject(new Error(`node ${args.join(' ')} exited with ${code}: ${stderr.slice(-2000)}`));
    });
  });
}

export interface InvokeResult {
  readonly ok: boolean;
  readonly durationMs: number;
  readonly result?: unknown;
  readonly error?: string;
  /** The child process after the invocation (absent when the child died). */
  readonly usage?: ProcessUsage;
}

export interface CoverageReport {
  readonly files: readonly LoadedFile[];
}

const START_TIMEOUT_MS = 20_000;

/** A fresh process that has loaded the function's entry and answers invocations: one cold Lambda container. */
export class Container {
  #nextId = 1;
  readonly #pending = new Map<number, (result: InvokeResult) => void>();
  #coverage: ((report: CoverageReport) => void) | undefined;

  private constructor(
    private readonly child: ChildProcess,
    /** The tail of the function's stdout and stderr, kept for error messages. */
    private readonly log: { tail: string },
    /** Loading the entry, inside the child. */
    readonly loadMs: number,
    /** The child process once the entry was loaded. */
    readonly loadUsage: ProcessUsage,
    /** Spawn until the child reported the bundle loaded, measured by the parent. */
    readonly startMs: number,
  ) {
    child.on('message', (message: FromChild) => {
      if (message.type === 'result') {
        this.#pending.get(message.id)?.(message);
        this.#pending.delete(message.id);
      } else if (message.type === 'coverage') {
        this.#coverage?.(message);
      }
    });
    child.on('exit', (code) => {
      for (const settle of this.#pending.values()) {
        settle({ ok: false, durationMs: 0, error: `container exited (${code}): ${log.tail.slice(-1000)}` });
      }
      this.#pending.clear();
    });
  }

  static start(containerJs: string, bundle: string, env: Record<string, string>): Promise<Container> {
    return new Promise((resolve, reject) => {
      const started = performance.now();
      // stdout is the function's log stream (JSON logs, EMF metrics): drained like Lambda's, kept for errors.
      const child = spawn(process.execPath, [containerJs, 'serve', bundle], {
        env,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
      const log = { tail: '' };
      const keep = (chunk: string) => {
        log.tail = (log.tail + chunk).slice(-8000);
      };
      child.stdout?.setEncoding('utf8').on('data', keep);
      child.stderr?.setEncoding('utf8').on('data', keep);
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(`container did not load ${bundle} within ${START_TIMEOUT_MS} ms: ${log.tail}`));
      }, START_TIMEOUT_MS);
      child.once('message', (message: FromChild) => {
        clearTimeout(timer);
        if (message.type !== 'loaded') {
          reject(new Error(`unexpected first message ${message.type}`));
          return;
        }
        resolve(new Container(child, log, message.loadMs, message.usage, performance.now() - started));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`container exited (${code}) before loading: ${log.tail}`));
      });
    });
  }

  invoke(event: unknown, remainingMs = 180_000): Promise<InvokeResult> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#send({ type: 'invoke', id, event, remainingMs });
    });
  }

  coverage(): Promise<CoverageReport> {
    return new Promise((resolve) => {
      this.#coverage = resolve;
      this.#send({ type: 'coverage' });
    });
  }

  /** The tail of the function's logs, for error messages. */
  get output(): string {
    return this.log.tail;
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.#send({ type: 'exit' });
    });
  }

  #send(message: ToChild): void {
    this.child.send(message);
  }
}
