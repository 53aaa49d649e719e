import { WANT_EVENTS, WANT_EVENT_GROUPS } from '@groupscope/schema';
import { chunks, planEvents, raise, unwritten, watermark, type EventLines, type InsertLimits, type Watermarks } from './plan';

describe('chunks', () => {
  const row = (partition: number, offset: number, month = 202611, size = 10, rows = 1) => ({ partition, offset, month, line: 'x'.repeat(size), rows });

  it('keeps everything in one insert when small', () => {
    const rows = [row(0, 1), row(0, 2), row(1, 1)];
    expect(chunks(rows)).toEqual([rows]);
  });

  it('splits by months', () => {
    const rows = Array.from({ length: 120 }, (_, i) => row(0, i, 200001 + i));
    const out = chunks(rows);
    expect(out.map((c) => c.length)).toEqual([50, 50, 20]);
    expect(out.flat()).toEqual(rows);
  });

  it('splits by the rows the lines make, keeping each line (one record) whole', () => {
    expect(chunks(Array.from({ length: 450_001 }, (_, i) => row(0, i, 202611, 1))).map((c) => c.length)).toEqual([200_000, 200_000, 50_001]);
    // lines of 30 group rows each: 6666 fit in 200k rows
    const out = chunks(Array.from({ length: 10_000 }, (_, i) => row(0, i, 202611, 1, 30)));
    expect(out.map((c) => c.length)).toEqual([6666, 3334]);
  });
});

/** Lines of one partition: [offset, month, group rows, bytes]. */
function lines(rows: [number, number, number, number?][]): EventLines {
  return {
    length: rows.length,
    offsets: rows.map((r) => r[0]),
    months: rows.map((r) => r[1]),
    groupRows: rows.map((r) => r[2]),
    byteLengthOf: (i) => rows[i]![3] ?? 100,
  };
}

const marks = (entries: [number, number, number][]): Watermarks => {
  const w: Watermarks = new Map();
  for (const [p, m, o] of entries) raise(w, p, m, o);
  return w;
};

const M = 202611;
const BOTH = WANT_EVENTS | WANT_EVENT_GROUPS;

describe('watermarks', () => {
  it('are -1 where nothing is known, and only ever rise', () => {
    const w = marks([[0, M, 5]]);
    expect([watermark(w, 0, M), watermark(w, 0, M + 1), watermark(w, 1, M), watermark(undefined, 0, M)]).toEqual([5, -1, -1, -1]);
    raise(w, 0, M, 3);
    expect(watermark(w, 0, M)).toBe(5);
  });

  it.each<[string, number[], [number, number, number][], number[], number]>([
    ['nothing written yet', [1, 2, 3], [], [1, 2, 3], 0],
    ['a replay of what is written', [1, 2, 3], [[0, 0, 3]], [], 3],
    ['half written', [1, 2, 3, 4], [[0, 0, 2]], [3, 4], 2],
    ['another partition written', [1, 2], [[1, 0, 9]], [1, 2], 0],
  ])('unwritten: %s', (_name, offsets, written, pending, skipped) => {
    const out = unwritten(offsets.map((offset) => ({ offset })), marks(written), 0);
    expect({ pending: out.pending.map((r) => r.offset), skipped: out.skipped }).toEqual({ pending, skipped });
  });
});

