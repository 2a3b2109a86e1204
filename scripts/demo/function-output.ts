import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Catches what the function writes (Powertools JSON logs on stdout/stderr, EMF metric lines on stdout) so the
 * narration stays readable, and tells which invocation wrote each line. Several invocations run at once (a
 * manual rotation waits while Secrets Manager runs the four steps through the same function), so attribution
 * follows the async context of each invocation rather than the order of lines.
 */

export interface LogEntry {
  readonly kind: 'log';
  readonly level: string;
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

export interface MetricsEntry {
  readonly kind: 'metrics';
  readonly metrics: readonly { readonly name: string; readonly value: unknown; readonly unit?: string }[];
}

export interface TextEntry {
  readonly kind: 'text';
  readonly text: string;
}

export type OutputEntry = LogEntry | MetricsEntry | TextEntry;

interface Sink {
  readonly lines: string[];
  partial: string;
}

type Write = typeof process.stdout.write;

export class FunctionOutputTap {
  readonly #context = new AsyncLocalStorage<Sink>();
  /** Written outside any invocation (module load warnings, stray library output). */
  readonly #outside: Sink = { lines: [], partial: '' };
  /** Every complete line, in the order written: the raw log file. */
  readonly #all: string[] = [];
  #restore: (() => void) | undefined;

  install(): void {
    if (this.#restore !== undefined) return;
    const { stdout, stderr } = process;
    const originalOut = stdout.write;
    const originalErr = stderr.write;
    const tap = ((chunk: unknown, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
      this.#take(this.#context.getStore() ?? this.#outside, text);
      // Writers may pass a completion callback (after an optional encoding); the data is "flushed" here.
      const callback = rest.find((arg): arg is () => void => typeof arg === 'function');
      if (callback !== undefined) queueMicrotask(callback);
      return true;
    }) as Write;
    stdout.write = tap;
    stderr.write = tap;
    this.#restore = () => {
      stdout.write = originalOut;
      stderr.write = originalErr;
    };
  }

  uninstall(): void {
    this.#flush(this.#outside);
    this.#restore?.();
    this.#restore = undefined;
  }

  /** Runs `fn` as one invocation; returns the raw lines it wrote along with its outcome. */
  async capture<T>(
    fn: () => Promise<T>,
  ): Promise<{ lines: readonly string[] } & ({ ok: true; result: T } | { ok: false; error: unknown })> {
    const sink: Sink = { lines: [], partial: '' };
    try {
      const result = await this.#context.run(sink, fn);
      return { lines: this.#flush(sink), ok: true, result };
    } catch (error) {
      return { lines: this.#flush(sink), ok: false, error };
    }
  }

  /** Every raw line the function wrote so far, as CloudWatch Logs would hold them. */
  get allLines(): readonly string[] {
    return this.#all;
  }

  /** Lines written outside any invocation. */
  get outsideLines(): readonly string[] {
    return this.#outside.lines;
  }

  #take(sink: Sink, text: string): void {
    const parts = (sink.partial + text).split('\n');
    sink.partial = parts.pop() ?? '';
    for (const line of parts) this.#keep(sink, line);
  }

  #flush(sink: Sink): readonly string[] {
    if (sink.partial !== '') {
      this.#keep(sink, sink.partial);
      sink.partial = '';
    }
    return sink.lines;
  }

  #keep(sink: Sink, line: string): void {
    if (line.trim() === '') return;
    sink.lines.push(line);
    this.#all.push(line);
  }
}

/** Powertools' standard keys: the same on every line, so not worth a column in the narration. */
const STANDARD_KEYS = new Set(['level', 'message', 'timestamp', 'service', 'sampling_rate', 'xray_trace_id']);

interface EmfDirective {
  readonly Metrics?: readonly { readonly Name: string; readonly Unit?: string }[];
}

/** Reads one raw line: a Powertools log line, an EMF metrics line, or anything else as text. */
export function parseLine(line: string): OutputEntry {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { kind: 'text', text: line };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return { kind: 'text', text: line };
  const record = parsed as Record<string, unknown>;
  const aws = record._aws as { CloudWatchMetrics?: readonly EmfDirective[] } | undefined;
  if (aws?.CloudWatchMetrics !== undefined) {
    const metrics = aws.CloudWatchMetrics.flatMap((directive) =>
      (directive.Metrics ?? []).map(({ Name, Unit }) => ({
        name: Name,
        value: record[Name],
        ...(Unit === undefined ? {} : { unit: Unit }),
      })),
    );
    return { kind: 'metrics', metrics };
  }
  if (typeof record.level === 'string' && typeof record.message === 'string') {
    const fields = Object.fromEntries(Object.entries(record).filter(([key]) => !STANDARD_KEYS.has(key)));
    return { kind: 'log', level: record.level.toLowerCase(), message: record.message, fields };
  }
  return { kind: 'text', text: line };
}
