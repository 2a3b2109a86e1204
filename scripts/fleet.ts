/**
 * `npm run bench:fleet [-- --secrets 1000 --repeats 5]`
 *
 * The tag-selection figures of the README, measured: a fleet of secrets selected by one tag on the emulators
 * (test/support/fleet.ts), swept by the function as the stack configures it for `-c secretTag=team=platform`.
 * Prints, for a sweep where nothing is due, the Secrets Manager calls and the wall time of the first sweep of a
 * fresh container and of `repeats` more; then, with a tenth of the keys due, the calls and time of that sweep and
 * how long until the rotations it started were finished by the rotation steps. The function's own output (JSON
 * logs, EMF) goes to .bench/fleet-function.log. test/integration/tagged-fleet.test.ts holds the call counts and
 * the rotations to account; this script only measures.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { startFleet } from '../test/support/fleet';

const { values } = parseArgs({
  options: {
    secrets: { type: 'string', default: '1000' },
    repeats: { type: 'string', default: '5' },
  },
});
const size = Number(values.secrets);
const repeats = Number(values.repeats);
if (!Number.isInteger(size) || size < 10 || size % 10 !== 0 || !Number.isInteger(repeats) || repeats < 1) {
  console.error(
    `--secrets must be a multiple of 10 from 10, --repeats a whole number from 1 (received ${JSON.stringify(values)})`,
  );
  process.exit(2);
}

await mkdir('.bench', { recursive: true });
const log = createWriteStream('.bench/fleet-function.log');
const loadAtStart = os.loadavg()[0] ?? 0;
const setupStarted = performance.now();
const fleet = await startFleet(size, { functionOutput: (chunk) => log.write(chunk) });
const setupMs = performance.now() - setupStarted;

const rows: [string, string][] = [];
try {
  const first = await fleet.sweep();
  const again: number[] = [];
  for (let i = 0; i < repeats; i += 1) again.push((await fleet.sweep()).ms);
  again.sort((a, b) => a - b);
  const median = again[Math.floor(again.length / 2)] as number;

  fleet.advance(fleet.dueAfterSeconds);
  const dueStarted = performance.now();
  const due = await fleet.sweep();
  await fleet.aws.sm.whenRotationsIdle();
  const allRotatedMs = performance.now() - dueStarted;
  const succeeded = fleet.aws.sm.rotationLog.filter((r) => r.outcome === 'succeeded').length;

  rows.push(
    ['nothing due, Secrets Manager calls', `${first.totalCalls} ${JSON.stringify(first.calls)}`],
    ['nothing due, first sweep of a fresh container', `${Math.round(first.ms)} ms`],
    [`nothing due, median of ${repeats} more sweeps`, `${Math.round(median)} ms`],
    [
      `${size / 10} due, sweep (RotateSecret each)`,
      `${Math.round(due.ms)} ms, ${due.summary.rotationsStarted} started`,
    ],
    [`${size / 10} due, until every rotation finished its four steps`, `${Math.round(allRotatedMs)} ms`],
    ['rotations that succeeded', `${succeeded} of ${due.summary.rotationsStarted}`],
  );
} finally {
  // Gives stdout back: the figures are printed after.
  await fleet.stop();
  log.end();
}
console.log(`Fleet of ${size} secrets selected by tag (team=platform), on the emulators`);
console.log(
  `node ${process.version}, ${os.cpus().length} cores, load ${loadAtStart.toFixed(2)}; setup ${Math.round(setupMs)} ms`,
);
for (const [label, value] of rows) console.log(`${label.padEnd(58)} ${value}`);
