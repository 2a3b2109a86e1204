/**
 * Measures that run the function: the bundle in fresh child processes ("containers", see container.ts),
 * against the local Secrets Manager and Momento emulators running in this process, through the real AWS and
 * Momento SDKs inside the bundle, over sockets on 127.0.0.1.
 *
 * Rotation steps: RotateSecret makes the Secrets Manager emulator invoke the rotation function in process
 * (`rotationFunctions(arn)`). Here that function forwards each step over IPC to the current child, which runs
 * it with the bundle's handler, as Lambda forwards an invocation to a container. So the code that loads the
 * Momento SDK and calls Momento is the child's, and its first invocation is cold.
 */
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { LocalAws } from '../../test/support/local-aws';
import type { ShippedFunction } from './bundles';
import type { ProcessUsage } from './container';
import { Container, type CoverageReport, childEnv, type InvokeResult } from './processes';
import { type CountingProxy, startCountingProxy } from './proxy';
import { type Summary, summarise } from './stats';

const DAY = 86_400;
/** Lambda's limit as the stack deploys it (lib/: 3 minutes); the engine budgets its refresh from it. */
const INVOCATION_MS = 180_000;

export type Calls = Record<string, number>;

interface Snapshot {
  readonly sm: Calls;
  readonly momento: Calls;
}

export interface StepRun {
  readonly step: string;
  readonly durationMs: number;
  readonly sm: Calls;
  readonly momento: Calls;
  /** The child process after the step. */
  readonly usage?: ProcessUsage;
  /** New TCP connections during the step, when the child talks through the counting proxies. */
  readonly connections?: { readonly sm: number; readonly momento: number };
}

export interface ColdSweep {
  readonly loadMs: Summary;
  readonly invokeMs: Summary;
  readonly firstInvocationMs: Summary;
  /** The whole process after its first invocation: CPU (user + system) and peak resident memory. */
  readonly cpuMs: Summary;
  readonly maxRssMb: Summary;
  readonly calls: readonly Calls[];
}

export interface ColdRotation {
  readonly loadMs: Summary;
  readonly createSecretMs: Summary;
  readonly stepsMs: Summary;
  readonly loadAndStepsMs: Summary;
  /** The whole process after the four steps: CPU (user + system) and peak resident memory. */
  readonly cpuMs: Summary;
  readonly maxRssMb: Summary;
  /** RotateSecret sent until the emulator recorded the rotation finished (parent's clock). */
  readonly rotateSecretToDoneMs: Summary;
  /** Per-step calls of every run, to check that each run made the same calls. */
  readonly runs: readonly (readonly StepRun[])[];
}

export interface SweepCost {
  readonly secrets: number;
  readonly calls: Calls;
  readonly total: number;
  readonly invokeMs: number;
}

export interface ClientReuse {
  /** New Secrets Manager connections per sweep invocation: the first is the cold one. */
  readonly smConnectionsPerSweep: readonly number[];
  /** New connections per warm rotation (both made after the sweeps, in the same container). */
  readonly rotations: readonly {
    readonly sm: number;
    readonly momento: number;
    /** New Momento connections by step, where any. */
    readonly momentoBySteps: Readonly<Record<string, number>>;
  }[];
}

/** Which of the function's files ran during an invocation, from V8 coverage in an untimed child. */
export interface ModuleActivity {
  readonly filesLoaded: number;
  readonly functionsRun: number;
  /** Functions of the Momento SDK's chunk that ran: 0 when the SDK was never evaluated. */
  readonly momentoFunctionsRun: number;
}

export interface FunctionResults {
  readonly coldSweep: ColdSweep;
  readonly coldRotation: ColdRotation;
  /** One rotation whose every step lands on a fresh container: the most Secrets Manager calls it can make. */
  readonly containerPerStep: readonly StepRun[];
  readonly activity: { readonly sweep: ModuleActivity; readonly rotation: ModuleActivity };
  readonly sweepCost: readonly SweepCost[];
  readonly clients: ClientReuse;
}

