/**
 * The child process of the benchmark: a stand-in for one Lambda container. The bench compiles this file to
 * plain CommonJS (bundles.ts, buildContainer) so that a child carries no TypeScript loader; the only code it
 * runs before the measured load is this file.
 *
 *   node container.cjs load <entry> [<module>...]   load the entry (then each module: a lazily imported
 *                                                   chunk, to time a path that needs it), print
 *                                                   {"loadMs","usage"} and exit
 *   node container.cjs serve <entry>                load the entry, then answer invocations sent over IPC
 *   node container.cjs bare                         print {"loadMs":0,"usage"} and exit: the floor
 *
 * An `.mjs` entry is loaded with `import()`, as Lambda's Node.js runtime loads an ES module handler; anything
 * else with `require`. `usage` is the whole process's CPU time (user + system, Node's own start included) and
 * peak resident memory, read when the work is done: what a cold start costs the host.
 *
 * With BENCH_COVERAGE=1, V8 precise coverage is started before the entry is loaded, so that the bench (and the
 * end-to-end test of the built function) can tell afterwards which of the function's files were loaded and ran:
 * whether the Momento SDK's chunk was ever evaluated. Coverage slows execution down: the bench never times a
 * child that collects it.
 */
import { readFileSync } from 'node:fs';
import type { Session } from 'node:inspector/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type ToChild =
  | { readonly type: 'invoke'; readonly id: number; readonly event: unknown; readonly remainingMs: number }
  | { readonly type: 'coverage' }
  | { readonly type: 'exit' };

/** A file of the function that was loaded: its functions, and how many of them ran. */
export interface LoadedFile {
  readonly file: string;
  readonly functions: number;
  readonly executed: number;
}

/** The process so far: CPU in ms (user + system, all threads), peak resident set in KiB. */
export interface ProcessUsage {
  readonly cpuMs: number;
  readonly userMs: number;
  readonly systemMs: number;
  readonly maxRssKb: number;
}

export type FromChild =
  | { readonly type: 'loaded'; readonly loadMs: number; readonly usage: ProcessUsage }
  | {
      readonly type: 'result';
      readonly id: number;
      readonly ok: boolean;
      readonly durationMs: number;
      readonly result?: unknown;
      readonly error?: string;
      /** The process after this invocation. */
      readonly usage: ProcessUsage;
    }
  | { readonly type: 'coverage'; readonly files: readonly LoadedFile[] };

type Handler = (event: unknown, context: { getRemainingTimeInMillis(): number }) => Promise<unknown>;

const [mode, bundle, ...thenLoad] = process.argv.slice(2);

function usage(): ProcessUsage {
  const { user, system } = process.cpuUsage();
  return {
    cpuMs: (user + system) / 1000,
    userMs: user / 1000,
    systemMs: system / 1000,
    maxRssKb: peakRssKb(),
  };
}

/**
 * Linux keeps getrusage's peak RSS across exec, so a child spawned by a large parent would report the parent's
 * peak: /proc's VmHWM belongs to the new program's memory alone. Elsewhere, getrusage is all there is.
 */
function peakRssKb(): number {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
    if (kb !== undefined) return Number(kb);
  } catch {
    // Not Linux: fall through.
  }
  return process.resourceUsage().maxRSS;
}

async function load(file: string): Promise<{ handler?: Handler }> {
  if (file.endsWith('.mjs')) return (await import(pathToFileURL(file).href)) as { handler?: Handler };
  return require(file) as { handler?: Handler };
}

function send(message: FromChild): void {
  process.send?.(message);
}

async function startCoverage(): Promise<Session | undefined> {
  if (process.env.BENCH_COVERAGE !== '1') return undefined;
  // Loaded only here: a timed child should run nothing but this file and the bundle.
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  // Function granularity is enough: the question is which functions ran, not which branches.
  await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
  return session;
}

/** The files of the function (the entry's directory) that V8 compiled, with how many of their functions ran. */
async function takeCoverage(session: Session | undefined, entry: string): Promise<FromChild> {
  if (session === undefined) return { type: 'coverage', files: [] };
  const { result } = await session.post('Profiler.takePreciseCoverage');
  const dir = `${pathToFileURL(path.dirname(entry)).href}/`;
  const files: LoadedFile[] = [];
  for (const script of result) {
    const url = script.url.startsWith('file:') ? script.url : pathToFileURL(script.url).href;
    if (!url.startsWith(dir)) continue;
    // The first range of a function is the function itself; later ones (if any) are its blocks.
    const executed = script.functions.filter((fn) => (fn.ranges[0]?.count ?? 0) > 0).length;
    files.push({ file: fileURLToPath(url), functions: script.functions.length, executed });
  }
  return { type: 'coverage', files };
}

async function main(): Promise<void> {
  if (mode === 'bare') {
    // What a Node.js process costs before any function code: the floor under every other figure.
    process.stdout.write(`${JSON.stringify({ loadMs: 0, usage: usage() })}\n`);
    process.exit(0);
  }
  if (bundle === undefined || (mode !== 'load' && mode !== 'serve')) {
    throw new Error('usage: container.cjs load <entry> [<module>...] | serve <entry> | bare');
  }
  const session = await startCoverage();
  const started = performance.now();
  const mod = await load(bundle);
  for (const file of thenLoad) await load(file);
  const loadMs = performance.now() - started;

  if (mode === 'load') {
    process.stdout.write(`${JSON.stringify({ loadMs, usage: usage() })}\n`);
    // Explicit exit: the wall-clock figure must not wait for whatever the module may have left scheduled.
    process.exit(0);
  }

  const handler = mod.handler;
  if (typeof handler !== 'function') throw new Error(`${bundle} exports no handler function`);
  // The bench going away (crash, Ctrl-C) must not leave containers behind.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: ToChild) => {
    if (message.type === 'exit') process.exit(0);
    if (message.type === 'coverage') {
      void takeCoverage(session, bundle).then(send);
      return;
    }
    const begun = performance.now();
    const context = {
      getRemainingTimeInMillis: () => Math.floor(message.remainingMs - (performance.now() - begun)),
    };
    handler(message.event, context).then(
      (result) =>
        send({
          type: 'result',
          id: message.id,
          ok: true,
          durationMs: performance.now() - begun,
          result,
          usage: usage(),
        }),
      (error: unknown) =>
        send({
          type: 'result',
          id: message.id,
          ok: false,
          durationMs: performance.now() - begun,
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
          usage: usage(),
        }),
    );
  });
  send({ type: 'loaded', loadMs, usage: usage() });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `container: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
