/** One ChainAtRisk error log line, as the chaos checks need it. */
export interface ChainAtRiskReport {
  readonly secretArn: string;
  /** The run's simulated clock (epoch ms) when the line was written. */
  readonly at: number;
  /** The log's `currentKeyValidUntil` in epoch ms, when the line has one. */
  readonly currentKeyValidUntil: number | undefined;
}

/**
 * What the function logs when one of its real deadlines ran out: a Momento call past its deadline, a refresh
 * answer not awaited any longer, too little time left to start a step's work, a Secrets Manager call or retry
 * loop cut by its time budget, a manual rotation out of time. No injected fault produces these by itself.
 */
const TIME_RAN_OUT =
  /CLIENT_DEADLINE|NO_ANSWER_IN_TIME|TIMEOUT_ERROR|InsufficientTimeError|TimeoutError|AbortError|RotationTimeoutError/;

/**
 * Reads what the function writes to stdout/stderr (Powertools JSON logs and EMF metrics) during a chaos run,
 * keeps only what the checks need — ChainAtRisk reports by secret, metric counts — and swallows the rest, so
 * that thousands of rotations do not flood the terminal or the memory.
 */
export class LogTap {
  readonly #chainAtRisk = new Map<string, ChainAtRiskReport[]>();
  readonly metricTotals = new Map<string, number>();
  /** Log lines that say a real deadline of the function ran out (see TIME_RAN_OUT). */
  timeRanOut = 0;
  #restore: (() => void) | undefined;
  #partial = '';
  /** Receives every log line the function writes (metrics excepted), when set. */
  onLine: ((line: string) => void) | undefined;

  /** @param clock the simulated clock the run gives the function: a report is stamped when it is written. */
  constructor(private readonly clock: () => number = Date.now) {}

  install(): void {
    const stdout = process.stdout.write;
    const stderr = process.stderr.write;
    const tap = ((chunk: unknown) => {
      this.#consume(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return true;
    }) as typeof process.stdout.write;
    process.stdout.write = tap;
    process.stderr.write = tap;
    this.#restore = () => {
      process.stdout.write = stdout;
      process.stderr.write = stderr;
    };
  }

  /** Runs `write` with the real stdout and stderr, for the run's own progress lines. */
  bypass(write: () => void): void {
    const restore = this.#restore;
    if (restore === undefined) {
      write();
      return;
    }
    const tapped = { stdout: process.stdout.write, stderr: process.stderr.write };
    restore();
    try {
      write();
    } finally {
      process.stdout.write = tapped.stdout;
      process.stderr.write = tapped.stderr;
    }
  }

  uninstall(): void {
    this.#restore?.();
    this.#restore = undefined;
  }

  /** The ChainAtRisk reports naming the secret, oldest first. */
  reportsFor(secretArn: string): readonly ChainAtRiskReport[] {
    return this.#chainAtRisk.get(secretArn) ?? [];
  }

  metric(name: string): number {
    return this.metricTotals.get(name) ?? 0;
  }

  #consume(text: string): void {
    const lines = (this.#partial + text).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.includes('"_aws"')) {
        this.#countMetrics(line);
        continue;
      }
      this.onLine?.(line);
      if (TIME_RAN_OUT.test(line)) this.timeRanOut += 1;
      if (line.includes('ChainAtRisk') && line.includes('"secretArn"')) {
        const { secretArn, currentKeyValidUntil } = JSON.parse(line) as {
          secretArn: string;
          currentKeyValidUntil?: string;
        };
        const reports = this.#chainAtRisk.get(secretArn) ?? [];
        reports.push({
          secretArn,
          at: this.clock(),
          currentKeyValidUntil:
            currentKeyValidUntil === undefined ? undefined : Date.parse(currentKeyValidUntil),
        });
        this.#chainAtRisk.set(secretArn, reports);
      }
    }
  }

  #countMetrics(line: string): void {
    const emf = JSON.parse(line) as Record<string, unknown> & {
      _aws: { CloudWatchMetrics: Array<{ Metrics: Array<{ Name: string }> }> };
    };
    for (const directive of emf._aws.CloudWatchMetrics) {
      for (const { Name } of directive.Metrics) {
        const value = emf[Name];
        const count = Array.isArray(value) ? value.length : 1;
        this.metricTotals.set(Name, this.metric(Name) + count);
      }
    }
  }
}
