// How numbers, shares and times read on screen.
export const formatNumber = (n: number) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: 2 }) : '–');

export const formatPct = (share: number) => (Number.isFinite(share) ? `${(share * 100).toFixed(1)}%` : '–');

/** "2026-11-02 14:05" in UTC (the API's times are UTC), or "–" */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().slice(0, 16).replace('T', ' ');
}

/** 3600000 ms -> "1h 0m"; 0 -> "–" */
export function formatDuration(ms: number): string {
  if (!ms || !Number.isFinite(ms)) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** a property value as text: lists joined, objects as JSON */
export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return '(none)';
  if (Array.isArray(v)) return v.map(formatValue).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
