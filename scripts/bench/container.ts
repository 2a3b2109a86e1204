/**
 * The child process of the benchmark: a stand-in for one Lambda container. The bench compiles this file to
 * plain CommonJS (bundles.ts, buildContainer) so that a child carries no TypeScript loader; the only code it
 * runs before the measured `require` is this file.
 *
 *   node container.cjs load <bundle>    require the bundle, print {"loadMs"} and exit
 *   node container.cjs serve <bundle>   require the bundle, then answer invocations sent over the IPC channel
 *
 * With BENCH_COVERAGE=1, V8 precise coverage is started before the bundle is required, so that the bench can
 * tell afterwards which of the bundle's functions ran (and so whether the Momento SDK was ever evaluated).
 * Coverage slows execution down: the bench never times a child that collects it.
 */
import type { Session } from 'node:inspector/promises';
import { pathToFileURL } from 'node:url';

export type ToChild =
  | { readonly type: 'invoke'; readonly id: number; readonly event: unknown; readonly remainingMs: number }
  | { readonly type: 'coverage' }
  | { readonly type: 'exit' };

export interface ExecutedFunction {
  readonly start: number;
  readonly end: number;
}

export type FromChild =
  | { readonly type: 'loaded'; readonly loadMs: number }
  | {
      readonly type: 'result';
      readonly id: number;
      readonly ok: boolean;
      readonly durationMs: number;
      readonly result?: unknown;
      readonly error?: string;
    }
  | {
      readonly type: 'coverage';
      readonly functions: number;
      readonly executed: readonly ExecutedFunction[];
    };

type Handler = (event: unknown, context: { getRemainingTimeInMillis(): number }) => Promise<unknown>;

const [mode, bundle] = process.argv.slice(2);

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

async function takeCoverage(session: Session | undefined, file: string): Promise<FromChild> {
  if (session === undefined) return { type: 'coverage', functions: 0, executed: [] };
  const { result } = await session.post('Profiler.takePreciseCoverage');
  const url = pathToFileURL(file).href;
  const script = result.find((entry) => entry.url === url || entry.url === file);
  const executed: ExecutedFunction[] = [];
  for (const fn of script?.functions ?? []) {
    // The first range of a function is the function itself; later ones (if any) are its blocks.
    const own = fn.ranges[0];
    if (own !== undefined && own.count > 0) executed.push({ start: own.startOffset, end: own.endOffset });
  }
  return { type: 'coverage', functions: script?.functions.length ?? 0, executed };
}

async function main(): Promise<void> {
  if (bundle === undefined || (mode !== 'load' && mode !== 'serve')) {
    throw new Error('usage: container.cjs load|serve <bundle>');
  }
  const session = await startCoverage();
  const started = performance.now();
  const mod = require(bundle) as { handler?: Handler };
  const loadMs = performance.now() - started;

  if (mode === 'load') {
    process.stdout.write(`${JSON.stringify({ loadMs })}\n`);
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
        send({ type: 'result', id: message.id, ok: true, durationMs: performance.now() - begun, result }),
      (error: unknown) =>
        send({
          type: 'result',
          id: message.id,
          ok: false,
          durationMs: performance.now() - begun,
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        }),
    );
  });
  send({ type: 'loaded', loadMs });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `container: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
