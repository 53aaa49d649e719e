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
