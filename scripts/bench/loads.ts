/** Cold module load: fresh node processes that do nothing but `require` a bundle. */
import type { Bundle } from './bundles';
import { childEnv, timeProcess } from './processes';
import { minus, type Summary, summarise } from './stats';

export interface LoadVariant {
  readonly key: string;
  /** Undefined: a bare `node -e ""`, the cost of starting and stopping node itself. */
  readonly bundle?: Bundle;
  readonly nodeOptions?: string;
}

export interface LoadResult {
  readonly key: string;
  /** `require(bundle)` measured inside the child. */
  readonly require?: Summary;
  /** Spawn to exit, measured by the parent. */
  readonly wall: Summary;
  /** Spawn to exit minus the bare-node run of the same round. */
  readonly wallOverBare?: Summary;
  readonly samples: { readonly requireMs: readonly number[]; readonly wallMs: readonly number[] };
}

/**
 * N rounds, each running every variant once, in an order rotated per round so that no variant always runs
 * first (or right after a heavier one). One unrecorded round first: it fills the OS file cache, so every
 * figure is a fresh process on a warm disk, as on a Lambda host that already holds the function's code.
 */
export async function measureLoads(
  containerJs: string,
  variants: readonly LoadVariant[],
  runs: number,
  progress: (line: string) => void,
): Promise<Map<string, LoadResult>> {
  const requireMs = new Map(variants.map((v) => [v.key, [] as number[]]));
  const wallMs = new Map(variants.map((v) => [v.key, [] as number[]]));
  for (let round = -1; round < runs; round++) {
    if (round >= 0 && round % 5 === 0) progress(`  module load: round ${round + 1}/${runs}`);
    const order = variants.map((_, i) => variants[(i + Math.max(round, 0)) % variants.length] as LoadVariant);
    for (const variant of order) {
      const env = childEnv({
        // Configuration is read at module load: without it our handler module throws a ConfigError.
        ROTATOR_SECRET_IDS: 'bench/load-only',
        AWS_REGION: 'us-east-1',
        ...(variant.nodeOptions === undefined ? {} : { NODE_OPTIONS: variant.nodeOptions }),
      });
      const args = variant.bundle === undefined ? ['-e', ''] : [containerJs, 'load', variant.bundle.file];
      const run = await timeProcess(args, env);
      if (round < 0) continue;
      wallMs.get(variant.key)?.push(run.wallMs);
      if (variant.bundle !== undefined) {
        const { loadMs } = JSON.parse(run.stdout) as { loadMs: number };
        requireMs.get(variant.key)?.push(loadMs);
      }
    }
  }
  const bare = variants.find((v) => v.bundle === undefined);
  const bareWall = bare === undefined ? undefined : wallMs.get(bare.key);
  const results = new Map<string, LoadResult>();
  for (const variant of variants) {
    const req = requireMs.get(variant.key) ?? [];
    const wall = wallMs.get(variant.key) ?? [];
    results.set(variant.key, {
      key: variant.key,
      ...(req.length > 0 ? { require: summarise(req) } : {}),
      wall: summarise(wall),
      ...(variant.bundle !== undefined && bareWall !== undefined
        ? { wallOverBare: summarise(minus(wall, bareWall)) }
        : {}),
      samples: { requireMs: req, wallMs: wall },
    });
  }
  return results;
}
