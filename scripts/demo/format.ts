export { fingerprint } from '../../src/fingerprint';

/**
 * Small, pure formatting helpers for the demo narration. Nothing here ever sees a key except
 * {@link fingerprint}, which only returns a piece of a one-way hash of it.
 */

/** Version ids are UUIDs; their first group is what a person compares at a glance. */
export function shortId(id: string | undefined): string {
  return id === undefined ? '—' : id.slice(0, 8);
}

/** HH:MM in UTC: the story spans a couple of simulated hours of one day. */
export function clockTime(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(11, 16);
}

/** 3000 → "50m", 3600 → "1h 00m", -120 → "expired 2m ago". */
export function duration(seconds: number): string {
  if (seconds < 0) return `expired ${duration(-seconds)} ago`;
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  const hours = Math.floor(minutes / 60);
  const tail = rest === 0 ? '' : ` ${rest}s`;
  if (hours === 0) return minutes === 0 ? `${rest}s` : `${minutes}m${tail}`;
  return `${hours}h ${String(minutes % 60).padStart(2, '0')}m${tail}`;
}

const UUID = /\b([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z$/;

/**
 * Makes the function's own (already secret-free) text fit a terminal: the secret's ARN becomes its name and
 * version ids their first 8 characters. Only for display; the raw lines go to the log file unchanged.
 */
export function compact(text: string, arnToName: ReadonlyMap<string, string>): string {
  let out = text;
  for (const [arn, name] of arnToName) out = out.split(arn).join(name);
  return out.replace(UUID, '$1');
}

/** One structured log field, shown the way a person reads it (times, durations, short ids). */
export function fieldValue(key: string, value: unknown, arnToName: ReadonlyMap<string, string>): string {
  if (typeof value === 'number') {
    if (/validUntil$/i.test(key)) return `${clockTime(value * 1000)}Z`;
    if (/^seconds/i.test(key)) return duration(value);
    return String(value);
  }
  if (typeof value === 'string') {
    if (ISO_DATE.test(value)) return `${clockTime(Date.parse(value))}Z`;
    return compact(value, arnToName);
  }
  return compact(JSON.stringify(value) ?? String(value), arnToName);
}

/**
 * Greedy word wrap; a word longer than the width gets a line of its own. Pass an array to wrap whole items
 * (such as `key=value` fields) joined by `separator`.
 */
export function wrap(text: string | readonly string[], width: number, separator = ' '): string[] {
  const words = typeof text === 'string' ? text.split(/\s+/) : text;
  const lines: string[] = [];
  let line = '';
  for (const word of words.filter((w) => w.length > 0)) {
    if (line === '') line = word;
    else if (line.length + separator.length + word.length <= width) line += `${separator}${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== '') lines.push(line);
  return lines.length === 0 ? [''] : lines;
}
