/**
 * Bundles the Lambda entry with the options the stack gives NodejsFunction (esbuild, CJS, the Node 24
 * runtime, minified, names kept, source maps without sources), into dist/handler.cjs, with a metafile.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { build } from 'esbuild';

export const BUNDLE = 'dist/handler.cjs';

export async function bundle(): Promise<{ bytes: number; momentoBytes: number }> {
  await mkdir('dist', { recursive: true });
  const result = await build({
    entryPoints: ['src/handler.ts'],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    minify: true,
    // The Momento SDK's responses print themselves with constructor.name.
    keepNames: true,
    sourcemap: true,
    sourcesContent: false,
    metafile: true,
    logLevel: 'warning',
  });
  await writeFile('dist/meta.json', JSON.stringify(result.metafile));
  const output = result.metafile.outputs[BUNDLE];
  let momentoBytes = 0;
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    if (input.includes('node_modules/@gomomento/') || input.includes('node_modules/@grpc/'))
      momentoBytes += bytesInOutput;
  }
  return { bytes: output?.bytes ?? 0, momentoBytes };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { bytes, momentoBytes } = await bundle();
  console.log(
    `${BUNDLE}: ${(bytes / 1024).toFixed(0)} KiB (Momento SDK + gRPC: ${(momentoBytes / 1024).toFixed(0)} KiB)`,
  );
}
