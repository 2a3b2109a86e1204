/**
 * `npm run build`: the Lambda function as the stack deploys it, in dist/function/ (lib/function-code.ts points
 * the construct there).
 *
 * ESM with code splitting, so that a cold start evaluates only what its path needs: `index.mjs` holds the entry
 * and everything a sweep runs; the Momento SDK, imported lazily by src/adapters/momento.ts, is a chunk of its own
 * under chunks/ that only an invocation calling Momento loads. `module` before `main` picks the AWS SDK's ES
 * builds, whose own lazy imports (credential providers Lambda never uses) become chunks too. Node 24 target,
 * minified, AWS SDK inside (the version the tests ran is the one that rotates keys). Names are not kept: that
 * costs the rotation path ~15 ms of CPU, and nothing reads them (our errors name themselves; the Momento SDK's
 * only use is printing its responses, which we never print). Source maps (without sources) lie beside each
 * file: Node reads them only with
 * `--enable-source-maps`, which the stack does not set (docs/BENCH.md has the figures); set it on the function
 * when a mapped stack trace is needed. The esbuild metafile goes to dist/function.meta.json, outside the asset.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build, type Metafile } from 'esbuild';

const REPO_ROOT = path.resolve(import.meta.dirname, '..');
export const FUNCTION_DIR = path.join(REPO_ROOT, 'dist', 'function');
export const FUNCTION_ENTRY = 'index.mjs';
const METAFILE = path.join(REPO_ROOT, 'dist', 'function.meta.json');

/**
 * esbuild's ESM output has no `require`; the CommonJS packages inside (AWS SDK, Momento SDK, gRPC) need one for
 * Node's built-in modules. Every output file gets it, chunks included.
 */
const REQUIRE_SHIM =
  "import { createRequire as __rotatorCreateRequire } from 'node:module';" +
  'const require = __rotatorCreateRequire(import.meta.url);';

export interface FunctionBuild {
  readonly dir: string;
  /** The entry file, absolute: what Lambda loads for `index.handler`. */
  readonly entry: string;
  /** Output files (absolute) with their sizes, maps excluded. */
  readonly files: readonly { readonly file: string; readonly bytes: number }[];
  /** The entry and every chunk it imports statically: what any cold start loads before the handler runs. */
  readonly staticFiles: readonly string[];
  /** The chunk that holds the Momento SDK. */
  readonly momentoChunk: string;
  readonly metafile: Metafile;
}

/** Builds the function into `outdir` (dist/function by default), removing what an earlier build left there. */
export async function buildFunction(outdir: string = FUNCTION_DIR): Promise<FunctionBuild> {
  // A chunk left from an earlier build would ship with the asset and change its hash.
  await rm(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: { index: 'src/handler.ts' },
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    mainFields: ['module', 'main'],
    target: 'node24',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    banner: { js: REQUIRE_SHIM },
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.entries(result.metafile.outputs).filter(([file]) => !file.endsWith('.map'));
  const absolute = (file: string) => path.resolve(REPO_ROOT, file);
  const entry = path.join(outdir, FUNCTION_ENTRY);
  const staticFiles = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (staticFiles.has(file)) continue;
    staticFiles.add(file);
    const output = outputs.find(([key]) => absolute(key) === file)?.[1];
    for (const edge of output?.imports ?? []) {
      if (!edge.external && edge.kind === 'import-statement') queue.push(absolute(edge.path));
    }
  }
  const momento = outputs.find(([, output]) =>
    Object.keys(output.inputs).some((input) => input.includes('node_modules/@gomomento/sdk/')),
  );
  if (momento === undefined) throw new Error('no output holds @gomomento/sdk');
  return {
    dir: outdir,
    entry,
    files: outputs.map(([file, output]) => ({ file: absolute(file), bytes: output.bytes })),
    staticFiles: [...staticFiles],
    momentoChunk: absolute(momento[0]),
    metafile: result.metafile,
  };
}

export const CLIENT_DIR = path.join(REPO_ROOT, 'dist', 'client');

