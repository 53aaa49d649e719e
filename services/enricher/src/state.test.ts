import {
  checkpointKey,
  decodeCheckpoint,
  decodeDedupSegment,
  decodeGroup,
  decodeUser,
  dedupSegmentKey,
  encodeCheckpoint,
  encodeDedupSegment,
  encodeGroup,
  encodeUser,
  parseKey,
  typeKey,
} from './changelog';
import { DedupWindow, GroupStore, applyGroupsChangelogRecord } from './state';
import { groupKey, userKey } from '@groupscope/events';

const DAY = 24 * 3600 * 1000;

describe('DedupWindow', () => {
  function commit(w: DedupWindow, seq: number, entries: [string, number][]) {
    const now = Math.max(0, ...entries.map(([, t]) => t));
    const plan = w.plan(dedupSegmentKey(seq), entries, now);
    w.apply(plan);
    return plan;
  }

  it('remembers hashes within the window and forgets them after it', () => {
    const w = new DedupWindow(7 * DAY, 1000);
    commit(w, 0, [['a', 1000]]);
    expect(w.isDuplicate('a', 1000 + 7 * DAY)).toBe(true);
    expect(w.isDuplicate('a', 1001 + 7 * DAY)).toBe(false);
    expect(w.isDuplicate('b', 1000)).toBe(false);
  });

  it('plans without changing anything until applied', () => {
    const w = new DedupWindow(DAY, 1000);
    const plan = w.plan(dedupSegmentKey(0), [['a', 5]], 5);
    expect(w.isDuplicate('a', 5)).toBe(false);
    w.apply(plan);
    expect(w.isDuplicate('a', 5)).toBe(true);
  });

  it('evicts whole segments past the capacity, oldest first, and names them for tombstones', () => {
    const w = new DedupWindow(DAY, 4);
    commit(w, 0, [['a', 1], ['b', 1]]);
    commit(w, 2, [['c', 2], ['d', 2]]);
    const plan = commit(w, 4, [['e', 3]]);
    expect(plan.evict).toEqual([dedupSegmentKey(0)]);
    expect(w.size).toBe(3);
    expect(w.isDuplicate('a', 3)).toBe(false);
    expect(w.isDuplicate('c', 3)).toBe(true);
    expect(w.isDuplicate('e', 3)).toBe(true);
  });

  it('evicts segments older than the window', () => {
    const w = new DedupWindow(DAY, 1000);
    commit(w, 0, [['a', 0]]);
    commit(w, 1, [['b', DAY / 2]]);
    const plan = commit(w, 2, [['c', DAY + 1]]);
    expect(plan.evict).toEqual([dedupSegmentKey(0)]);
    expect(w.size).toBe(2);
  });

  it('keeps a hash re-added after it expired when its old segment is evicted', () => {
    const w = new DedupWindow(10, 1000);
    commit(w, 0, [['a', 0], ['x', 15]]);
    expect(w.isDuplicate('a', 20)).toBe(false); // expired
    commit(w, 1, [['a', 20]]); // 'a' came again; segment 0 (newest 15) is still within the window at 20
    commit(w, 2, [['b', 26]]); // now segment 0 is older than 26 - 10 and is evicted
    expect(w.segmentCount).toBe(2);
    expect(w.isDuplicate('a', 26)).toBe(true);
    expect(w.isDuplicate('x', 26)).toBe(false);
  });

  it('restores from changelog records (tombstones included), evicting what no longer fits', () => {
    const w = new DedupWindow(DAY, 3);
    w.load(dedupSegmentKey(10), 10, [['c', 3]]);
    w.load(dedupSegmentKey(0), 0, [['a', 1], ['b', 1]]);
    w.load(dedupSegmentKey(5), 5, [['z', 2]]);
    w.load(dedupSegmentKey(5), 5, null); // tombstone
    w.load(dedupSegmentKey(20), 20, [['d', 4]]);
    w.finishRestore();
    // 4 entries for a capacity of 3: the oldest segment goes, and its tombstone goes out with the next batch
    expect(w.size).toBe(2);
    expect(w.isDuplicate('a', 4)).toBe(false);
    expect(w.isDuplicate('d', 4)).toBe(true);
    const plan = w.plan(dedupSegmentKey(30), [['e', 5]], 5);
    expect(plan.evict).toEqual([dedupSegmentKey(0)]);
    w.apply(plan);
    expect(w.plan(dedupSegmentKey(31), [], 5).evict).toEqual([]);
  });

  it('stays bounded under a long stream', () => {
    const w = new DedupWindow(DAY, 500);
    for (let s = 0; s < 200; s++) {
      commit(w, s * 10, Array.from({ length: 10 }, (_, i): [string, number] => [`h${s}-${i}`, s]));
    }
    expect(w.size).toBeLessThanOrEqual(500);
    expect(w.segmentCount).toBeLessThanOrEqual(50);
  });
});

