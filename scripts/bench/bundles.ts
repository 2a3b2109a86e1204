/**
 * What the benchmark runs: our function exactly as the stack ships it (built by scripts/build.ts, staged by a
 * real synthesis of the stack, with the handler and NODE_OPTIONS the template gives the function), and the
 * official example bundled with its own stack's settings.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { App } from 'aws-cdk-lib';
import { build } from 'esbuild';
import { MomentoTokenRotatorStack } from '../../lib';
import { buildFunction } from '../build';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface FileSize {
  readonly file: string;
  readonly bytes: number;
  readonly gzipBytes: number;
}

export interface ShippedFunction {
  /** The asset directory as synthesis staged it (what `cdk deploy` zips). */
  readonly dir: string;
  /** The file Lambda loads for the template's handler. */
  readonly entry: string;
  readonly handler: string;
  readonly runtime: string;
  /** NODE_OPTIONS in the function's environment; undefined when the stack sets none. */
  readonly nodeOptions: string | undefined;
  /** The entry and the chunks it imports statically: every cold start loads these. */
  readonly staticFiles: readonly FileSize[];
  /** The chunk holding the Momento SDK, loaded by the first Momento call of a container. */
  readonly momentoChunk: FileSize;
  /** Every code file of the asset, and the source maps beside them. */
  readonly codeBytes: number;
  readonly mapBytes: number;
}

async function sizeOf(file: string): Promise<FileSize> {
  const content = await readFile(file);
  return { file, bytes: content.length, gzipBytes: gzipSync(content).length };
}

export const total = (files: readonly FileSize[], key: 'bytes' | 'gzipBytes' = 'bytes'): number =>
  files.reduce((sum, f) => sum + f[key], 0);

/**
 * Builds dist/function from the current tree, synthesizes the one-command stack into `outdir`, and returns the
 * function as the template deploys it: the staged asset, its handler, its NODE_OPTIONS.
 */
