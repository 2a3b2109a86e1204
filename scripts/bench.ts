/**
 * `npm run bench [-- --runs 25] [--example <dir>] [--json]`
 *
 * Measures, in one run, what DESIGN.md's performance budget and issue 12 promise, against the official example
 * where it can be measured: what ships (the entry a sweep loads, the Momento SDK's chunk), the cold start of the
 * function as the stack ships it (whole-process CPU and peak memory of fresh processes, in rounds paired with
 * the example's), cold first invocations (a sweep that must not load the SDK, a rotation that does), calls per
 * rotation and per sweep, and client reuse across warm invocations. Method and caveats: docs/BENCH.md.
 * Progress goes to stderr; the table (or, with --json, the JSON) to stdout.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  type ClientBundleSizes,
  clientBundleSizes,
  exampleBundles,
  type ShippedFunction,
  shippedFunction,
  total as totalBytes,
} from './bench/bundles';
import { clientConstructions, EXAMPLE_HOW_TO, findExample } from './bench/example';
import { type FunctionResults, measureFunction, sumCalls, total } from './bench/functions';
import { type LoadResult, type LoadVariant, measureLoads } from './bench/loads';
import { buildContainer } from './bench/processes';
import { kib, mb, ms, msPair, pairedRatio, ratio, type Summary } from './bench/stats';
import { type Row, renderTable } from './bench/table';

/** DESIGN.md, "Performance budget", and issue 12. */
const BUDGET = {
  refresh: 1,
  verify: 1,
  secretsManagerPerRotation: 9,
  sweepCpuRatio: 0.65,
  rotationCpuRatio: 1.0,
  sweepRssMb: 64,
  entryBytes: 1024 * 1024,
} as const;
const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '25' },
    example: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(
    'npm run bench [-- --runs N] [--example <dir>] [--json]\n' +
      '  --runs N         fresh processes per timed figure (default 25)\n' +
      '  --example <dir>  the official example, installed (or BENCH_EXAMPLE_DIR)\n' +
      '  --json           machine-readable output on stdout',
  );
  process.exit(0);
}
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 3) {
  console.error(`--runs must be a whole number of at least 3, received ${JSON.stringify(values.runs)}`);
  process.exit(2);
}

const progress = (line: string) => process.stderr.write(`${line}\n`);
const began = performance.now();
/** The 1, 5 and 15 minute load averages: the machine is shared, and its load shifts every absolute figure. */
const loadAverage = () => os.loadavg().map((n) => Number(n.toFixed(2)));
const loadAtStart = loadAverage();
const tmp = await mkdtemp(path.join(os.tmpdir(), 'momento-bench-'));

