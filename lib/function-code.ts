import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * Where the prebuilt function is: `dist/function/`, written by `npm run build` (scripts/build.ts). From this file
 * in the repository, `<repo>/lib/`, that is `../dist/function`; from the compiled construct the package ships,
 * `<package>/dist/lib/index.cjs` (scripts/build.ts, buildConstruct), it is `../function`.
 */
export const FUNCTION_CODE_DIR = functionCodeDir(directoryOfThisFile());
/** The entry file in FUNCTION_CODE_DIR, and the handler name Lambda is given for it. */
export const FUNCTION_ENTRY = 'index.mjs';
export const FUNCTION_HANDLER = 'index.handler';

/** The prebuilt function as a Lambda asset; refuses clearly when it was never built. */
export function functionCode(): lambda.Code {
  if (!existsSync(path.join(FUNCTION_CODE_DIR, FUNCTION_ENTRY))) {
    throw new Error(
      `the function code is not built: ${path.join(FUNCTION_CODE_DIR, FUNCTION_ENTRY)} is missing; ` +
        'run `npm run build` (npm run synth and npx cdk synth/deploy in this repository build it first)',
    );
  }
  return lambda.Code.fromAsset(FUNCTION_CODE_DIR);
}

function functionCodeDir(here: string): string {
  const compiled = path.basename(here) === 'lib' && path.basename(path.dirname(here)) === 'dist';
  return compiled ? path.join(here, '..', 'function') : path.join(here, '..', 'dist', 'function');
}

/**
 * The directory of this file, whichever module system loaded it. CommonJS (a CommonJS app loading the
 * compiled package, and vitest) has `__dirname`. ESM has no `__dirname`, and `import.meta` would be a syntax
 * error where CommonJS loads the file, so there it is the file name V8 records in this function's own stack
 * frame (a `file:` URL for ESM).
 */
function directoryOfThisFile(): string {
  if (typeof __dirname === 'string') return __dirname;
  const prepare = Error.prepareStackTrace;
  try {
    Error.prepareStackTrace = (_error, frames) => frames;
    const frames = new Error().stack as unknown as NodeJS.CallSite[];
    const file = frames[0]?.getFileName();
    if (file === undefined || file === null) throw new Error('cannot tell where lib/function-code is');
    return path.dirname(file.startsWith('file:') ? fileURLToPath(file) : file);
  } finally {
    Error.prepareStackTrace = prepare;
  }
}
