/** Small numeric helpers for the benchmark: nearest-rank percentiles and fixed formatting. */

export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly p90: number;
  readonly min: number;
  readonly max: number;
}

/** Nearest-rank percentile: always one of the observed values, so nothing is invented between runs. */
function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}

export function summarise(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/** Differences of paired samples (a[i] - b[i]), e.g. process wall time minus the bare-node baseline. */
export function minus(a: readonly number[], b: readonly number[]): number[] {
  return a.map((value, i) => value - (b[i] ?? Number.NaN));
}

/**
 * The median of per-round ratios a[i] / b[i]: samples taken in the same round ran under the same machine load,
 * so their ratio cancels most of what the load adds to both.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  return summarise(a.map((value, i) => value / (b[i] ?? Number.NaN))).median;
}

export const ms = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(1)} ms` : 'n/a');

export const msPair = (s: Summary): string => `${s.median.toFixed(1)} / ${s.p90.toFixed(1)} ms`;

export const mb = (s: Summary): string => `${s.median.toFixed(1)} MB`;

export const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;

export const ratio = (ours: number, theirs: number): string =>
  Number.isFinite(ours) && Number.isFinite(theirs) && theirs !== 0 ? `${(ours / theirs).toFixed(2)}` : '';

export const percent = (part: number, whole: number): string =>
  whole === 0 ? 'n/a' : `${((100 * part) / whole).toFixed(0)}%`;