function scheduledEvent(): Record<string, unknown> {
  return {
    version: '0',
    id: '0d4d3e7c-5a52-4a4e-9d55-bench0000000',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: ['arn:aws:events:us-east-1:123456789012:rule/momento-token-rotator-bench'],
    detail: {},
  };
}

function diff(after: Calls, before: Calls): Calls {
  const out: Calls = {};
  for (const [key, value] of Object.entries(after)) {
    const delta = value - (before[key] ?? 0);
    if (delta !== 0) out[key] = delta;
  }
  return out;
}

export function total(calls: Calls): number {
  return Object.values(calls).reduce((sum, n) => sum + n, 0);
}

export function sumCalls(list: readonly Calls[]): Calls {
  const out: Calls = {};
  for (const calls of list) for (const [key, n] of Object.entries(calls)) out[key] = (out[key] ?? 0) + n;
  return out;
}

function expectOk(what: string, result: InvokeResult, container: Container): void {
  if (!result.ok) throw new Error(`${what} failed: ${result.error}\n${container.output}`);
}

function activity(fn: ShippedFunction, report: CoverageReport): ModuleActivity {
  return {
    filesLoaded: report.files.length,
    functionsRun: report.files.reduce((sum, f) => sum + f.executed, 0),
    momentoFunctionsRun: report.files.find((f) => f.file === fn.momentoChunk.file)?.executed ?? 0,
  };
}

