/**
 * Bundles for the benchmark, built with the esbuild options the stack's NodejsFunction passes (see
 * lib/momento-key-rotator.ts), and the size analysis of each bundle from its esbuild metafile.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type BuildOptions, build, type Metafile } from 'esbuild';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
const STACK_SOURCE = path.join(REPO_ROOT, 'lib', 'momento-key-rotator.ts');

export interface StackOptions {
  readonly esbuild: BuildOptions;
  /** How the options were obtained, for the report: what was read from lib/ and anything not understood. */
  readonly notes: readonly string[];
  readonly warnings: readonly string[];
}

/**
 * Reads the NodejsFunction `runtime` and `bundling` props from lib/momento-key-rotator.ts and translates them
 * the way aws-cdk-lib's Bundling does (aws-lambda-nodejs/lib/bundling.js): `--target=node<runtime version>`,
 * `--platform=node`, `--format`, `--minify`, `--sourcemap`, `--sources-content`, `--keep-names`, and the
 * `@aws-sdk/*` external unless `bundleAwsSDK`. Reading the stack source rather than hard-coding keeps the
 * benchmark honest when someone changes the stack; an option it does not know is reported, not ignored.
 * Checked once by hand: the bundle built here was byte-identical to the asset in cdk.out.
 */
export async function stackBundlingOptions(): Promise<StackOptions> {
  const source = await readFile(STACK_SOURCE, 'utf8');
  const warnings: string[] = [];
  const runtime = /runtime:\s*lambda\.Runtime\.NODEJS_(\d+)_X/.exec(source)?.[1];
  if (runtime === undefined) warnings.push('runtime not found in lib/momento-key-rotator.ts; assumed node24');
  const block = /bundling:\s*\{([\s\S]*?)\n\s*\},/.exec(source)?.[1] ?? '';
  if (block === '') warnings.push('bundling block not found in lib/momento-key-rotator.ts; defaults assumed');
  const props = new Map<string, string>();
  for (const line of block.split('\n')) {
    const match = /^\s*([A-Za-z]+):\s*([^,]+),?\s*$/.exec(line.replace(/\/\/.*$/, ''));
    if (match?.[1] !== undefined && match[2] !== undefined) props.set(match[1], match[2].trim());
  }
  const flag = (name: string, fallback: boolean): boolean => {
    const value = props.get(name);
    props.delete(name);
    return value === undefined ? fallback : value === 'true';
  };
  const format = props.get('format')?.endsWith('ESM') ? 'esm' : 'cjs';
  props.delete('format');
  const options: BuildOptions = {
    bundle: true,
    platform: 'node',
    target: `node${runtime ?? '24'}`,
    format,
    minify: flag('minify', false),
    keepNames: flag('keepNames', false),
    sourcemap: flag('sourceMap', false),
    sourcesContent: flag('sourcesContent', true),
    external: flag('bundleAwsSDK', false) ? [] : ['@aws-sdk/*'],
    metafile: true,
    logLevel: 'error',
  };
  // Docker or not changes where esbuild runs, not what it produces.
  props.delete('forceDockerBundling');
  for (const [name, value] of props) {
    warnings.push(`bundling option ${name}: ${value} is not reproduced by the benchmark`);
  }
  const notes = [
    `target ${options.target}, format ${format}, minify ${options.minify}, keepNames ${options.keepNames}, ` +
      `sourcemap ${options.sourcemap}, sourcesContent ${options.sourcesContent}, ` +
      `externals ${(options.external ?? []).length === 0 ? 'none (bundleAwsSDK)' : options.external?.join(' ')}`,
  ];
  return { esbuild: options, notes, warnings };
}

export interface BundleSpec {
  readonly name: string;
  /** Project directory: esbuild resolves node_modules and tsconfig from here, as in that project's own build. */
  readonly workDir: string;
  /** Entry file relative to workDir, or module text (for "this package alone"). */
  readonly entry: { readonly file: string } | { readonly contents: string };
  readonly outFile: string;
  /** Extra externals on top of the stack's, for what-if variants only. */
  readonly external?: readonly string[];
}

