// Writing a reply: times as ISO 8601 and CSV lines.

/** ms since epoch -> ISO 8601 UTC; 0 (ClickHouse's default for a missing time) -> null */
export const isoOrNull = (ms: number | null | undefined): string | null => (ms ? new Date(Number(ms)).toISOString() : null);

/** RFC 4180 CSV line */
export function csvLine(values: readonly (string | number | null | undefined)[]): string {
  return (
    values
      .map((v) => {
        const s = v === null || v === undefined ? '' : String(v);
        return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
      })
      .join(',') + '\r\n'
  );
}

/** What writeCsv needs of a reply: express's Response is one. */
interface CsvTarget {
  headersSent: boolean;
  status(code: number): unknown;
  setHeader(name: string, value: string): unknown;
  write(chunk: string): boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  end(): unknown;
}

/**
 * Writes a CSV download from rows that arrive in chunks (Db.stream), waiting for the client to take each chunk
 * before asking for more, so a million rows are never held at once. The status and headers go out with the first
 * chunk: an error before it (a time limit, a bad parameter) is still answered in the API's JSON error shape.
 */
export async function writeCsv<T>(
  res: CsvTarget,
  o: { filename: string; header: readonly string[]; rows: AsyncIterable<T[]>; line(row: T): readonly (string | number | null | undefined)[] },
): Promise<void> {
  const start = () => {
    if (res.headersSent) return;
    res.status(200);
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="${o.filename}"`);
    res.write(csvLine(o.header));
  };
  for await (const chunk of o.rows) {
    start();
    if (chunk.length === 0) continue;
    let text = '';
    for (const row of chunk) text += csvLine(o.line(row));
    if (!res.write(text)) {
      await new Promise<void>((resolve) => {
        res.once('drain', resolve);
        res.once('close', resolve);
      });
    }
  }
  start();
  res.end();
}
