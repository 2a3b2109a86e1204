/** A plain-text table: section headings, then rows of measure | ours | example | ours/example | note. */

export type Row =
  | { readonly section: string }
  | {
      readonly label: string;
      readonly ours?: string;
      readonly example?: string;
      readonly ratio?: string;
      readonly note?: string;
    };

const HEADINGS = ['measure', 'ours', 'example', 'ours/ex', 'note'] as const;

export function renderTable(rows: readonly Row[]): string {
  const cells = rows.map((row) =>
    'section' in row
      ? undefined
      : [row.label, row.ours ?? '', row.example ?? '', row.ratio ?? '', row.note ?? ''],
  );
  // The note column is last and left ragged: it holds prose, not figures.
  const widths = [0, 1, 2, 3].map((col) =>
    Math.max(HEADINGS[col]?.length ?? 0, ...cells.map((c) => c?.[col]?.length ?? 0)),
  );
  const line = (values: readonly string[]) =>
    values
      .map((value, col) => (col < widths.length ? value.padEnd(widths[col] ?? 0) : value))
      .join('  ')
      .trimEnd();
  const out = [line(HEADINGS), line(widths.map((w) => '-'.repeat(w)).concat('----'))];
  rows.forEach((row, i) => {
    const c = cells[i];
    if ('section' in row) out.push(row.section);
    else if (c !== undefined) out.push(line(c));
  });
  return out.join('\n');
}
