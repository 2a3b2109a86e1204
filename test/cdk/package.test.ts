import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_CODE_DIR, FUNCTION_ENTRY } from '../../lib';
import { buildClient, buildConstruct } from '../../scripts/build';

/**
 * The construct as someone else installs it: `npm pack` of this package, installed with `npm install` into
 * fresh TypeScript CDK apps, one CommonJS and one ES module, compiled with tsc (strict, library types checked)
 * and synthesized with node. Offline: the package's dependencies and the apps' aws-cdk-lib, constructs and
 * @types/node are links to this repository's node_modules, so npm finds them installed and fetches nothing.
 */
const run = promisify(execFile);
const REPO_ROOT = path.join(import.meta.dirname, '..', '..');
const TSC = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc');
let tmp: string;
let tarball: string;
let packedFiles: string[];

/** The package as `npm pack` sees it: its files, with the function built by the test run's global setup. */
async function stagePackage(staging: string): Promise<void> {
  const manifest = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    files: string[];
  };
  for (const entry of manifest.files.filter((f) => !f.startsWith('dist/'))) {
    await cp(path.join(REPO_ROOT, entry), path.join(staging, entry), { recursive: true });
  }
  await cp(path.join(REPO_ROOT, 'package.json'), path.join(staging, 'package.json'));
  await cp(FUNCTION_CODE_DIR, path.join(staging, 'dist', 'function'), { recursive: true });
  await buildClient(path.join(staging, 'dist', 'client'));
  await buildConstruct(path.join(staging, 'dist', 'lib'));
}

const APP_SOURCE = `import { App, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { MomentoKeyRotator, type MomentoKeyRotatorProps } from 'momento-token-rotator';

const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'PackagedRotator');
const props: MomentoKeyRotatorProps = {
  secrets: [secretsmanager.Secret.fromSecretNameV2(stack, 'Key', 'momento/api-key')],
  secretTag: { key: 'team', value: 'platform' },
};
new MomentoKeyRotator(stack, 'Rotator', props);
app.synth();
`;

/** A fresh CDK app of one module system, the packed construct installed with npm, compiled and synthesized. */
async function synthesizeApp(kind: 'commonjs' | 'module'): Promise<{ dir: string; template: Template }> {
  const dir = path.join(tmp, `${kind}-app`);
  await mkdir(path.join(dir, 'node_modules'), { recursive: true });
  const packed = JSON.parse(
    (await run('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })).stdout,
  ) as { dependencies: Record<string, string>; peerDependencies: Record<string, string> };
  // The package's dependencies, found installed (npm keeps what satisfies a dependency, and fetches nothing).
  for (const name of Object.keys(packed.dependencies)) {
    await mkdir(path.dirname(path.join(dir, 'node_modules', name)), { recursive: true });
    await symlink(path.join(REPO_ROOT, 'node_modules', name), path.join(dir, 'node_modules', name));
  }
  // The app's own: aws-cdk-lib and constructs (the package's peers), and @types/node, linked from here.
  const fromRepo = (name: string) => `file:${path.join(REPO_ROOT, 'node_modules', name)}`;
  await writeFile(
    path.join(dir, 'package.json'),
    JSON.stringify({
      name: `${kind}-cdk-app`,
      version: '1.0.0',
      private: true,
      type: kind,
      dependencies: Object.fromEntries(
        Object.keys(packed.peerDependencies).map((name) => [name, fromRepo(name)]),
      ),
      devDependencies: { '@types/node': fromRepo('@types/node') },
    }),
  );
  await writeFile(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        outDir: 'out',
        types: ['node'],
      },
      include: ['app.ts'],
    }),
  );
  await writeFile(path.join(dir, 'app.ts'), APP_SOURCE);
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], {
    cwd: dir,
  });
  await run(TSC, ['-p', '.'], { cwd: dir }).catch((error: { stdout?: string }) => {
    throw new Error(`tsc failed in the ${kind} app:\n${error.stdout ?? ''}`);
  });
  await run(process.execPath, ['out/app.js'], { cwd: dir });
  const template = JSON.parse(
    await readFile(path.join(dir, 'cdk.out', 'PackagedRotator.template.json'), 'utf8'),
  ) as Template;
  return { dir, template };
}

type Template = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'rotator-package-'));
  const staging = path.join(tmp, 'staging');
  await mkdir(staging);
  await stagePackage(staging);
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], {
    cwd: staging,
  });
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  if (packed === undefined) throw new Error('npm pack reported no tarball');
  tarball = path.join(tmp, packed.filename);
  packedFiles = packed.files.map((f) => f.path);
}, 120_000);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('the packed construct', () => {
  it('carries the construct, its types, the prebuilt function and no TypeScript source of lib/', () => {
    expect(packedFiles).toEqual(
      expect.arrayContaining([
        'package.json',
        'dist/lib/index.cjs',
        'dist/lib/index.d.cts',
        'dist/types/lib/momento-key-rotator.d.ts',
        `dist/function/${FUNCTION_ENTRY}`,
        'dist/client/index.js',
      ]),
    );
    expect(packedFiles.filter((f) => f.startsWith('lib/') || f.startsWith('test/'))).toEqual([]);
  });

  it.each(['commonjs', 'module'] as const)(
    'is installed by npm into a fresh %s CDK app, whose strict tsc build synthesizes the rotator',
    async (kind) => {
      const { dir, template } = await synthesizeApp(kind);

      const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
      expect(functions).toHaveLength(1);
      expect(functions[0]?.Properties).toMatchObject({
        FunctionName: 'PackagedRotator-rotator',
        Handler: 'index.handler',
        Runtime: 'nodejs24.x',
        Environment: { Variables: expect.objectContaining({ ROTATOR_SECRET_TAG: 'team=platform' }) },
      });
      // The asset is the function inside the installed package, not this repository's dist/.
      const assets = (await readdir(path.join(dir, 'cdk.out'))).filter((f) => f.startsWith('asset.'));
      const withEntry: string[] = [];
      for (const asset of assets) {
        const files = await readdir(path.join(dir, 'cdk.out', asset)).catch((): string[] => []);
        if (files.includes(FUNCTION_ENTRY)) withEntry.push(asset);
      }
      expect(withEntry).toHaveLength(1);
      const installed = await readFile(
        path.join(dir, 'node_modules', 'momento-token-rotator', 'dist', 'function', FUNCTION_ENTRY),
      );
      const deployed = await readFile(path.join(dir, 'cdk.out', withEntry[0] as string, FUNCTION_ENTRY));
      expect(deployed.equals(installed)).toBe(true);
    },
    120_000,
  );
});
