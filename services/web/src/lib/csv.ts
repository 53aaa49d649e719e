// CSV for downloads made in the browser (a chart's data table): RFC 4180 quoting, CRLF line ends.
export type Cell = string | number | null | undefined;

export function toCsv(rows: Cell[][]): string {
  return rows
    .map((r) =>
      r
        .map((v) => {
          const s = v === null || v === undefined ? '' : String(v);
          return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
        })
        .join(','),
    )
    .map((line) => `${line}\r\n`)
    .join('');
}

/** A file name from free text: letters, digits, dashes. */
export function fileName(base: string, ext: string): string {
  const clean = base.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80) || 'export';
  return `${clean}.${ext}`;
}
