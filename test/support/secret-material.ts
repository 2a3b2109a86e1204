import { randomBytes } from 'node:crypto';
import { format } from 'node:util';
import { afterAll, beforeEach, expect } from 'vitest';

/**
 * Invariant 5 across a whole test file: every key and refresh token a test makes is registered here; every
 * byte written to stdout/stderr (Powertools logs and EMF metrics), every thrown message (with its causes) and
 * every handler result is recorded; after the file, none of them may contain any 8-character substring of
 * any registered secret.
 */
const registered = new Set<string>();
const transcript: string[] = [];

export function secretMaterial(prefix: string): string {
  const value = `${prefix}-${randomBytes(24).toString('base64url')}`;
  registered.add(value);
  return value;
}

/**
 * A key as a user might paste it instead of the console JSON: no readable label in front, starting like
 * Momento's own keys (a JWT's "eyJ"), so that whatever quotes the start of a value quotes secret characters.
 * Registered whole: every 8-character piece of it counts as a leak.
 */
export function bareKeyMaterial(): string {
  const value = `eyJ${randomBytes(24).toString('base64url')}`;
  registered.add(`bare-${value}`);
  return value;
}

/** Registers material made elsewhere (e.g. by an emulator). */
export function registerSecret(value: string): void {
  registered.add(value);
}

export function record(text: string): void {
  transcript.push(text);
}

export function recordError(error: unknown): void {
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 10; depth += 1) {
    if (current instanceof Error) {
      record(`${current.name}: ${current.message}`);
      record(String(current.stack ?? ''));
      current = current.cause;
    } else {
      record(JSON.stringify(current) ?? String(current));
      current = undefined;
    }
  }
}

function substrings(secret: string): Set<string> {
  const out = new Set<string>();
  // Every registered value starts with a readable label ("key-", "rt-"); the random part is what must not leak.
  const random = secret.slice(secret.indexOf('-') + 1);
  for (let i = 0; i + 8 <= random.length; i += 1) out.add(random.slice(i, i + 8));
  return out;
}

export function leaksIn(text: string): string[] {
  const found: string[] = [];
  for (const secret of registered) {
    for (const piece of substrings(secret)) {
      if (text.includes(piece)) {
        found.push(`${secret.slice(0, secret.indexOf('-'))}-…(8 chars matched)`);
        break;
      }
    }
  }
  return found;
}

const originalStdout = process.stdout.write.bind(process.stdout);
const originalStderr = process.stderr.write.bind(process.stderr);
let captured = '';
/** Where the current test's output starts, so metric assertions see only their own test. */
let testStart = 0;
beforeEach(() => {
  testStart = captured.length;
});

type Write = typeof process.stdout.write;
process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
  captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
  return process.env.SHOW_LOGS ? originalStdout(chunk as string, ...(rest as [])) : true;
}) as Write;
process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
  captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
  return process.env.SHOW_LOGS ? originalStderr(chunk as string, ...(rest as [])) : true;
}) as Write;

// vitest routes the global console to its reporter, past the writes above: record it too, since a stray
// console.log in Lambda lands in the same log stream as the Powertools records.
for (const method of ['debug', 'log', 'info', 'warn', 'error', 'trace'] as const) {
  const original = console[method].bind(console);
  console[method] = (...args: unknown[]) => {
    record(format(...args));
    original(...args);
  };
}

/** Everything written to stdout/stderr so far in this file. */
export function capturedOutput(): string {
  return captured;
}

/** EMF metrics written by the current test: one entry per metric value, with its dimensions. */
export function emittedMetrics(): Array<{ name: string; value: number; dimensions: Record<string, string> }> {
  const out: Array<{ name: string; value: number; dimensions: Record<string, string> }> = [];
  for (const line of captured.slice(testStart).split('\n')) {
    if (!line.includes('"_aws"')) continue;
    const emf = JSON.parse(line) as {
      _aws: { CloudWatchMetrics: Array<{ Dimensions: string[][]; Metrics: Array<{ Name: string }> }> };
    } & Record<string, unknown>;
    for (const directive of emf._aws.CloudWatchMetrics) {
      const dimensions: Record<string, string> = {};
      for (const name of directive.Dimensions.flat()) dimensions[name] = String(emf[name]);
      for (const metric of directive.Metrics) {
        const raw = emf[metric.Name];
        for (const value of Array.isArray(raw) ? raw : [raw])
          out.push({ name: metric.Name, value: Number(value), dimensions });
      }
    }
  }
  return out;
}

/** JSON log records (Powertools Logger) written by the current test, EMF metrics left out. */
export function loggedRecords(): Array<{ level: string; message: string } & Record<string, unknown>> {
  return captured
    .slice(testStart)
    .split('\n')
    .filter((line) => line.startsWith('{') && !line.includes('"_aws"'))
    .map((line) => JSON.parse(line));
}

export function metricCount(name: string): number {
  return emittedMetrics().filter((m) => m.name === name).length;
}

afterAll(() => {
  expect(registered.size, 'tests registered secret material to look for').toBeGreaterThan(0);
  const leaks = [...leaksIn(captured), ...leaksIn(transcript.join('\n'))];
  expect(leaks, 'secret material found in logs, metrics, errors or results').toEqual([]);
});