try {
  const example = await findExample(values.example ?? process.env.BENCH_EXAMPLE_DIR);
  if (!example.found) progress(`example not found (${example.reason}); to compare, ${EXAMPLE_HOW_TO}`);

  progress('building the function and synthesizing the stack');
  const fn = await shippedFunction(path.join(tmp, 'cdk.out'));
  const client = await clientBundleSizes();
  const containerJs = await buildContainer(path.join(tmp, 'container.cjs'));
  const examples = example.found ? await exampleBundles(example.dir, tmp) : [];

  progress(`cold start: ${runs} rounds`);
  const sweepFiles = [fn.entry];
  const rotationFiles = [fn.entry, fn.momentoChunk.file];
  const shipped = fn.nodeOptions === undefined ? {} : { nodeOptions: fn.nodeOptions };
  const maps = '--enable-source-maps';
  const variants: LoadVariant[] = [
    { key: 'bare', files: [] },
    { key: 'sweep', files: sweepFiles, ...shipped },
    { key: 'rotation', files: rotationFiles, ...shipped },
    // For the source-map decision: the same files with the flag, when the stack does not set it.
    ...(fn.nodeOptions?.includes(maps)
      ? []
      : [
          { key: 'sweep+maps', files: sweepFiles, nodeOptions: maps },
          { key: 'rotation+maps', files: rotationFiles, nodeOptions: maps },
        ]),
    ...examples.map((e) => ({ key: `example:${e.name}`, files: [e.file], env: e.env })),
  ];
  const loadBefore = loadAverage();
  const loads = await measureLoads(containerJs, variants, runs, progress);
  const loadAfter = loadAverage();

  progress(`function: ${runs} cold sweeps, ${runs} cold rotations, call counts, client reuse`);
  const measured = await measureFunction({ containerJs, fn, runs, progress });
  const exampleClients = example.found ? await clientConstructions(example.dir) : undefined;

  const seconds = (performance.now() - began) / 1000;
  const meta = {
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpus: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown'}`,
    runs,
    date: new Date().toISOString(),
    seconds: Number(seconds.toFixed(1)),
    loadAverage: {
      start: loadAtStart,
      coldStartBegan: loadBefore,
      coldStartEnded: loadAfter,
      end: loadAverage(),
    },
  };
  const anchorKey = examples[0] === undefined ? undefined : `example:${examples[0].name}`;
  const verdicts = coldStartVerdicts(fn, loads, measured, anchorKey);

  if (values.json) {
    const relative = <T extends { file: string }>(f: T) => ({ ...f, file: path.relative(fn.dir, f.file) });
    const report = {
      meta,
      shipped: {
        handler: fn.handler,
        runtime: fn.runtime,
        nodeOptions: fn.nodeOptions ?? null,
        staticFiles: fn.staticFiles.map(relative),
        momentoChunk: relative(fn.momentoChunk),
        codeBytes: fn.codeBytes,
        mapBytes: fn.mapBytes,
      },
      example: example.found
        ? {
            ...example,
            bundles: examples.map((e) => ({ name: e.name, settings: e.settings, ...e.size })),
            clientConstructions: exampleClients,
          }
        : { ...example, howTo: EXAMPLE_HOW_TO },
      client: { sdksExternal: client.sdksExternal, everythingInside: client.everythingInside },
      coldStart: Object.fromEntries(loads),
      function: measured,
      budget: { ...budgetCheck(measured), coldStart: verdicts },
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const la = (l: number[]) => l.map((n) => n.toFixed(2)).join(' ');
    const header = [
      `momento-token-rotator bench: node ${meta.node}, ${meta.platform}, ${meta.cpus}, ${runs} runs per timed figure`,
      `load average (1/5/15 min): start ${la(meta.loadAverage.start)}; cold-start rounds ${la(loadBefore)} → ` +
        `${la(loadAfter)}; end ${la(meta.loadAverage.end)}`,
      `as shipped (synthesized stack): handler ${fn.handler} → ${path.relative(fn.dir, fn.entry)}, ${fn.runtime}, ` +
        `NODE_OPTIONS ${fn.nodeOptions === undefined ? 'not set' : JSON.stringify(fn.nodeOptions)}`,
      example.found
        ? `example: ${example.dir} (@gomomento/sdk ${example.sdkVersion})`
        : `example: not found (${example.reason}). To compare, ${EXAMPLE_HOW_TO}.`,
      ...examples.map((e, i) => `  example ${e.name}${i === 0 ? ' (the anchor)' : ''}: ${e.settings}`),
    ];
    const rows = tableRows({ fn, client, examples, loads, measured, exampleClients, verdicts });
    process.stdout.write(
      `${header.join('\n')}\n\n${renderTable(rows)}\n\nrun time: ${seconds.toFixed(0)} s\n`,
    );
  }
} finally {
  await rm(tmp, { recursive: true, force: true });
}

interface Verdict {
  readonly measure: string;
  readonly measured: number;
  readonly budget: number;
  readonly ok: boolean;
}

/** Issue 12's cold-start figures; the CPU ratios against the anchor (the example's minified bundle). */
function coldStartVerdicts(
  fn: ShippedFunction,
  loads: Map<string, LoadResult>,
  measured: FunctionResults,
  anchorKey: string | undefined,
): Verdict[] {
  const verdict = (measure: string, value: number, budget: number): Verdict => ({
    measure,
    measured: Number(value.toFixed(3)),
    budget,
    ok: value <= budget,
  });
  const out = [
    verdict('entry file the sweep loads, bytes', fn.staticFiles[0]?.bytes ?? Number.NaN, BUDGET.entryBytes),
    verdict('peak RSS of a cold sweep, MB', measured.coldSweep.maxRssMb.median, BUDGET.sweepRssMb),
  ];
  const anchor = anchorKey === undefined ? undefined : loads.get(anchorKey);
  if (anchor !== undefined) {
    const against = (key: string) => pairedRatio(loads.get(key)?.samples.cpuMs ?? [], anchor.samples.cpuMs);
    out.push(verdict('sweep path cold-start CPU / example', against('sweep'), BUDGET.sweepCpuRatio));
    out.push(verdict('rotation path cold-start CPU / example', against('rotation'), BUDGET.rotationCpuRatio));
  }
  return out;
}

/** Per-step calls of every rotation run, compared: a figure that varied between runs must not pass as one. */
function sameCallsInAllRuns(fn: FunctionResults): boolean {
  const key = (run: readonly { sm: object; momento: object }[]) =>
    JSON.stringify(run.map((step) => [step.sm, step.momento]));
  const first = fn.coldRotation.runs[0] ?? [];
  return fn.coldRotation.runs.every((run) => key(run) === key(first));
}

function budgetCheck(fn: FunctionResults) {
  const run = fn.coldRotation.runs[0] ?? [];
  const sm = total(sumCalls(run.map((s) => s.sm)));
  const momento = sumCalls(run.map((s) => s.momento));
  return {
    secretsManagerPerRotation: { measured: sm, budget: BUDGET.secretsManagerPerRotation },
    refresh: { measured: momento.RefreshApiToken ?? 0, budget: BUDGET.refresh },
    verify: { measured: momento.ListCaches ?? 0, budget: BUDGET.verify },
    sameInAllRuns: sameCallsInAllRuns(fn),
    withinBudget:
      sm <= BUDGET.secretsManagerPerRotation &&
      (momento.RefreshApiToken ?? 0) <= BUDGET.refresh &&
      (momento.ListCaches ?? 0) <= BUDGET.verify,
  };
}

function verdict(measured: number, budget: number): string {
  return measured <= budget ? `budget ${budget}: ok` : `budget ${budget}: OVER by ${measured - budget}`;
}

function tableRows(r: {
  fn: ShippedFunction;
  client: ClientBundleSizes;
  examples: Awaited<ReturnType<typeof exampleBundles>>;
  loads: Map<string, LoadResult>;
  measured: FunctionResults;
  exampleClients: Record<string, string[]> | undefined;
  verdicts: readonly Verdict[];
}): Row[] {
  const { fn, examples, loads, measured } = r;
  const anchor = examples[0];
  const load = (key: string) => loads.get(key);
  const anchorLoad = anchor === undefined ? undefined : load(`example:${anchor.name}`);
  const pair = (s: Summary | undefined) => (s === undefined ? '' : msPair(s));
  const paired = (key: string, base: LoadResult | undefined) => {
    const a = load(key)?.samples.cpuMs;
    return a === undefined || base === undefined ? '' : pairedRatio(a, base.samples.cpuMs).toFixed(2);
  };
  const budgetNote = (measure: string) => {
    const v = r.verdicts.find((x) => x.measure === measure);
    return v === undefined ? '' : `budget ${v.budget}: ${v.ok ? 'ok' : 'OVER'}`;
  };
  const gz = (bytes: number, gzip: number) => `${kib(bytes)} (gzip ${kib(gzip)})`;

  const rows: Row[] = [];
  rows.push({ section: '1. What ships (the staged asset of a synthesized stack; ratio of bytes)' });
  const entry = fn.staticFiles[0];
  rows.push({
    label: '  entry file (the handler)',
    ours: entry === undefined ? '' : gz(entry.bytes, entry.gzipBytes),
    note: `budget < ${kib(BUDGET.entryBytes)}: ${(entry?.bytes ?? Number.POSITIVE_INFINITY) < BUDGET.entryBytes ? 'ok' : 'OVER'}`,
  });
  const anchorSize = anchor?.size;
  rows.push({
    label: `  sweep path: entry + ${fn.staticFiles.length - 1} chunks it imports`,
    ours: gz(totalBytes(fn.staticFiles), totalBytes(fn.staticFiles, 'gzipBytes')),
    example: anchorSize === undefined ? '' : gz(anchorSize.bytes, anchorSize.gzipBytes),
    ratio: anchorSize === undefined ? '' : ratio(totalBytes(fn.staticFiles), anchorSize.bytes),
    note: 'every cold start loads these; the example loads its one bundle',
  });
  rows.push({
    label: '  Momento SDK chunk, loaded on first use',
    ours: gz(fn.momentoChunk.bytes, fn.momentoChunk.gzipBytes),
    note: 'only an invocation that calls Momento imports it',
  });
  rows.push({
    label: '  application helper (momento-token-rotator/client), SDKs external',
    ours: gz(r.client.sdksExternal.bytes, r.client.sdksExternal.gzipBytes),
    note:
      'esbuild, minified: what it adds to an app that has the SDKs; everything inside: ' +
      gz(r.client.everythingInside.bytes, r.client.everythingInside.gzipBytes),
  });
  rows.push({
    label: '  all code in the asset / source maps',
    ours: `${kib(fn.codeBytes)} / ${kib(fn.mapBytes)}`,
    note: 'maps are read only with --enable-source-maps',
  });
  for (const e of examples.slice(1)) {
    rows.push({
      label: `  example ${e.name}`,
      example: gz(e.size.bytes, e.size.gzipBytes),
      note: 'plus @aws-sdk/* from node_modules (the runtime in Lambda)',
    });
  }

  rows.push({
    section:
      '2. Cold start, whole process (fresh node per sample, all variants in each round; CPU = user + system, ' +
      'median / p90; ratio = median of per-round ratios to the anchor)',
  });
  const cpuRow = (label: string, key: string, note: string, budget?: string) => {
    const l = load(key);
    if (l === undefined) return;
    const others = examples
      .slice(1)
      .map((e) => `${paired(key, load(`example:${e.name}`))} vs example ${e.name}`)
      .join('; ');
    rows.push({
      label,
      ours: pair(l.cpu),
      ratio: paired(key, anchorLoad),
      note: [note, `peak RSS ${mb(l.rss)}`, `wall ${ms(l.wall.median)}`, others, budget ?? '']
        .filter((x) => x !== '')
        .join('; '),
    });
  };
  const bare = load('bare');
  if (bare !== undefined) {
    rows.push({
      label: '  bare node process (floor)',
      ours: pair(bare.cpu),
      example: pair(bare.cpu),
      note: `peak RSS ${mb(bare.rss)}: what any Node.js process costs`,
    });
  }
  for (const e of examples) {
    const l = load(`example:${e.name}`);
    if (l === undefined) continue;
    rows.push({
      label: `  example, ${e.name}`,
      example: pair(l.cpu),
      ratio: paired(`example:${e.name}`, anchorLoad),
      note: `peak RSS ${mb(l.rss)}; wall ${ms(l.wall.median)}`,
    });
  }
  cpuRow(
    '  ours, sweep path, as shipped',
    'sweep',
    'entry + its static chunks',
    budgetNote('sweep path cold-start CPU / example'),
  );
  cpuRow(
    '  ours, rotation path, as shipped',
    'rotation',
    '+ the Momento SDK chunk',
    budgetNote('rotation path cold-start CPU / example'),
  );
  cpuRow('  ours, sweep path, --enable-source-maps', 'sweep+maps', 'the flag the stack no longer sets');
  cpuRow('  ours, rotation path, --enable-source-maps', 'rotation+maps', 'the flag the stack no longer sets');

  const sweep = measured.coldSweep;
  const rot = measured.coldRotation;
  rows.push({
    section: '3. Cold first invocation (fresh process each; emulators on 127.0.0.1; median / p90)',
  });
  rows.push({
    label: '  sweep, nothing due: load + invoke',
    ours: pair(sweep.firstInvocationMs),
    example: examples.length > 0 ? 'no sweep' : '',
    note: `load ${pair(sweep.loadMs)}; the invocation ${pair(sweep.invokeMs)}`,
  });
  rows.push({
    label: '    whole process: CPU, peak RSS',
    ours: `${pair(sweep.cpuMs)}, ${mb(sweep.maxRssMb)}`,
    note: budgetNote('peak RSS of a cold sweep, MB').replace('budget', 'RSS budget'),
  });
  rows.push({
    label: '    Momento SDK evaluated?',
    ours:
      measured.activity.sweep.momentoFunctionsRun === 0
        ? 'no'
        : `YES (${measured.activity.sweep.momentoFunctionsRun})`,
    note: `V8 coverage: ${measured.activity.sweep.filesLoaded} files of the function loaded, ${measured.activity.sweep.functionsRun} functions run, ${measured.activity.sweep.momentoFunctionsRun} of them in the SDK chunk`,
  });
  rows.push({
    label: '  rotate now: load + 4 steps',
    ours: pair(rot.loadAndStepsMs),
    example: examples.length > 0 ? 'not measurable' : '',
    note: `load ${pair(rot.loadMs)}; createSecret (SDK import, first connections, refresh, write) ${pair(rot.createSecretMs)}`,
  });
  rows.push({
    label: '    whole process: CPU, peak RSS',
    ours: `${pair(rot.cpuMs)}, ${mb(rot.maxRssMb)}`,
  });
  rows.push({
    label: '    Momento SDK evaluated?',
    ours: measured.activity.rotation.momentoFunctionsRun > 0 ? 'yes' : 'NO (method broken?)',
    note: `V8 coverage: ${measured.activity.rotation.filesLoaded} files loaded, ${measured.activity.rotation.momentoFunctionsRun} functions run in the SDK chunk`,
  });

  const first = rot.runs[0] ?? [];
  const consistent = sameCallsInAllRuns(measured);
  const smCalls = sumCalls(first.map((s) => s.sm));
  const momentoCalls = sumCalls(first.map((s) => s.momento));
  const smTotal = total(smCalls);
  rows.push({
    section: `4. Calls per rotation (RotateSecret → 4 steps; the function's own calls; ${consistent ? `same in all ${rot.runs.length} runs` : 'VARIED between runs, see --json'})`,
  });
  rows.push({
    label: '  Secrets Manager, the four steps on one container',
    ours: String(smTotal),
    note: verdict(smTotal, BUDGET.secretsManagerPerRotation),
  });
  rows.push({
    label: `    ${STEPS.join(' / ')}`,
    ours: STEPS.map((step) => total(first.find((s) => s.step === step)?.sm ?? {})).join(' / '),
  });
  rows.push({
    label: '    by operation',
    note: Object.entries(smCalls)
      .map(([op, n]) => `${op} ${n}`)
      .join(', '),
  });
  const perStep = measured.containerPerStep;
  const perStepCalls = sumCalls(perStep.map((s) => s.sm));
  const perStepTotal = total(perStepCalls);
  rows.push({
    label: '  Secrets Manager, a fresh container per step',
    ours: String(perStepTotal),
    note: `${verdict(perStepTotal, BUDGET.secretsManagerPerRotation)}; nothing remembered between steps`,
  });
  rows.push({
    label: `    ${STEPS.join(' / ')}`,
    ours: STEPS.map((step) => total(perStep.find((s) => s.step === step)?.sm ?? {})).join(' / '),
    note: Object.entries(perStepCalls)
      .map(([op, n]) => `${op} ${n}`)
      .join(', '),
  });
  rows.push({
    label: '  Momento RefreshApiToken',
    ours: String(momentoCalls.RefreshApiToken ?? 0),
    note: verdict(momentoCalls.RefreshApiToken ?? 0, BUDGET.refresh),
  });
  rows.push({
    label: '  Momento ListCaches (verify)',
    ours: String(momentoCalls.ListCaches ?? 0),
    note: verdict(momentoCalls.ListCaches ?? 0, BUDGET.verify),
  });
  const otherMomento = Object.entries(momentoCalls).filter(
    ([m]) => m !== 'RefreshApiToken' && m !== 'ListCaches',
  );
  if (otherMomento.length > 0) {
    rows.push({
      label: '  Momento, other calls',
      ours: otherMomento.map(([m, n]) => `${m} ${n}`).join(', '),
    });
  }

  rows.push({ section: '5. Sweep where nothing is due: Secrets Manager calls' });
  rows.push({
    label: `  ${measured.sweepCost.map((s) => s.secrets).join(' / ')} secrets`,
    ours: measured.sweepCost.map((s) => s.total).join(' / '),
    example: examples.length > 0 ? 'no sweep' : '',
    note:
      `design N/7: ${measured.sweepCost.map((s) => (s.secrets / 7).toFixed(1)).join(' / ')}; ` +
      `per-secret reads 2N: ${measured.sweepCost.map((s) => 2 * s.secrets).join(' / ')}`,
  });
  for (const s of measured.sweepCost) {
    rows.push({
      label: `    ${s.secrets} secret${s.secrets === 1 ? '' : 's'}`,
      ours: String(s.total),
      note: `${Object.entries(s.calls)
        .map(([op, n]) => `${op} ${n}`)
        .join(', ')}; cold invocation ${ms(s.invokeMs)}`,
    });
  }

  rows.push({ section: '6. Clients per container (new TCP connections, counted by a proxy)' });
  rows.push({
    label: '  Secrets Manager: cold sweep, 3 warm',
    ours: measured.clients.smConnectionsPerSweep.join(', '),
    note: 'none on warm invocations: one client (and its keep-alive pool) per container',
  });
  rows.push({
    label: '  2 warm rotations: SM / Momento',
    ours: measured.clients.rotations.map((x) => `${x.sm} / ${x.momento}`).join(', '),
    note: `new Momento connections by step: ${measured.clients.rotations
      .map((x) =>
        Object.entries(x.momentoBySteps)
          .map(([step, n]) => `${step} ${n}`)
          .join(' + '),
      )
      .join(', then ')}. Momento clients are built per call (each is bound to its key)`,
  });
  if (r.exampleClients !== undefined) {
    const where = (...names: string[]) =>
      [...new Set(names.flatMap((name) => r.exampleClients?.[name] ?? []))].join(', ') || 'not found';
    rows.push({
      label: '  example: SecretsManager, CloudWatch',
      example: 'new per invocation',
      note: `built in ${where('SecretsManager', 'CloudWatch')}, called from new ProcessTokenRefresh() per event`,
    });
    rows.push({
      label: '  example: AuthClient, CacheClient',
      example: 'new per call',
      note: `built in ${where('AuthClient', 'CacheClient')}: one per refresh and per key check, never closed`,
    });
  }
  return rows;
}
