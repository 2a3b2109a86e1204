import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { runDemo } from '../../scripts/demo';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The promise for `npm run demo`. */
const DEMO_BUDGET_MS = 30_000;

// `npm run demo` is the newcomer's first command: keep it true in every change.
it('tells the whole story through every door, heals the outage and shows no key material', async () => {
  let printed = '';

  const result = await runDemo({ write: (text) => (printed += text), color: false, logFile: null });

  expect(result.problems).toEqual([]);
  expect(result.ok).toBe(true);
  expect(result.elapsedMs).toBeGreaterThan(0);
  expect(result.elapsedMs).toBeLessThan(DEMO_BUDGET_MS);
  for (const act of ['The schedule', 'A forced rotation', 'Rotate now', 'Momento has an outage', 'heals']) {
    expect(printed).toContain(act);
  }
  expect(printed).toContain('leak check');
}, 60_000);

it('exits 0 when run as `npm run demo` runs it (tsx scripts/demo.ts)', async () => {
  const started = performance.now();

  const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      `${ROOT}node_modules/.bin/tsx`,
      ['scripts/demo.ts'],
      { cwd: ROOT, timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });

  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout).toContain('leak check');
  expect(performance.now() - started).toBeLessThan(DEMO_BUDGET_MS);
}, 60_000);
