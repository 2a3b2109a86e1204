/**
 * Reads what the function writes to stdout/stderr (Powertools JSON logs and EMF metrics) during a chaos run,
 * keeps only what the checks need — ChainAtRisk reports by secret, metric counts — and swallows the rest, so
 * that thousands of rotations do not flood the terminal or the memory.
 */
export class LogTap {
  readonly chainAtRiskBySecret = new Map<string, number>();
  readonly metricTotals = new Map<string, number>();
  #restore: (() => void) | undefined;
  #partial = '';

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

  reportsFor(secretArn: string): number {
    return this.chainAtRiskBySecret.get(secretArn) ?? 0;
  }

  metric(name: string): number {
    return this.metricTotals.get(name) ?? 0;
  }

  #consume(text: string): void {
    const lines = (this.#partial + text).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.includes('"_aws"')) this.#countMetrics(line);
      else if (line.includes('ChainAtRisk') && line.includes('"secretArn"')) {
        const { secretArn } = JSON.parse(line) as { secretArn: string };
        this.chainAtRiskBySecret.set(secretArn, this.reportsFor(secretArn) + 1);
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