/**
 * The application helper as the package's `./client` export: one ESM file with every dependency left to the
 * application's node_modules (the SDKs and zod come with the package), and its declarations from tsc. Not minified:
 * an application's own bundler minifies, and a readable file is what a person debugging their app steps into.
 */
export async function buildClient(outdir: string = CLIENT_DIR): Promise<void> {
  await rm(outdir, { recursive: true, force: true });
  await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: { index: 'src/client/index.ts' },
    outdir,
    bundle: true,
    packages: 'external',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
  await declarations('src/client/index.ts', 'src', path.join(outdir, 'types'));
  // The declarations keep src/'s layout; the export points at one entry beside the code.
  await writeFile(path.join(outdir, 'index.d.ts'), "export * from './types/client/index';\n");
}

export const CONSTRUCT_DIR = path.join(REPO_ROOT, 'dist', 'lib');

/**
 * The construct as the package's root export, for CDK apps of either module system: one CommonJS file (a
 * CommonJS app requires it; an ES module app imports it, Node reading its named exports from the annotation
 * esbuild writes for it), aws-cdk-lib and constructs left to the app (peer dependencies). No `import.meta`
 * anywhere in lib/: the file finds the prebuilt function at `../function` from its own `__dirname`. Declarations
 * from tsc under `types/`, marked CommonJS like the code they describe.
 */
export async function buildConstruct(outdir: string = CONSTRUCT_DIR): Promise<void> {
  const typesDir = path.join(outdir, '..', 'types');
  await rm(outdir, { recursive: true, force: true });
  await rm(typesDir, { recursive: true, force: true });
  await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: ['lib/index.ts'],
    outfile: path.join(outdir, 'index.cjs'),
    bundle: true,
    packages: 'external',
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
  await declarations('lib/index.ts', '.', typesDir);
  await writeFile(path.join(typesDir, 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
  await writeFile(path.join(outdir, 'index.d.cts'), "export * from '../types/lib/index.js';\n");
}

/** Declarations only, from tsc, for one entry and what it imports. */
async function declarations(entry: string, rootDir: string, outDir: string): Promise<void> {
  const tsc = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc');
  await run(tsc, [
    '--ignoreConfig',
    entry,
    '--declaration',
    '--emitDeclarationOnly',
    '--outDir',
    outDir,
    '--rootDir',
    rootDir,
    '--module',
    'preserve',
    '--moduleResolution',
    'bundler',
    '--target',
    'ES2023',
    '--strict',
    '--skipLibCheck',
    '--types',
    'node',
  ]);
}

function run(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, [...args], { cwd: REPO_ROOT }, (error, stdout, stderr) => {
      if (error === null) resolve();
      else reject(new Error(`${path.basename(command)} failed: ${stdout}${stderr}`));
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildClient();
  // stderr, as below: `cdk synth`'s stdout is the template.
  console.error(
    `${path.relative(REPO_ROOT, CLIENT_DIR)}: the application helper (momento-token-rotator/client)`,
  );
  const built = await buildFunction();
  await mkdir(path.dirname(METAFILE), { recursive: true });
  await writeFile(METAFILE, JSON.stringify(built.metafile));
  const kib = (files: readonly string[]) => {
    const bytes = built.files.filter((f) => files.includes(f.file)).reduce((sum, f) => sum + f.bytes, 0);
    return `${(bytes / 1024).toFixed(0)} KiB`;
  };
  const relative = (file: string) => path.relative(REPO_ROOT, file);
  // stderr: cdk.json runs this before the app, and `cdk synth`'s stdout is the template (`> before.yaml`).
  console.error(
    `${relative(built.entry)}: ${kib([built.entry])}, ${kib(built.staticFiles)} with the ` +
      `${built.staticFiles.length - 1} chunks it imports; Momento SDK in ${relative(built.momentoChunk)} ` +
      `(${kib([built.momentoChunk])}), loaded on first use; ${built.files.length} files`,
  );
  // The package also carries the construct; `cdk synth` in this repository loads lib/ itself and needs none.
  if (process.argv.includes('--package')) {
    await buildConstruct();
    console.error(`${path.relative(REPO_ROOT, CONSTRUCT_DIR)}: the construct (the package's root export)`);
  }
}
