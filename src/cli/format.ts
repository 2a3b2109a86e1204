/** Output helpers: times and tables. Keys appear only as fingerprints (src/fingerprint.ts). */

/** Epoch seconds as an ISO date without milliseconds: `2026-11-24T12:00:00Z`. */
export function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** 90061 → "1d 01h 01m", 3600 → "1h 00m", 59 → "59s", -120 → "expired 2m ago". */
export function timeLeft(seconds: number): string {
  if (seconds < 0) return `expired ${timeLeft(-seconds)} ago`;
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  const hours = Math.floor(minutes / 60);
  const days = Math.floor(hours / 24);
  const mm = String(minutes % 60).padStart(2, '0');
  if (days > 0) return `${days}d ${String(hours % 24).padStart(2, '0')}h ${mm}m`;
  if (hours > 0) return `${hours}h ${mm}m`;
  return `${minutes}m`;
}

/** Columns padded to their widest cell, two spaces apart. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
