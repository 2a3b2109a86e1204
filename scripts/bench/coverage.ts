/**
 * Which original modules the functions that ran in a child came from. The bundle is a single minified CJS
 * file, so Node's module registry cannot tell whether the Momento SDK was evaluated (its modules are closures
 * inside the bundle, and the built-in modules it needs are needed by the AWS SDK too). V8's precise coverage
 * can: it lists every function of the bundle that ran, by character offset; the bundle's source map turns each
 * offset back into the file it was compiled from.
 */
import { readFile } from 'node:fs/promises';
import { SourceMap, type SourceMapPayload } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bundle } from './bundles';
import type { CoverageReport } from './processes';

export interface ModuleActivity {
  /** Functions of the bundle that ran at least once. */
  readonly executed: number;
  /** Of these, functions compiled from modules reachable only through @gomomento/sdk. */
  readonly momento: number;
  /** Those per package, for the JSON output. */
  readonly momentoPackages: Readonly<Record<string, number>>;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** Zero-based line and column of a character offset (V8 offsets and source-map columns are both UTF-16). */
function position(starts: readonly number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] ?? 0) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo, column: offset - (starts[lo] ?? 0) };
}

export async function moduleActivity(bundle: Bundle, report: CoverageReport): Promise<ModuleActivity> {
  if (bundle.mapFile === undefined)
    throw new Error(`${bundle.name}: a source map is needed to attribute coverage`);
  const [code, mapText] = await Promise.all([
    readFile(bundle.file, 'utf8'),
    readFile(bundle.mapFile, 'utf8'),
  ]);
  const payload = JSON.parse(mapText) as SourceMapPayload;
  const map = new SourceMap(payload);
  const starts = lineStarts(code);
  const mapDir = path.dirname(bundle.mapFile);
  const packages: Record<string, number> = {};
  let momento = 0;
  for (const fn of report.executed) {
    const { line, column } = position(starts, fn.start);
    const entry = map.findEntry(line, column) as { originalSource?: string };
    if (entry.originalSource === undefined) continue;
    const source = entry.originalSource.startsWith('file:')
      ? fileURLToPath(entry.originalSource)
      : path.resolve(mapDir, entry.originalSource);
    if (!bundle.momentoInputs.has(source)) continue;
    momento += 1;
    const name = /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source)?.[1] ?? source;
    packages[name] = (packages[name] ?? 0) + 1;
  }
  return { executed: report.executed.length, momento, momentoPackages: packages };
}
