/** Cold start: fresh node processes that do nothing but load a function's code, paired round by round. */
import type { ProcessUsage } from './container';
import { childEnv, timeProcess } from './processes';
import { type Summary, summarise } from './stats';

export interface LoadVariant {
  readonly key: string;
  /** The entry, then modules loaded after it (a lazily imported chunk). Empty: a bare node process. */
  readonly files: readonly string[];
  readonly nodeOptions?: string;
  readonly env?: Readonly<Record<string, string>>;
}

export interface LoadSamples {
  /** Whole process CPU, user + system, Node's own start included. */
  readonly cpuMs: number[];
  readonly maxRssMb: number[];
  /** Loading the files, inside the child (wall clock). */
  readonly loadMs: number[];
  /** Spawn to exit, measured by the parent. */
  readonly wallMs: number[];
}

export interface LoadResult {
  readonly key: string;
  readonly cpu: Summary;
  readonly rss: Summary;
  readonly load: Summary;
  readonly wall: Summary;
  readonly samples: LoadSamples;
}

/**
 * N rounds, each running every variant once, in an order rotated per round so that no variant always runs
 * first (or right after a heavier one): the samples of one round are pairs taken under the same load. One
 * unrecorded round first fills the OS file cache, so every figure is a fresh process on a warm disk, as on a
 * Lambda host that already holds the function's code.
 */
export async function measureLoads(
  containerJs: string,
  variants: readonly LoadVariant[],
  runs: number,
  progress: (line: string) => void,
): Promise<Map<string, LoadResult>> {
  const samples = new Map<string, LoadSamples>(
    variants.map((v) => [v.key, { cpuMs: [], maxRssMb: [], loadMs: [], wallMs: [] }]),
  );
  for (let round = -1; round < runs; round++) {
    if (round >= 0 && round % 5 === 0) progress(`  cold start: round ${round + 1}/${runs}`);
    const order = variants.map((_, i) => variants[(i + Math.max(round, 0)) % variants.length] as LoadVariant);
    for (const variant of order) {
      const env = childEnv({
        // Configuration is read at module load: without it our handler module throws a ConfigError.
        ROTATOR_SECRET_IDS: 'bench/load-only',
        AWS_REGION: 'us-east-1',
        ...variant.env,
        ...(variant.nodeOptions === undefined ? {} : { NODE_OPTIONS: variant.nodeOptions }),
      });
      const args =
        variant.files.length === 0 ? [containerJs, 'bare'] : [containerJs, 'load', ...variant.files];
      const run = await timeProcess(args, env);
      if (round < 0) continue;
      const { loadMs, usage } = JSON.parse(run.stdout) as { loadMs: number; usage: ProcessUsage };
      const s = samples.get(variant.key) as LoadSamples;
      s.cpuMs.push(usage.cpuMs);
      s.maxRssMb.push(usage.maxRssKb / 1024);
      s.loadMs.push(loadMs);
      s.wallMs.push(run.wallMs);
    }
  }
  const results = new Map<string, LoadResult>();
  for (const [key, s] of samples) {
    results.set(key, {
      key,
      cpu: summarise(s.cpuMs),
      rss: summarise(s.maxRssMb),
      load: summarise(s.loadMs),
      wall: summarise(s.wallMs),
      samples: s,
    });
  }
  return results;
}