describe('planEvents', () => {
  const limits: InsertLimits = { rows: 10, bytes: 1000, months: 2 };

  it.each<{ name: string; parts: [number, [number, number, number, number?][]][]; events?: [number, number, number][]; groups?: [number, number, number][]; wants: number[][]; inserts: object[]; skipped: object }>([
    {
      name: 'fresh lines go to both tables in one insert; a line without groups to events only',
      parts: [[0, [[10, M, 2], [11, M, 0]]], [1, [[5, M, 1]]]],
      wants: [[BOTH, WANT_EVENTS], [BOTH]],
      inserts: [{ ranges: [{ part: 0, from: 0, to: 2 }, { part: 1, from: 0, to: 1 }], rows: { events: 3, event_groups: 3 } }],
      skipped: { events: 0, event_groups: 0 },
    },
    {
      name: 'a batch half written before a failure: events holds it, event_groups does not',
      parts: [[0, [[10, M, 2], [11, M, 2]]]],
      events: [[0, M, 11]],
      groups: [[0, M, 9]],
      wants: [[WANT_EVENT_GROUPS, WANT_EVENT_GROUPS]],
      inserts: [{ ranges: [{ part: 0, from: 0, to: 2 }], rows: { events: 0, event_groups: 4 } }],
      skipped: { events: 2, event_groups: 0 },
    },
    {
      name: 'a full replay plans nothing',
      parts: [[0, [[10, M, 2], [11, M, 0]]]],
      events: [[0, M, 11]],
      groups: [[0, M, 11]],
      wants: [[0, 0]],
      inserts: [],
      skipped: { events: 2, event_groups: 2 },
    },
    {
      name: 'watermarks are per month: the older month is written, the newer not',
      parts: [[0, [[10, M - 1, 1], [11, M, 1]]]],
      events: [[0, M - 1, 10]],
      groups: [[0, M - 1, 10]],
      wants: [[0, BOTH]],
      inserts: [{ ranges: [{ part: 0, from: 1, to: 2 }], rows: { events: 1, event_groups: 1 } }],
      skipped: { events: 1, event_groups: 1 },
    },
    {
      name: 'a written line in the middle splits the range, not the insert',
      parts: [[0, [[10, M, 1], [11, M, 1], [12, M, 1]]]],
      events: [[0, M, 11]],
      groups: [[0, M, 11]],
      wants: [[0, 0, BOTH]],
      inserts: [{ ranges: [{ part: 0, from: 2, to: 3 }], rows: { events: 1, event_groups: 1 } }],
      skipped: { events: 2, event_groups: 2 },
    },
    {
      name: 'cut by rows: a record is never split (4 + 4 rows fit in 10, the third line starts a new insert)',
      parts: [[0, [[1, M, 4], [2, M, 4], [3, M, 4]]]],
      wants: [[BOTH, BOTH, BOTH]],
      inserts: [
        { ranges: [{ part: 0, from: 0, to: 2 }], rows: { events: 2, event_groups: 8 } },
        { ranges: [{ part: 0, from: 2, to: 3 }], rows: { events: 1, event_groups: 4 } },
      ],
      skipped: { events: 0, event_groups: 0 },
    },
    {
      name: 'cut by months, across partitions',
      parts: [[0, [[1, M, 0], [2, M + 1, 0]]], [1, [[1, M + 2, 0]]]],
      wants: [[WANT_EVENTS, WANT_EVENTS], [WANT_EVENTS]],
      inserts: [
        { ranges: [{ part: 0, from: 0, to: 2 }], rows: { events: 2, event_groups: 0 } },
        { ranges: [{ part: 1, from: 0, to: 1 }], rows: { events: 1, event_groups: 0 } },
      ],
      skipped: { events: 0, event_groups: 0 },
    },
    {
      name: 'cut by bytes once an insert has reached the limit',
      parts: [[0, [[1, M, 0, 600], [2, M, 0, 600], [3, M, 0, 10]]]],
      wants: [[WANT_EVENTS, WANT_EVENTS, WANT_EVENTS]],
      inserts: [
        { ranges: [{ part: 0, from: 0, to: 2 }], rows: { events: 2, event_groups: 0 } },
        { ranges: [{ part: 0, from: 2, to: 3 }], rows: { events: 1, event_groups: 0 } },
      ],
      skipped: { events: 0, event_groups: 0 },
    },
  ])('$name', ({ parts, events, groups, wants, inserts, skipped }) => {
    const plan = planEvents(parts.map(([partition, rows]) => ({ partition, lines: lines(rows) })), marks(events ?? []), marks(groups ?? []), limits);
    expect(plan.wants.map((w) => [...w])).toEqual(wants);
    expect(plan.inserts.map(({ ranges, rows }) => ({ ranges, rows }))).toEqual(inserts);
    expect(plan.skipped).toEqual(skipped);
  });

  it('says which watermarks each insert reaches once written', () => {
    const plan = planEvents([{ partition: 3, lines: lines([[7, M, 0], [8, M + 1, 2], [9, M + 1, 0]]) }], new Map(), new Map(), limits);
    expect(plan.inserts[0]!.reaches).toEqual({ events: marks([[3, M, 7], [3, M + 1, 9]]), event_groups: marks([[3, M + 1, 8]]) });
  });

  it('cuts exactly where chunks() cuts the same rows', () => {
    const rows: [number, number, number, number][] = Array.from({ length: 200 }, (_, i) => [i, M + (i % 7 === 0 ? i : 0), i % 4, 50 + (i % 13)]);
    const plan = planEvents([{ partition: 0, lines: lines(rows) }], new Map(), new Map(), limits);
    const viaChunks = chunks(rows.map(([offset, month, g, bytes]) => ({ partition: 0, offset, month, rows: Math.max(1, g), line: 'x'.repeat(bytes) })), limits);
    expect(plan.inserts.map((c) => c.ranges.reduce((n, r) => n + r.to - r.from, 0))).toEqual(viaChunks.map((c) => c.length));
  });
});
