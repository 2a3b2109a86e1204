import { expect, it } from 'vitest';
import { runDemo } from '../../scripts/demo';

// `npm run demo` is the newcomer's first command: keep it true in every change.
it('tells the whole story through every door, heals the outage and shows no key material', async () => {
  let printed = '';

  const result = await runDemo({ write: (text) => (printed += text), color: false, logFile: null });

  expect(result.problems).toEqual([]);
  expect(result.ok).toBe(true);
  for (const act of ['The schedule', 'A forced rotation', 'Rotate now', 'Momento has an outage', 'heals']) {
    expect(printed).toContain(act);
  }
  expect(printed).toContain('leak check');
}, 60_000);
