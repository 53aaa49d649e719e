// Reads services' Prometheus metrics (GET /metrics) so a bench can say where the time went between two scrapes:
// the mean of a histogram over the interval is the change of its _sum over the change of its _count.

/** Every sample of a Prometheus text exposition, by series (name and labels as written). */
export type Samples = Map<string, number>;

export function parseMetrics(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    const value = Number(line.slice(at + 1));
    if (at > 0 && !Number.isNaN(value)) out.set(line.slice(0, at), value);
  }
  return out;
}

/** The samples of `url` (a service's /metrics), or none when it does not answer. */
export async function scrape(url: string): Promise<Samples> {
  try {
    const res = await fetch(url);
    return res.ok ? parseMetrics(await res.text()) : new Map();
  } catch {
    return new Map();
  }
}

/** The sum over every series of `name` whose labels contain `labels` (e.g. 'table="events"'). */
function total(s: Samples, name: string, labels: string): number {
  let sum = 0;
  for (const [series, v] of s) {
    const brace = series.indexOf('{');
    const n = brace < 0 ? series : series.slice(0, brace);
    if (n === name && (labels === '' || series.includes(labels))) sum += v;
  }
  return sum;
}

/**
 * A histogram between two scrapes (of one or several processes, summed): how many observations, and their mean.
 */
export function histogramDelta(before: Samples[], after: Samples[], name: string, labels = ''): { count: number; mean: number } {
  const sum = (list: Samples[], suffix: string) => list.reduce((a, s) => a + total(s, `${name}${suffix}`, labels), 0);
  const count = sum(after, '_count') - sum(before, '_count');
  const mean = count > 0 ? (sum(after, '_sum') - sum(before, '_sum')) / count : NaN;
  return { count, mean };
}