export async function shippedFunction(outdir: string): Promise<ShippedFunction> {
  const built = await buildFunction();
  const cdkJson = JSON.parse(await readFile(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  const app = new App({ outdir, context: cdkJson.context ?? {} });
  const stack = new MomentoTokenRotatorStack(app, 'MomentoTokenRotator', { secretNames: ['bench/momento'] });
  const assembly = app.synth();
  const template = assembly.getStackArtifact(stack.artifactId).template as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
  if (functions.length !== 1)
    throw new Error(`expected one function in the template, found ${functions.length}`);
  const props = functions[0]?.Properties as {
    Handler: string;
    Runtime: string;
    Environment?: { Variables?: Record<string, unknown> };
  };
  const manifest = JSON.parse(
    await readFile(path.join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8'),
  ) as { files: Record<string, { source: { path: string; packaging?: string } }> };
  const zips = Object.values(manifest.files).filter((f) => f.source.packaging === 'zip');
  if (zips.length !== 1) throw new Error(`expected one zip asset, found ${zips.length}`);
  const dir = path.join(assembly.directory, zips[0]?.source.path ?? '');
  const entry = await handlerFile(dir, props.Handler);
  // The build knows which chunks are which; the staged asset holds the same files under the same names.
  const staged = (file: string) => path.join(dir, path.relative(built.dir, file));
  const code = built.files.map((f) => staged(f.file));
  const maps = await Promise.all(
    code.map((file) =>
      stat(`${file}.map`).then(
        (s) => s.size,
        () => 0,
      ),
    ),
  );
  const nodeOptions = props.Environment?.Variables?.NODE_OPTIONS;
  return {
    dir,
    entry,
    handler: props.Handler,
    runtime: props.Runtime,
    nodeOptions: typeof nodeOptions === 'string' ? nodeOptions : undefined,
    staticFiles: await Promise.all(built.staticFiles.map((file) => sizeOf(staged(file)))),
    momentoChunk: await sizeOf(staged(built.momentoChunk)),
    codeBytes: total(await Promise.all(code.map(sizeOf))),
    mapBytes: maps.reduce((sum, n) => sum + n, 0),
  };
}

/** The file Lambda's Node.js runtime loads for `module.function`: the first of .js, .mjs, .cjs that exists. */
async function handlerFile(dir: string, handler: string): Promise<string> {
  const module = handler.slice(0, handler.lastIndexOf('.'));
  for (const extension of ['.js', '.mjs', '.cjs']) {
    const file = path.join(dir, `${module}${extension}`);
    if (
      await stat(file).then(
        () => true,
        () => false,
      )
    )
      return file;
  }
  throw new Error(`handler ${handler}: no ${module}.js, .mjs or .cjs in ${dir}`);
}

export interface ExampleBundle {
  readonly name: string;
  readonly file: string;
  readonly size: FileSize;
  /** How it was built, for the report. */
  readonly settings: string;
  /** Environment its process needs: NODE_PATH to the example's own @aws-sdk when the bundle leaves it out. */
  readonly env: Readonly<Record<string, string>>;
}

/**
 * The example as its own stack (infrastructure/lib/infrastructure-stack.ts) builds it: NodejsFunction with
 * `runtime: NODEJS_18_X` and no `bundling` props, which aws-cdk-lib turns into esbuild `--bundle
 * --platform=node --target=node18 --format=cjs --external:@aws-sdk/*` (the runtime provides AWS SDK v3),
 * unminified, no source map. And the plain minified build of the same entry: everything inside, minified, no
 * source map. Neither is given a source map or NODE_OPTIONS.
 */
export async function exampleBundles(exampleDir: string, outDir: string): Promise<ExampleBundle[]> {
  const common = {
    absWorkingDir: exampleDir,
    entryPoints: ['src/index.ts'],
    bundle: true,
    platform: 'node' as const,
    target: 'node18',
    format: 'cjs' as const,
    logLevel: 'error' as const,
  };
  const minified = path.join(outDir, 'example-minified', 'index.js');
  await build({ ...common, outfile: minified, minify: true });
  const asShipped = path.join(outDir, 'example-as-shipped', 'index.js');
  await build({ ...common, outfile: asShipped, external: ['@aws-sdk/*'] });
  return [
    {
      name: 'minified',
      file: minified,
      size: await sizeOf(minified),
      settings: 'esbuild --minify, node18, cjs, AWS SDK inside, no source map',
      env: {},
    },
    {
      name: 'as its stack builds it',
      file: asShipped,
      size: await sizeOf(asShipped),
      settings:
        'NodejsFunction defaults for NODEJS_18_X: node18, cjs, not minified, @aws-sdk/* from node_modules',
      env: { NODE_PATH: path.join(exampleDir, 'node_modules') },
    },
  ];
}

export interface ClientBundleSizes {
  /** Minified, `@aws-sdk/*` and `@gomomento/sdk` left to the application (which has them anyway). */
  readonly sdksExternal: FileSize;
  /** Minified, everything inside: the SDKs, gRPC, zod. */
  readonly everythingInside: FileSize;
}

/** What `momento-token-rotator/client` adds to an application bundled with esbuild (ESM, Node 20, minified). */
export async function clientBundleSizes(): Promise<ClientBundleSizes> {
  const bundle = async (external: string[]): Promise<FileSize> => {
    const result = await build({
      absWorkingDir: REPO_ROOT,
      entryPoints: ['src/client/index.ts'],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      minify: true,
      external,
      logLevel: 'silent',
    });
    const content = Buffer.from(result.outputFiles[0]?.contents ?? new Uint8Array());
    return { file: 'client', bytes: content.length, gzipBytes: gzipSync(content).length };
  };
  return {
    sdksExternal: await bundle(['@aws-sdk/*', '@gomomento/sdk']),
    everythingInside: await bundle([]),
  };
}
