import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalAws } from '../support/local-aws';
import { HOUR, registerAllSecretMaterial } from './support';

/**
 * The application helper's example in the README is docs/examples/client-app.ts, word for word (tsc type-checks
 * that file with the rest of the repository); here it runs against the emulators as an application would.
 */
const ROOT = path.join(import.meta.dirname, '..', '..');
let aws: LocalAws;

beforeAll(async () => {
  aws = await LocalAws.start();
  for (const [name, value] of Object.entries(aws.env(['momento/api-key']))) vi.stubEnv(name, value);
});

afterAll(async () => {
  registerAllSecretMaterial(aws, ['momento/api-key']);
  await aws.stop();
  vi.unstubAllEnvs();
});

describe("the README's application example", () => {
  it('is the example file, word for word', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const example = await readFile(path.join(ROOT, 'docs', 'examples', 'client-app.ts'), 'utf8');

    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]);

    expect(blocks).toContain(example);
  });

  it('answers from Momento with the key the secret holds', async () => {
    aws.seed('momento/api-key', 24 * HOUR);
    const { handler } = await import('../../docs/examples/client-app');

    const first = await handler({ userId: 'ada' });
    const second = await handler({ userId: 'ada' });

    expect(first).toEqual({ greeting: 'hello ada' });
    expect(second).toEqual({ greeting: 'hello ada' });
    expect(aws.momento.stats.calls.Get).toBe(2);
    expect(aws.momento.stats.calls.Set).toBe(1);
  });
});
