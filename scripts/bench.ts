/**
 * `npm run bench [-- --runs 15] [--example <dir>] [--json]`
 *
 * Measures, in one run, what DESIGN.md's performance budget promises, against the official example where it
 * can be measured: bundle size and the Momento SDK's share of it, cold module load, cold first invocations
 * (a sweep that must not load the SDK, and a rotation that does), calls per rotation and per sweep, and client
 * reuse across warm invocations. Method and caveats: docs/BENCH.md. Progress goes to stderr; the table (or,
 * with --json, the JSON) to stdout.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type Bundle, buildBundle, buildContainer, REPO_ROOT, stackBundlingOptions } from './bench/bundles';
import { clientConstructions, EXAMPLE_HOW_TO, findExample } from './bench/example';
import { type FunctionResults, measureFunction, sumCalls, total } from './bench/functions';
import { type LoadResult, type LoadVariant, measureLoads } from './bench/loads';
import { kib, minus, ms, msPair, percent, ratio, type Summary, summarise } from './bench/stats';
import { type Row, renderTable } from './bench/table';

/** DESIGN.md, "Performance budget". */
const BUDGET = { refresh: 1, verify: 1, secretsManagerPerRotation: 9 } as const;
const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    example: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(
    'npm run bench [-- --runs N] [--example <dir>] [--json]\n' +
      '  --runs N         fresh processes per timed figure (default 15)\n' +
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
// Other work on the machine (a test run in another checkout) shifts every figure: recorded so a reader can judge.
const loadAtStart = os.loadavg()[0] ?? 0;
const tmp = await mkdtemp(path.join(os.tmpdir(), 'momento-bench-'));

try {
  const stack = await stackBundlingOptions();
  for (const warning of stack.warnings) progress(`warning: ${warning}`);
  const example = await findExample(values.example ?? process.env.BENCH_EXAMPLE_DIR);
  if (!example.found) progress(`example not found (${example.reason}); to compare, ${EXAMPLE_HOW_TO}`);

  progress('bundling');
  const containerJs = await buildContainer(path.join(tmp, 'container.cjs'));
  const out = (name: string) => path.join(tmp, name, 'index.js');
  const ours = await buildBundle(
    { name: 'ours', workDir: REPO_ROOT, entry: { file: 'src/handler.ts' }, outFile: out('ours') },
    stack,
  );
  const sdkAlone = await buildBundle(
    {
      name: 'momento-sdk-alone',
      workDir: REPO_ROOT,
      entry: { contents: "module.exports = require('@gomomento/sdk');" },
      outFile: out('sdk'),
    },
    stack,
  );
  const oursWithoutSdk = await buildBundle(
    {
      name: 'ours-sdk-external',
      workDir: REPO_ROOT,
      entry: { file: 'src/handler.ts' },
      outFile: out('ours-sdk-external'),
      external: ['@gomomento/sdk'],
    },
    stack,
  );
  const theirs = example.found
    ? await buildBundle(
        { name: 'example', workDir: example.dir, entry: { file: example.entry }, outFile: out('example') },
        stack,
      )
    : undefined;

  progress(`cold module load: ${runs} rounds`);
  const maps = '--enable-source-maps';
  const variants: LoadVariant[] = [
    { key: 'bare' },
    { key: 'ours', bundle: ours },
    { key: 'ours+maps', bundle: ours, nodeOptions: maps },
    { key: 'sdk', bundle: sdkAlone },
    { key: 'ours-sdk-external', bundle: oursWithoutSdk },
    ...(theirs === undefined
      ? []
      : [
          { key: 'example', bundle: theirs },
          { key: 'example+maps', bundle: theirs, nodeOptions: maps },
        ]),
  ];
  const loads = await measureLoads(containerJs, variants, runs, progress);

  progress(`function: ${runs} cold sweeps, ${runs} cold rotations, call counts, client reuse`);
  const fn = await measureFunction({ containerJs, bundle: ours, runs, progress });
  const exampleClients = example.found ? await clientConstructions(example.dir) : undefined;

  const seconds = (performance.now() - began) / 1000;
  const meta = {
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpus: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown'}`,
    runs,
    date: new Date().toISOString(),
    seconds: Number(seconds.toFixed(1)),
    loadAverage1m: { start: loadAtStart, end: os.loadavg()[0] ?? 0 },
  };

  if (values.json) {
    const bundleJson = (b: Bundle | undefined) =>
      b === undefined
        ? undefined
        : {
            bytes: b.bytes,
            mapBytes: b.mapBytes,
            momentoOnlyBytes: b.momento.bytes,
            momentoOnlyPackages: b.momento.packages,
            momentoAndGrpcBytes: b.momentoAndGrpcBytes,
          };
    const report = {
      meta,
      stackBundling: { notes: stack.notes, warnings: stack.warnings },
      example: example.found
        ? { ...example, clientConstructions: exampleClients }
        : { ...example, howTo: EXAMPLE_HOW_TO },
      bundles: {
        ours: bundleJson(ours),
        example: bundleJson(theirs),
        momentoSdkAlone: bundleJson(sdkAlone),
        oursSdkExternal: bundleJson(oursWithoutSdk),
      },
      coldModuleLoad: Object.fromEntries(loads),
      function: fn,
      budget: budgetCheck(fn),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const header = [
      `momento-token-rotator bench: node ${meta.node}, ${meta.platform}, ${meta.cpus}, ${runs} runs per timed figure`,
      `load average (1 min) at start / end: ${meta.loadAverage1m.start.toFixed(2)} / ${meta.loadAverage1m.end.toFixed(2)}`,
      `stack bundling (lib/momento-key-rotator.ts): ${stack.notes.join('; ')}`,
      example.found
        ? `example: ${example.dir} (@gomomento/sdk ${example.sdkVersion})`
        : `example: not found (${example.reason}). To compare, ${EXAMPLE_HOW_TO}.`,
    ];
    const rows = tableRows({ ours, theirs, sdkAlone, oursWithoutSdk, loads, fn, exampleClients });
    process.stdout.write(
      `${header.join('\n')}\n\n${renderTable(rows)}\n\nrun time: ${seconds.toFixed(0)} s\n`,
    );
  }
} finally {
  await rm(tmp, { recursive: true, force: true });
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
  ours: Bundle;
  theirs: Bundle | undefined;
  sdkAlone: Bundle;
  oursWithoutSdk: Bundle;
  loads: Map<string, LoadResult>;
  fn: FunctionResults;
  exampleClients: Record<string, string[]> | undefined;
}): Row[] {
  const { ours, theirs, loads, fn } = r;
  const load = (key: string) => loads.get(key);
  const pair = (s: Summary | undefined) => (s === undefined ? '' : msPair(s));
  const cmp = (a: Summary | undefined, b: Summary | undefined) =>
    a === undefined || b === undefined ? '' : ratio(a.median, b.median);
  // Two variants ran in the same rounds: the median of per-round differences is steadier than a difference
  // of medians when the machine's load drifts during the run.
  const extra = (key: string, base: string) => {
    const a = load(key)?.samples.requireMs;
    const b = load(base)?.samples.requireMs;
    return a === undefined || b === undefined ? Number.NaN : summarise(minus(a, b)).median;
  };
  const share = (b: Bundle) => `${kib(b.momento.bytes)} (${percent(b.momento.bytes, b.bytes)})`;
  const notMeasurable = theirs === undefined ? '' : 'not measurable';

  const rows: Row[] = [];
  rows.push({ section: '1. Bundle size (esbuild with the stack options; ratio of bytes)' });
  rows.push({
    label: '  bundle',
    ours: kib(ours.bytes),
    example: theirs ? kib(theirs.bytes) : '',
    ratio: theirs ? ratio(ours.bytes, theirs.bytes) : '',
    note: `source map beside it: ${kib(ours.mapBytes)}`,
  });
  rows.push({
    label: '  Momento SDK + its deps',
    ours: share(ours),
    example: theirs ? share(theirs) : '',
    ratio: theirs ? ratio(ours.momento.bytes, theirs.momento.bytes) : '',
    note: 'modules reachable only through @gomomento/sdk (metafile)',
  });
  rows.push({
    label: '    of which @gomomento/* + @grpc/*',
    ours: kib(ours.momentoAndGrpcBytes),
    example: theirs ? kib(theirs.momentoAndGrpcBytes) : '',
    ratio: theirs ? ratio(ours.momentoAndGrpcBytes, theirs.momentoAndGrpcBytes) : '',
  });

  rows.push({ section: '2. Cold module load (fresh node per sample; median / p90; ratio of medians)' });
  rows.push({
    label: '  require(bundle), timed in the child',
    ours: pair(load('ours')?.require),
    example: pair(load('example')?.require),
    ratio: cmp(load('ours')?.require, load('example')?.require),
  });
  rows.push({
    label: '  process spawn→exit minus bare node',
    ours: pair(load('ours')?.wallOverBare),
    example: pair(load('example')?.wallOverBare),
    ratio: cmp(load('ours')?.wallOverBare, load('example')?.wallOverBare),
    note: `bare \`node -e ""\` spawn→exit: ${pair(load('bare')?.wall)}`,
  });
  rows.push({
    label: '  require, NODE_OPTIONS=--enable-source-maps',
    ours: pair(load('ours+maps')?.require),
    example: pair(load('example+maps')?.require),
    ratio: cmp(load('ours+maps')?.require, load('example+maps')?.require),
    note: `as deployed (the stack sets this NODE_OPTIONS): ${ms(extra('ours+maps', 'ours'))} more for ours`,
  });
  rows.push({
    label: '  Momento SDK alone, require',
    ours: pair(load('sdk')?.require),
    note: `bundled alone with the same options (${kib(r.sdkAlone.bytes)}): what an eager import adds to every start`,
  });
  rows.push({
    label: '  ours with the SDK outside the bundle',
    ours: pair(load('ours-sdk-external')?.require),
    note:
      `what-if, SDK external (${kib(r.oursWithoutSdk.bytes)}): carrying the SDK unevaluated costs ` +
      `${ms(extra('ours', 'ours-sdk-external'))} (parse)`,
  });

  const sweep = fn.coldSweep;
  const rot = fn.coldRotation;
  rows.push({
    section: '3. Cold first invocation (fresh process each; emulators on 127.0.0.1; median / p90)',
  });
  rows.push({
    label: '  sweep, nothing due: require + invoke',
    ours: pair(sweep.firstInvocationMs),
    example: notMeasurable,
    note: `require ${pair(sweep.loadMs)}; the invocation ${pair(sweep.invokeMs)}`,
  });
  rows.push({
    label: '    Momento SDK evaluated?',
    ours: fn.activity.sweep.momento === 0 ? 'no' : `YES (${fn.activity.sweep.momento})`,
    note: `V8 coverage: ${fn.activity.sweep.momento} of ${fn.activity.sweep.executed} functions run came from SDK-only modules`,
  });
  rows.push({
    label: '  rotate now: require + 4 steps',
    ours: pair(rot.loadAndStepsMs),
    example: notMeasurable,
    note:
      `require ${pair(rot.loadMs)}; createSecret (SDK import, first connections, refresh, write) ` +
      pair(rot.createSecretMs),
  });
  rows.push({
    label: '    Momento SDK evaluated?',
    ours: fn.activity.rotation.momento > 0 ? 'yes' : 'NO (method broken?)',
    note: `V8 coverage: ${fn.activity.rotation.momento} of ${fn.activity.rotation.executed} functions run came from SDK-only modules`,
  });

  const first = rot.runs[0] ?? [];
  const consistent = sameCallsInAllRuns(fn);
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
  const perStep = fn.containerPerStep;
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
    label: `  ${fn.sweepCost.map((s) => s.secrets).join(' / ')} secrets`,
    ours: fn.sweepCost.map((s) => s.total).join(' / '),
    example: theirs ? 'no sweep' : '',
    note:
      `design N/7: ${fn.sweepCost.map((s) => (s.secrets / 7).toFixed(1)).join(' / ')}; ` +
      `per-secret reads 2N: ${fn.sweepCost.map((s) => 2 * s.secrets).join(' / ')}`,
  });
  for (const s of fn.sweepCost) {
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
    ours: fn.clients.smConnectionsPerSweep.join(', '),
    note: 'none on warm invocations: one client (and its keep-alive pool) per container',
  });
  rows.push({
    label: '  2 warm rotations: SM / Momento',
    ours: fn.clients.rotations.map((x) => `${x.sm} / ${x.momento}`).join(', '),
    note: `new Momento connections by step: ${fn.clients.rotations
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
