/** Plain-text and markdown tables for the commands that print reports (bench, traces): no colour, so output pipes and diffs cleanly. */

export interface TableOptions {
  /** Indexes of right-aligned (numeric) columns. */
  right?: ReadonlySet<number>;
  /** A ─ rule under the header. */
  rule?: boolean;
}

export function textTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>, options: TableOptions = {}): string {
  const right = options.right ?? new Set<number>();
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    widths
      .map((width, i) => {
        const cell = cells[i] ?? '';
        return right.has(i) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...(options.rule === true ? [line(widths.map((w) => '─'.repeat(w)))] : []), ...rows.map(line)].join('\n');
}

export function markdownTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>, options: Pick<TableOptions, 'right'> = {}): string {
  const right = options.right ?? new Set<number>();
  const escape = (cell: string): string => cell.replace(/\|/g, '\\|');
  return [
    `| ${header.map(escape).join(' | ')} |`,
    `| ${header.map((_, i) => (right.has(i) ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(escape).join(' | ')} |`),
  ].join('\n');
}
