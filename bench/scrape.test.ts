import { histogramDelta, parseMetrics } from './scrape';

const text = (sum: number, count: number, other = 0) => `# HELP groupscope_writer_insert_duration_seconds Time
# TYPE groupscope_writer_insert_duration_seconds histogram
groupscope_writer_insert_duration_seconds_bucket{le="0.5",table="events"} ${count}
groupscope_writer_insert_duration_seconds_sum{table="events"} ${sum}
groupscope_writer_insert_duration_seconds_count{table="events"} ${count}
groupscope_writer_insert_duration_seconds_sum{table="groups"} ${other}
groupscope_writer_insert_duration_seconds_count{table="groups"} ${other}
groupscope_writer_records_buffered 12
`;

describe('parseMetrics', () => {
  test('reads every sample by its series, skipping comments', () => {
    const s = parseMetrics(text(1.5, 3));
    expect(s.get('groupscope_writer_records_buffered')).toBe(12);
    expect(s.get('groupscope_writer_insert_duration_seconds_sum{table="events"}')).toBe(1.5);
    expect([...s.keys()].some((k) => k.startsWith('#'))).toBe(false);
  });
});

describe('histogramDelta', () => {
  test('the mean over the interval, for the series with the given labels', () => {
    const d = histogramDelta([parseMetrics(text(1, 2, 5))], [parseMetrics(text(2.2, 5, 9))], 'groupscope_writer_insert_duration_seconds', 'table="events"');
    expect(d.count).toBe(3);
    expect(d.mean).toBeCloseTo(0.4);
  });
  test('sums several processes and every label set', () => {
    const d = histogramDelta([parseMetrics(text(0, 0)), parseMetrics(text(0, 0))], [parseMetrics(text(1, 1, 1)), parseMetrics(text(1, 1, 1))], 'groupscope_writer_insert_duration_seconds');
    expect(d.count).toBe(4);
    expect(d.mean).toBe(1);
  });
  test('nothing observed: NaN mean', () => {
    expect(histogramDelta([], [], 'groupscope_x').mean).toBeNaN();
  });
});
