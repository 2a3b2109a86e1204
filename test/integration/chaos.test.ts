import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type ChaosSummary, formatSummary, runChaos } from '../chaos/chaos';

/**
 * Fault plans that once lost a chain the checker could not explain, kept as regressions. Each replays only the
 * window of its plan that led to the loss, so that all of them together cost less than one random run: the
 * attempts before `fromAttempt` are drawn from the seed but not run (the window gets the very faults,
 * deadlines, doors and clock moves it had in the whole run), the secrets are seeded fresh when the window
 * begins, and the run stops after the attempt that failed. Like every chaos run it replays the plan, not the
 * trace; all checks run on every attempt of the window.
 */
const REGRESSIONS = [
  {
    seed: 1491899140,
    fromAttempt: 853,
    attempts: 952,
    found:
      'issue 9, busy machine: chains lost at attempts 892 and 952, refresh answers Momento had committed dropped ' +
      'by a 300 ms engine deadline while the invocation had 4.6 s left; this window lost 7 that way at attempt 865',
  },
  {
    seed: 20261123,
    fromAttempt: 2798,
    attempts: 2897,
    found:
      'issue 9, 20,000-rotation run: a chain lost at attempt 2897 the same way (README named attempt 5,352 on an ' +
      'idler machine); this window lost 2 that way at attempt 2808',
  },
];

function requestedSeed(): number {
  const requested = process.env.CHAOS_SEED;
  if (requested === undefined || requested === '') return randomInt(2 ** 31);
  const seed = Number(requested);
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new Error(`CHAOS_SEED must be a whole number, received ${JSON.stringify(requested)}`);
  }
  return seed;
}

function expectEveryChainKept(summary: ChaosSummary): void {
  expect(summary.violations).toEqual([]);
  expect(summary.chainsLost.unexplained).toBe(0);
}

/**
 * At least 2,000 rotation attempts under faults at every external call, cut-short invocations, concurrent
 * doors and simulated time, on a new random plan every run. The seed is printed first; CHAOS_SEED=<n> replays
 * that plan. Long runs: `npm run chaos -- --rotations 20000`. The time limit is the harness's, generous for a
 * busy machine: how long a run takes is no verdict on the chains.
 */
it('keeps every refresh chain through 2,000 rotation attempts under chaos', async () => {
  const seed = requestedSeed();
  console.info(`chaos seed ${seed} (rerun with CHAOS_SEED=${seed})`);

  const summary = await runChaos({ seed, rotations: 2_000 });

  console.info(formatSummary(summary));
  expectEveryChainKept(summary);
  // Deadlines really cut invocations short, which then run on in the background while Secrets Manager retries.
  expect(summary.invocationsCut).toBeGreaterThan(0);
  // "No pending version survives the next sweep" was held after every fault-free sweep, of which there were many.
  expect(summary.cleanSweepChecks).toBeGreaterThan(100);
  expect(summary.rotationAttempts).toBeGreaterThanOrEqual(2_000);
  expect(summary.rotationsCompleted).toBeGreaterThan(summary.rotationAttempts / 2);
  expect(Object.values(summary.faultsApplied).reduce((a, b) => a + b, 0)).toBeGreaterThan(500);
}, 600_000);

describe('plans that once lost a chain', () => {
  it.each(REGRESSIONS)(
    'seed $seed, attempts $fromAttempt to $attempts ($found)',
    async ({ seed, fromAttempt, attempts }) => {
      const summary = await runChaos({ seed, rotations: Number.POSITIVE_INFINITY, fromAttempt, attempts });

      console.info(formatSummary(summary));
      expectEveryChainKept(summary);
      expect(summary.attempts).toBe(attempts);
      expect(summary.rotationAttempts).toBeGreaterThan(attempts - fromAttempt);
    },
    300_000,
  );
});