export async function measureFunction(opts: {
  readonly containerJs: string;
  readonly fn: ShippedFunction;
  readonly runs: number;
  readonly progress: (line: string) => void;
}): Promise<FunctionResults> {
  const { containerJs, fn, runs, progress } = opts;
  const aws = await LocalAws.start();
  const snapshot = (): Snapshot => ({
    sm: { ...aws.sm.stats.calls },
    momento: { ...aws.momento.stats.calls },
  });

  // The rotation function Secrets Manager invokes: forwards each step to the current container, or, with
  // `freshPerStep` set, to a container started for that one step (Lambda gives no promise of reuse).
  let target: Container | undefined;
  let freshPerStep: (() => Promise<Container>) | undefined;
  let proxies: { sm: CountingProxy; momento: CountingProxy } | undefined;
  const steps: StepRun[] = [];
  const connections = () =>
    proxies ? { sm: proxies.sm.connections, momento: proxies.momento.connections } : undefined;
  aws.setRotationFunction(async (event, context) => {
    const container = freshPerStep ? await freshPerStep() : target;
    if (container === undefined) throw new Error('no container to run the step');
    const before = snapshot();
    const connectionsBefore = connections();
    const result = await container.invoke(event, context.getRemainingTimeInMillis()).finally(async () => {
      if (freshPerStep) await container.stop();
    });
    const after = snapshot();
    const connectionsAfter = connections();
    steps.push({
      step: event.Step,
      durationMs: result.durationMs,
      sm: diff(after.sm, before.sm),
      momento: diff(after.momento, before.momento),
      ...(result.usage === undefined ? {} : { usage: result.usage }),
      ...(connectionsBefore && connectionsAfter
        ? {
            connections: {
              sm: connectionsAfter.sm - connectionsBefore.sm,
              momento: connectionsAfter.momento - connectionsBefore.momento,
            },
          }
        : {}),
    });
    if (!result.ok) throw new Error(result.error);
    return result.result;
  });

  // The function's environment as the stack sets it, pointed at the emulators.
  const shippedEnv: Record<string, string> =
    fn.nodeOptions === undefined ? {} : { NODE_OPTIONS: fn.nodeOptions };
  const start = (secretIds: readonly string[], extra: Record<string, string> = {}) =>
    Container.start(containerJs, fn.entry, childEnv({ ...aws.env(secretIds), ...shippedEnv, ...extra }));

  /** RotateSecret, as the console button or a sweep does; resolves when the emulator finished the rotation. */
  const rotate = async (arn: string): Promise<number> => {
    steps.length = 0;
    const started = performance.now();
    await aws.client.send(new RotateSecretCommand({ SecretId: arn }));
    await aws.sm.whenRotationsIdle();
    const elapsed = performance.now() - started;
    const record = aws.sm.rotationLog.at(-1);
    if (record?.outcome !== 'succeeded' || record.attempts !== 1) {
      throw new Error(`rotation of ${arn} did not succeed at once: ${JSON.stringify(record)}`);
    }
    return elapsed;
  };

  try {
    // ---- 3a: cold sweep, nothing due (a key minted now for a day is not due for 12 hours)
    const sweepSecret = aws.seed('bench/cold-sweep/s000', DAY);
    const sweep = {
      load: [] as number[],
      invoke: [] as number[],
      first: [] as number[],
      cpu: [] as number[],
      rss: [] as number[],
      calls: [] as Calls[],
    };
    for (let run = -1; run < runs; run++) {
      const container = await start([sweepSecret.name]);
      const before = snapshot();
      const result = await container.invoke(scheduledEvent(), INVOCATION_MS);
      expectOk('cold sweep', result, container);
      const summary = result.result as { checked: number; rotationsStarted: number };
      if (summary.checked !== 1 || summary.rotationsStarted !== 0) {
        throw new Error(`cold sweep: expected 1 secret checked, none due: ${JSON.stringify(summary)}`);
      }
      const calls = diff(snapshot().sm, before.sm);
      await container.stop();
      // The first child after the emulators started also warms their code in this process: not recorded.
      if (run < 0) continue;
      sweep.load.push(container.loadMs);
      sweep.invoke.push(result.durationMs);
      sweep.first.push(container.loadMs + result.durationMs);
      sweep.cpu.push(result.usage?.cpuMs ?? Number.NaN);
      sweep.rss.push((result.usage?.maxRssKb ?? Number.NaN) / 1024);
      sweep.calls.push(calls);
    }
    progress(`  cold sweep: ${runs} fresh processes`);

    // ---- 3b: cold rotation: RotateSecret, and the four steps land on a fresh process
    const rotated = aws.seed('bench/cold-rotation/s000', DAY);
    const rotation = {
      load: [] as number[],
      create: [] as number[],
      steps: [] as number[],
      loadAndSteps: [] as number[],
      cpu: [] as number[],
      rss: [] as number[],
      wall: [] as number[],
      runs: [] as StepRun[][],
    };
    for (let run = -1; run < runs; run++) {
      const container = await start([rotated.name]);
      target = container;
      const wall = await rotate(rotated.arn);
      target = undefined;
      await container.stop();
      if (run < 0) continue;
      const stepsMs = steps.reduce((sum, s) => sum + s.durationMs, 0);
      rotation.load.push(container.loadMs);
      rotation.create.push(steps.find((s) => s.step === 'createSecret')?.durationMs ?? Number.NaN);
      rotation.steps.push(stepsMs);
      rotation.loadAndSteps.push(container.loadMs + stepsMs);
      // The process as its last step (finishSecret) left it.
      const after = steps.at(-1)?.usage;
      rotation.cpu.push(after?.cpuMs ?? Number.NaN);
      rotation.rss.push((after?.maxRssKb ?? Number.NaN) / 1024);
      rotation.wall.push(wall);
      rotation.runs.push([...steps]);
    }
    progress(`  cold rotation: ${runs} fresh processes`);

    // ---- 4, worst case: a fresh container for each of the four steps (counts only; not timed)
    freshPerStep = () => start([rotated.name]);
    await rotate(rotated.arn);
    freshPerStep = undefined;
    const containerPerStep = [...steps];
    progress('  rotation with a fresh container per step');

    // ---- 3, verification: which modules ran (V8 coverage, in untimed children)
    const coverageEnv = { BENCH_COVERAGE: '1' };
    const sweepProbe = await start([sweepSecret.name], coverageEnv);
    expectOk('coverage sweep', await sweepProbe.invoke(scheduledEvent(), INVOCATION_MS), sweepProbe);
    const sweepActivity = activity(fn, await sweepProbe.coverage());
    await sweepProbe.stop();
    const rotationProbe = await start([rotated.name], coverageEnv);
    target = rotationProbe;
    await rotate(rotated.arn);
    target = undefined;
    const rotationActivity = activity(fn, await rotationProbe.coverage());
    await rotationProbe.stop();
    progress('  coverage: sweep and rotation');

    // ---- 5: sweep cost by number of secrets, nothing due
    const sweepCost: SweepCost[] = [];
    for (const n of [1, 20, 100]) {
      const names = Array.from(
        { length: n },
        (_, i) =>
          aws.seed(`bench/sweep-${String(n).padStart(3, '0')}/s${String(i).padStart(3, '0')}`, DAY).name,
      );
      const container = await start(names);
      const before = snapshot();
      const result = await container.invoke(scheduledEvent(), INVOCATION_MS);
      expectOk(`sweep of ${n}`, result, container);
      const summary = result.result as { checked: number; rotationsStarted: number };
      if (summary.checked !== n || summary.rotationsStarted !== 0) {
        throw new Error(`sweep of ${n}: expected ${n} checked, none due: ${JSON.stringify(summary)}`);
      }
      const calls = diff(snapshot().sm, before.sm);
      await container.stop();
      sweepCost.push({ secrets: n, calls, total: total(calls), invokeMs: result.durationMs });
    }
    progress('  sweep cost: 1, 20, 100 secrets');

    // ---- 6: clients once per container, seen as connections (through counting proxies)
    const smUrl = new URL(aws.sm.endpoint);
    const [momentoHost, momentoPort] = aws.momento.endpoint.split(':');
    const smProxy = await startCountingProxy({ host: smUrl.hostname, port: Number(smUrl.port) });
    const momentoProxy = await startCountingProxy({ host: momentoHost ?? '', port: Number(momentoPort) });
    proxies = { sm: smProxy, momento: momentoProxy };
    const reuseSecret = aws.seed('bench/clients/s000', DAY);
    const container = await start([reuseSecret.name], {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://${smProxy.address}`,
      MOMENTO_ENDPOINT_OVERRIDE: momentoProxy.address,
    });
    const smConnectionsPerSweep: number[] = [];
    const rotations: ClientReuse['rotations'][number][] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const before = smProxy.connections;
        expectOk('sweep', await container.invoke(scheduledEvent(), INVOCATION_MS), container);
        smConnectionsPerSweep.push(smProxy.connections - before);
      }
      target = container;
      for (let i = 0; i < 2; i++) {
        const sm = smProxy.connections;
        const momento = momentoProxy.connections;
        await rotate(reuseSecret.arn);
        const momentoBySteps: Record<string, number> = {};
        for (const step of steps) {
          if (step.connections?.momento) momentoBySteps[step.step] = step.connections.momento;
        }
        rotations.push({
          sm: smProxy.connections - sm,
          momento: momentoProxy.connections - momento,
          momentoBySteps,
        });
      }
      target = undefined;
    } finally {
      proxies = undefined;
      await container.stop();
      await smProxy.stop();
      await momentoProxy.stop();
    }
    progress('  clients: connections across warm invocations');

    return {
      coldSweep: {
        loadMs: summarise(sweep.load),
        invokeMs: summarise(sweep.invoke),
        firstInvocationMs: summarise(sweep.first),
        cpuMs: summarise(sweep.cpu),
        maxRssMb: summarise(sweep.rss),
        calls: sweep.calls,
      },
      coldRotation: {
        loadMs: summarise(rotation.load),
        createSecretMs: summarise(rotation.create),
        stepsMs: summarise(rotation.steps),
        loadAndStepsMs: summarise(rotation.loadAndSteps),
        cpuMs: summarise(rotation.cpu),
        maxRssMb: summarise(rotation.rss),
        rotateSecretToDoneMs: summarise(rotation.wall),
        runs: rotation.runs,
      },
      containerPerStep,
      activity: { sweep: sweepActivity, rotation: rotationActivity },
      sweepCost,
      clients: { smConnectionsPerSweep, rotations },
    };
  } finally {
    target = undefined;
    freshPerStep = undefined;
    await aws.stop();
  }
}
