/**
 * Long chaos runs: `npm run chaos -- --rotations 20000 [--seed 1234] [--secrets 16]`.
 * Exits non-zero when any check failed. The same run (2,000 rotations) is part of `npm test`.
 */
import { parseArgs } from 'node:util';
import { formatSummary, runChaos } from '../test/chaos/chaos';

const { values } = parseArgs({
  options: {
    rotations: { type: 'string', default: '20000' },
    seed: { type: 'string', default: process.env.CHAOS_SEED },
    secrets: { type: 'string', default: '16' },
    attempts: { type: 'string' },
    'from-attempt': { type: 'string', default: '1' },
  },
});
const rotations = Number(values.rotations);
const secrets = Number(values.secrets);
const attempts = values.attempts === undefined ? Number.POSITIVE_INFINITY : Number(values.attempts);
const fromAttempt = Number(values['from-attempt']);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
for (const [name, value] of Object.entries({ rotations, secrets, seed, 'from-attempt': fromAttempt })) {
  if (!Number.isInteger(value) || value < 0) {
    console.error(
      `--${name} must be a whole number, received ${JSON.stringify(values[name as keyof typeof values])}`,
    );
    process.exit(2);
  }
}

console.log(`chaos: ${rotations} rotations over ${secrets} secrets, seed ${seed}`);
const summary = await runChaos({
  seed,
  rotations,
  secrets,
  attempts,
  fromAttempt,
  progress: (line) => console.log(line),
});
console.log(formatSummary(summary));
process.exitCode = summary.violations.length === 0 && summary.chainsLost.unexplained === 0 ? 0 : 1;
