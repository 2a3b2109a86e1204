import { appendFileSync } from 'node:fs';

interface Entry {
  readonly attempt: number;
  readonly at: number;
  readonly real: number;
  readonly text: string;
}

/**
 * Debug aid (CHAOS_TRACE=<file>): every event of the last few attempts — the function's log lines, the
 * invocations, the Momento and Secrets Manager calls — so that a lost chain can be told as a sequence of events.
 */
export class Trace {
  #entries: Entry[] = [];
  attempt = 0;
  constructor(
    private readonly file: string,
    private readonly clock: () => number,
    private readonly keep = 12,
  ) {}

  add(text: string): void {
    this.#entries.push({ attempt: this.attempt, at: this.clock(), real: performance.now(), text });
  }

  startAttempt(attempt: number): void {
    this.attempt = attempt;
    const oldest = attempt - this.keep;
    if (this.#entries.length > 0 && (this.#entries[0] as Entry).attempt < oldest) {
      this.#entries = this.#entries.filter((e) => e.attempt >= oldest);
    }
  }

  dump(title: string, mentions: readonly string[]): void {
    const lines = this.#entries
      .filter((e) => mentions.some((m) => e.text.includes(m)) || e.text.startsWith('attempt '))
      .map((e) => {
        const t = new Date(e.at).toISOString().slice(11, 23);
        return `#${e.attempt} ${t} real=${e.real.toFixed(0)} ${e.text}`;
      });
    appendFileSync(this.file, `\n===== ${title}\n${lines.join('\n')}\n`);
  }
}