describe('GroupStore', () => {
  it('keeps the newest version: a stale copy from the changelog tail does not overwrite', () => {
    const s = new GroupStore();
    expect(s.put(1, 'org', 'a', { v: 2, p: '{"x":2}' })).toBe(true);
    expect(s.put(1, 'org', 'a', { v: 1, p: '{"x":1}' })).toBe(false);
    expect(s.put(1, 'org', 'a', { v: 2, p: '{"x":1}' })).toBe(false);
    expect(s.get(1, 'org', 'a')?.p).toBe('{"x":2}');
    expect(s.put(1, 'org', 'a', { v: 3, p: '{"x":3}' })).toBe(true);
    expect(s.get(1, 'org', 'a')?.p).toBe('{"x":3}');
  });

  it('tracks group types and property names per project', () => {
    const s = new GroupStore();
    s.put(1, 'org', 'a', { v: 1, p: '{"x":1,"y":1}' });
    s.put(1, 'org', 'b', { v: 1, p: '{"x":1}' });
    s.put(2, 'team', 'a', { v: 1, p: '{"z":1}' });
    s.addType(1, 'plan');
    expect(s.typeCount(1)).toBe(2);
    expect(s.hasType(1, 'team')).toBe(false);
    expect(s.propertyNameCount(1)).toBe(2);
    s.put(1, 'org', 'a', { v: 2, p: '{"x":1}' }); // y removed from the only group holding it
    expect(s.hasPropertyName(1, 'y')).toBe(false);
    s.put(1, 'org', 'b', { v: 2, p: '{}' });
    expect(s.hasPropertyName(1, 'x')).toBe(true);
    expect(s.propertyNameCount(2)).toBe(1);
  });

  it('applies groups changelog records of every kind', () => {
    const s = new GroupStore();
    applyGroupsChangelogRecord(s, groupKey(1, 'org', 'a'), encodeGroup({ v: 1, p: '{"x":1}' }));
    applyGroupsChangelogRecord(s, typeKey(1, 'team'), '{"t":1}');
    applyGroupsChangelogRecord(s, checkpointKey('gi', 2), encodeCheckpoint(9));
    applyGroupsChangelogRecord(s, groupKey(1, 'org', 'a'), null);
    expect(s.get(1, 'org', 'a')).toEqual({ v: 1, p: '{"x":1}' });
    expect(s.typeCount(1)).toBe(2);
    expect(s.checkpoint('gi', 2)).toBe(9);
    expect(() => applyGroupsChangelogRecord(s, groupKey(1, 'org', 'b'), 'garbage')).toThrow();
  });

  it('keeps the highest checkpoint per partition', () => {
    const s = new GroupStore();
    s.setCheckpoint('gi', 0, 10);
    s.setCheckpoint('gi', 0, 5);
    expect(s.checkpoint('gi', 0)).toBe(10);
    expect(s.checkpoint('gi', 1)).toBe(-1);
  });
});

describe('changelog records', () => {
  it('parses every kind of key', () => {
    expect(parseKey(userKey(1, 'alice', null), 'users')).toEqual({ kind: 'user', key: userKey(1, 'alice', null) });
    expect(parseKey(groupKey(1, 'org', '15'), 'groups')).toEqual({ kind: 'group', key: groupKey(1, 'org', '15'), projectId: 1, groupType: 'org', groupValue: '15' });
    expect(parseKey(checkpointKey('gs.ingest', 3), 'users')).toEqual({ kind: 'checkpoint', topic: 'gs.ingest', partition: 3 });
    expect(parseKey(typeKey(4, 'org'), 'groups')).toEqual({ kind: 'type', projectId: 4, groupType: 'org' });
    expect(parseKey(dedupSegmentKey(42), 'dedup')).toEqual({ kind: 'dedup', seq: 42, key: dedupSegmentKey(42) });
    expect(parseKey('not json', 'users')).toEqual({ kind: 'unknown' });
    expect(parseKey('{"a":1}', 'groups')).toEqual({ kind: 'unknown' });
  });

  it('round-trips values', () => {
    expect(decodeUser(encodeUser({ g: '{"org":["1"]}', p: '{"a":1}' }))).toEqual({ g: '{"org":["1"]}', p: '{"a":1}' });
    expect(decodeUser(encodeUser({ g: '', p: '{}' }))).toEqual({ g: '', p: '{}' });
    expect(decodeGroup(encodeGroup({ v: 3, p: '{"a":[1]}', ins: [['h', 5]] }))).toEqual({ v: 3, p: '{"a":[1]}', ins: [['h', 5]] });
    expect(decodeGroup(encodeGroup({ v: 1, p: '{}' }))).toEqual({ v: 1, p: '{}' });
    expect(decodeCheckpoint(encodeCheckpoint(77))).toBe(77);
    expect(decodeDedupSegment(encodeDedupSegment([['a', 1]]))).toEqual([['a', 1]]);
    expect(() => decodeGroup('{"p":{}}')).toThrow();
  });
});
