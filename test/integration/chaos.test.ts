import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type ChaosSummary, formatSummary, runChaos } from '../chaos/chaos';

/**
 * Fault plans that once lost a chain the checker could not explain, kept as regressions. Each replays only the
 * window of its plan that reaches the attempt where it fails on the code before the fix (the engine's 300 ms
 * refresh deadline, which dropped answers Momento had committed): the attempts before `fromAttempt` are drawn
 * from the seed but not run (the window gets the very faults, deadlines, doors and clock moves it has in the
 * whole run), the secrets are seeded fresh when the window begins, and the run stops after that attempt. Like
 * every chaos run it replays the plan, not the trace; all checks run on every attempt of the window.
 */
const REGRESSIONS = [
  {
    seed: 1491899140,
    fromAttempt: 853,
    attempts: 923,
    found:
      'issue 9: chains lost at attempts 892 and 952 on a busy machine; with a slow refresh answer in its plan ' +
      'this window loses 3 at attempt 923 on the code before the fix, however fast the machine',
  },
  {
    seed: 20261123,
    fromAttempt: 2798,
    attempts: 2852,
    found:
      'issue 9: a chain lost at attempt 2897 of a 20,000-rotation run on a busy machine; with a slow refresh ' +
      'answer in its plan this window loses 1 at attempt 2852 on the code before the fix',
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
