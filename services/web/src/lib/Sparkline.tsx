// A sparkline: a day-by-day series as a small SVG line as wide as its box (no chart library for a few points),
// with its label for screen readers; the numbers it draws are beside it on screen.
export function Sparkline({ values, label, width = 120, height = 28, color = 'var(--mantine-color-blue-6)' }: { values: number[]; label: string; width?: number; height?: number; color?: string }) {
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`).join(' ');
  return (
    <svg role="img" aria-label={label} width="100%" height={height} viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" style={{ display: 'block' }}>
      <polyline points={points} fill="none" stroke={color} strokeWidth={1.5} strokeLinejoin="round" vectorEffect="non-scaling-stroke" />
    </svg>
  );
}