export interface SizeShare {
  readonly bytes: number;
  /** Bytes per npm package, largest first. */
  readonly packages: readonly { readonly name: string; readonly bytes: number }[];
}

export interface Bundle {
  readonly name: string;
  readonly file: string;
  readonly mapFile: string | undefined;
  readonly bytes: number;
  readonly mapBytes: number;
  /** Everything reachable only through `@gomomento/sdk`: what lazy loading keeps from being evaluated. */
  readonly momento: SizeShare;
  /** The narrower `@gomomento/*` + `@grpc/*` share (what scripts/build.ts prints). */
  readonly momentoAndGrpcBytes: number;
  /** Absolute paths of the inputs in `momento`, to recognise them in coverage data. */
  readonly momentoInputs: ReadonlySet<string>;
}

const MOMENTO = /(^|\/)node_modules\/@gomomento\//;

function packageOf(input: string): string {
  const match = /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return match?.[1] ?? '(own code)';
}

export async function buildBundle(spec: BundleSpec, stack: StackOptions): Promise<Bundle> {
  const result = await build({
    ...stack.esbuild,
    absWorkingDir: spec.workDir,
    outfile: spec.outFile,
    external: [...(stack.esbuild.external ?? []), ...(spec.external ?? [])],
    ...('file' in spec.entry
      ? { entryPoints: [spec.entry.file] }
      : { stdin: { contents: spec.entry.contents, resolveDir: spec.workDir, loader: 'js' as const } }),
  });
  const metafile = result.metafile as Metafile;
  const outputs = Object.entries(metafile.outputs);
  const [outKey, output] = outputs.find(([, out]) => out.entryPoint !== undefined) ?? [];
  if (outKey === undefined || output === undefined)
    throw new Error(`${spec.name}: no output in the metafile`);
  const map = outputs.find(([key]) => key === `${outKey}.map`)?.[1];

  // Inputs reachable from the entry without entering @gomomento: everything else in the bundle is there only
  // for the SDK, i.e. deferred by a lazy import (and evaluated at once by an eager one).
  const reachable = new Set<string>();
  const queue = [output.entryPoint as string];
  while (queue.length > 0) {
    const input = queue.pop() as string;
    if (reachable.has(input) || MOMENTO.test(input)) continue;
    reachable.add(input);
    for (const edge of metafile.inputs[input]?.imports ?? []) {
      if (!edge.external) queue.push(edge.path);
    }
  }
  const perPackage = new Map<string, number>();
  const momentoInputs = new Set<string>();
  let momentoBytes = 0;
  let momentoAndGrpcBytes = 0;
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    if (/node_modules\/@(gomomento|grpc)\//.test(input)) momentoAndGrpcBytes += bytesInOutput;
    if (reachable.has(input)) continue;
    momentoBytes += bytesInOutput;
    momentoInputs.add(path.resolve(spec.workDir, input));
    perPackage.set(packageOf(input), (perPackage.get(packageOf(input)) ?? 0) + bytesInOutput);
  }
  return {
    name: spec.name,
    file: path.resolve(spec.workDir, outKey),
    mapFile: map === undefined ? undefined : path.resolve(spec.workDir, `${outKey}.map`),
    bytes: output.bytes,
    mapBytes: map?.bytes ?? 0,
    momento: {
      bytes: momentoBytes,
      packages: [...perPackage].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes),
    },
    momentoAndGrpcBytes,
    momentoInputs,
  };
}

/** The child program (scripts/bench/container.ts) as plain CommonJS, so children run without tsx's loader. */
export async function buildContainer(outFile: string): Promise<string> {
  await build({
    entryPoints: [path.join(REPO_ROOT, 'scripts', 'bench', 'container.ts')],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'error',
  });
  return outFile;
}
