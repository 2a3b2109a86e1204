import { compact, fieldValue, wrap } from './format';
import { type LogEntry, type MetricsEntry, parseLine } from './function-output';
import type { Style, Terminal } from './terminal';

/** Narration lines stay readable in an 100-column terminal. */
const WIDTH = 100;
const HEADER_WIDTH = 42;

/** Fields the header already says (door, step, version) or that name the demo's only secret. */
const HIDDEN_FIELDS = new Set(['door', 'step', 'secretArn', 'secretId']);

/** Says "the invocation succeeded" once more: the header's ✓ already does. */
const ECHO_MESSAGES = new Set(['invocation succeeded']);

/**
 * Powertools Metrics' plain-text notice for an invocation that counted nothing (most rotation steps). It says
 * nothing about the rotation, so the narration leaves it to the log file.
 */
const POWERTOOLS_EMPTY_METRICS_NOTICE = /^No application metrics to publish\b/;

export interface InvocationView {
  /** What was invoked: `schedule`, `createSecret`, `rotate (manual)`... */
  readonly label: string;
  /** The rotation version the invocation works on, if any (shown short in the header, hidden in fields). */
  readonly versionId?: string | undefined;
  readonly attempt?: number;
  readonly ok: boolean;
  /** Set when this invocation started a new Lambda container (its number). */
  readonly coldStartContainer?: number;
  readonly durationMs: number;
  readonly lines: readonly string[];
  /**
   * `full`: every log message and metric; `quiet`: the header only, unless something was warned or failed
   * (problems are never hidden).
   */
  readonly detail: 'full' | 'quiet';
  /** A retry that logged exactly what an earlier attempt logged: shown as a reference to that attempt. */
  readonly sameAsAttempt?: number;
}

/** What an invocation said, without timestamps and values: equal for two attempts that failed the same way. */
export function signature(lines: readonly string[]): string {
  return lines
    .map(parseLine)
    .map((entry) => {
      if (entry.kind === 'log')
        return `${entry.level} ${entry.message} ${String(entry.fields.errorName ?? '')}`;
      if (entry.kind === 'metrics') return entry.metrics.map((m) => m.name).join(',');
      return entry.text;
    })
    .join('\n');
}

const LEVEL_STYLE: Readonly<Record<string, Style | readonly Style[]>> = {
  debug: 'dim',
  info: 'dim',
  warn: 'yellow',
  error: ['red', 'bold'],
  critical: ['red', 'bold'],
};

/** One invocation of the function, as a header line and (when asked) what it logged and measured. */
export function renderInvocation(
  term: Terminal,
  view: InvocationView,
  arnToName: ReadonlyMap<string, string>,
): void {
  const entries = view.lines.map(parseLine);
  const logs = entries.filter((e): e is LogEntry => e.kind === 'log');
  const troubled = logs.some((l) => l.level !== 'info' && l.level !== 'debug') || !view.ok;

  const title = [
    'λ',
    view.label,
    view.versionId === undefined ? '' : view.versionId.slice(0, 8),
    view.attempt !== undefined && view.attempt > 1 ? `(attempt ${view.attempt})` : '',
  ]
    .filter((part) => part !== '')
    .join(' ');
  const verdict = view.ok
    ? term.paint('green', `✓ ${Math.round(view.durationMs)} ms`)
    : term.paint(['red', 'bold'], `✗ failed, ${Math.round(view.durationMs)} ms`);
  const cold =
    view.coldStartContainer === undefined
      ? ''
      : term.paint('dim', `  ❄ cold start, container ${view.coldStartContainer}`);
  term.line(`     ${term.paint('bold', title.padEnd(HEADER_WIDTH - 5))} ${verdict}${cold}`);
  if (view.detail === 'quiet' && !troubled) return;
  if (view.sameAsAttempt !== undefined) {
    term.line(term.paint('dim', `       (the same log lines and metrics as attempt ${view.sameAsAttempt})`));
    return;
  }

  for (const entry of entries) {
    if (entry.kind === 'log') {
      if (ECHO_MESSAGES.has(entry.message)) continue;
      if (view.detail === 'quiet' && (entry.level === 'info' || entry.level === 'debug')) continue;
      renderLog(term, entry, view.versionId, arnToName);
    } else if (entry.kind === 'metrics') {
      if (view.detail === 'quiet') continue;
      renderMetrics(term, entry);
    } else if (!POWERTOOLS_EMPTY_METRICS_NOTICE.test(entry.text)) {
      for (const text of wrap(compact(entry.text, arnToName), WIDTH - 13)) {
        term.line(`       ${term.paint('dim', `text   ${text}`)}`);
      }
    }
  }
}

function renderLog(
  term: Terminal,
  entry: LogEntry,
  versionId: string | undefined,
  arnToName: ReadonlyMap<string, string>,
): void {
  const style = LEVEL_STYLE[entry.level] ?? 'dim';
  const fields = Object.entries(entry.fields)
    .filter(([key, value]) => !HIDDEN_FIELDS.has(key) && !(key === 'versionId' && value === versionId))
    .filter(([key]) => key !== 'errorMessage')
    .map(([key, value]) => `${key}=${fieldValue(key, value, arnToName)}`);
  const level = entry.level.padEnd(6);
  const message = compact(entry.message, arnToName);
  const inline = [message, ...fields].join('  ');
  const width = WIDTH - 14;
  // Short lines keep their fields inline; a long message gets its fields on lines of their own, dimmed.
  const messageLines = inline.length <= width ? [inline] : wrap(message, width);
  const fieldLines = inline.length <= width || fields.length === 0 ? [] : wrap(fields, width, '  ');
  const [first = '', ...rest] = messageLines;
  term.line(`       ${term.paint(style, level)} ${paintMessage(term, entry.level, first)}`);
  for (const line of rest) term.line(`              ${paintMessage(term, entry.level, line)}`);
  for (const line of fieldLines) term.line(`              ${term.paint('dim', line)}`);
  // The error's own words on their own lines: the part of a failure people read first.
  const errorMessage = entry.fields.errorMessage;
  if (typeof errorMessage === 'string') {
    for (const line of wrap(`↳ ${compact(errorMessage, arnToName)}`, WIDTH - 14)) {
      term.line(`              ${term.paint(entry.level === 'error' ? 'red' : 'yellow', line)}`);
    }
  }
}

function paintMessage(term: Terminal, level: string, text: string): string {
  if (level === 'error' || level === 'critical') return term.paint('red', text);
  if (level === 'warn') return term.paint('yellow', text);
  return text;
}

function renderMetrics(term: Terminal, entry: MetricsEntry): void {
  const shown = entry.metrics.map(({ name, value, unit }) => {
    const values = Array.isArray(value) ? value : [value];
    if (unit === 'Seconds' && values.length === 1 && typeof values[0] === 'number') {
      return `${name} ${fieldValue('seconds', values[0], new Map())}`;
    }
    if (unit === 'Count' && values.every((v) => v === 1)) {
      return values.length === 1 ? name : `${name} ×${values.length}`;
    }
    return `${name} ${values.join(',')}`;
  });
  if (shown.length === 0) return;
  term.line(`       ${term.paint('magenta', 'metric')} ${term.paint('magenta', shown.join(' · '))}`);
}
