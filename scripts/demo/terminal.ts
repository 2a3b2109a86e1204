import { styleText } from 'node:util';

export type Style = 'bold' | 'dim' | 'italic' | 'red' | 'green' | 'yellow' | 'cyan' | 'magenta' | 'gray';

/**
 * The narration's only way out. Everything written goes through here, so that the end-of-run leak check can
 * scan exactly what a person saw (colour codes included: they cannot hide a key, only split it).
 */
export class Terminal {
  readonly #write: (text: string) => void;
  readonly #color: boolean;
  readonly #printed: string[] = [];

  constructor(write: (text: string) => void, color: boolean) {
    this.#write = write;
    this.#color = color;
  }

  paint(style: Style | readonly Style[], text: string): string {
    if (!this.#color || text === '') return text;
    // validateStream: false because the decision (TTY, NO_COLOR) was made once, for the sink we were given.
    return styleText(style as Parameters<typeof styleText>[0], text, { validateStream: false });
  }

  line(text = ''): void {
    const out = `${text}\n`;
    this.#printed.push(out);
    this.#write(out);
  }

  /** Everything written so far. */
  get printed(): string {
    return this.#printed.join('');
  }

  /** An act's title: a blank line, a numbered heading and a rule, so that acts stand out when scrolling. */
  act(number: number, title: string, subtitle?: string): void {
    this.line();
    this.line(this.paint(['bold', 'cyan'], `━━ ${number}. ${title} `.padEnd(78, '━')));
    if (subtitle !== undefined) this.line(this.paint('dim', `   ${subtitle}`));
  }

  /** A left-aligned table with a header row; cells are plain text (painted after padding). */
  table(header: readonly string[], rows: readonly (readonly string[])[], indent = '   '): void {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const render = (cells: readonly string[]) =>
      cells
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd();
    this.line(indent + this.paint('bold', render(header)));
    this.line(indent + this.paint('dim', widths.map((w) => '─'.repeat(w)).join('  ')));
    for (const row of rows) this.line(indent + render(row));
  }
}

/** Colour only for a real terminal, honouring NO_COLOR / FORCE_COLOR (https://no-color.org). */
export function wantsColor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}
