/**
 * The official example (momentohq/api-key-refresh-lambda, its `lambda/` folder), read from a directory the
 * user points the bench to. The bench never fetches it and nothing of it is kept in this repository.
 */
import { access, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

export const EXAMPLE_HOW_TO =
  'check out the lambda/ folder of the public repository momentohq/api-key-refresh-lambda, run ' +
  '`npm install --omit=dev --ignore-scripts --no-package-lock` in it, and pass --example <dir> ' +
  '(or set BENCH_EXAMPLE_DIR)';

export type ExampleLocation =
  | { readonly found: true; readonly dir: string; readonly entry: string; readonly sdkVersion: string }
  | { readonly found: false; readonly dir: string | undefined; readonly reason: string };

export async function findExample(dir: string | undefined): Promise<ExampleLocation> {
  if (dir === undefined || dir === '') {
    return { found: false, dir, reason: 'no --example <dir> and no BENCH_EXAMPLE_DIR' };
  }
  const root = path.resolve(dir);
  const entry = 'src/index.ts';
  try {
    await access(path.join(root, entry));
  } catch {
    return { found: false, dir: root, reason: `${entry} not found in ${root}` };
  }
  try {
    const pkg = JSON.parse(
      await readFile(path.join(root, 'node_modules', '@gomomento', 'sdk', 'package.json'), 'utf8'),
    ) as { version: string };
    return { found: true, dir: root, entry, sdkVersion: pkg.version };
  } catch {
    return {
      found: false,
      dir: root,
      reason: `its dependencies are not installed (no node_modules/@gomomento/sdk)`,
    };
  }
}

/** Client constructions in the example's sources, by file: where each client is built, for the report. */
export async function clientConstructions(dir: string): Promise<Record<string, string[]>> {
  const patterns: Record<string, RegExp> = {
    SecretsManager: /new SecretsManager(Client)?\(/,
    CloudWatch: /new CloudWatch(Client)?\(/,
    AuthClient: /new AuthClient\(/,
    CacheClient: /new CacheClient\(/,
  };
  const found: Record<string, string[]> = Object.fromEntries(Object.keys(patterns).map((k) => [k, []]));
  const src = path.join(dir, 'src');
  for (const file of await readdir(src, { recursive: true })) {
    if (!file.endsWith('.ts')) continue;
    const text = await readFile(path.join(src, file), 'utf8');
    for (const [name, pattern] of Object.entries(patterns)) {
      if (pattern.test(text)) found[name]?.push(`src/${file}`);
    }
  }
  return found;
}
