import {
  checkpointKey,
  decodeCheckpoint,
  decodeDedupSegment,
  decodeGroupCheckpoint,
  decodeLegacyGroup,
  decodeUser,
  decodeVersion,
  dedupSegmentKey,
  encodeCheckpoint,
  encodeDedupSegment,
  encodeGroupCheckpoint,
  encodeUser,
  encodeVersion,
  parseKey,
  typeKey,
  versionKey,
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
  const v = (e: number, n: number, p: string) => ({ e, n, p });

  it('keeps versions in position order and ignores a copy it already holds (the tail delivering own writes)', () => {
    const s = new GroupStore();
    expect(s.putVersion(1, 'org', 'a', v(20, 2, '{"x":2}'))).toBe(true);
    expect(s.putVersion(1, 'org', 'a', v(10, 1, '{"x":1}'))).toBe(true);
    expect(s.putVersion(1, 'org', 'a', v(20, 2, '{"x":2}'))).toBe(false);
    expect(s.versions(1, 'org', 'a')!.map((x) => x.n)).toEqual([1, 2]);
    expect(s.newest(1, 'org', 'a')?.p).toBe('{"x":2}');
    expect(s.at(1, 'org', 'a', 15)).toEqual({ p: '{"x":1}', exact: true });
    s.deleteVersion(1, 'org', 'a', { e: 10, n: 1 });
    expect(s.versions(1, 'org', 'a')!.map((x) => x.n)).toEqual([2]);
    expect(s.at(1, 'org', 'a', 15)).toEqual({ p: '{"x":2}', exact: false });
  });

  it('tracks group types and property names per project over each group\'s newest version', () => {
    const s = new GroupStore();
    s.putVersion(1, 'org', 'a', v(1, 1, '{"x":1,"y":1}'));
    s.putVersion(1, 'org', 'b', v(1, 1, '{"x":1}'));
    s.putVersion(2, 'team', 'a', v(1, 1, '{"z":1}'));
    s.addType(1, 'plan');
    expect(s.typeCount(1)).toBe(2);
    expect(s.hasType(1, 'team')).toBe(false);
    expect(s.propertyNameCount(1)).toBe(2);
    s.putVersion(1, 'org', 'a', v(2, 2, '{"x":1}')); // y removed from the only group holding it
    expect(s.hasPropertyName(1, 'y')).toBe(false);
    // an older version coming late does not change the current names
    s.putVersion(1, 'org', 'a', v(0, 0, '{"w":1}'));
    expect(s.hasPropertyName(1, 'w')).toBe(false);
    s.putVersion(1, 'org', 'b', v(2, 2, '{}'));
    expect(s.hasPropertyName(1, 'x')).toBe(true);
    // dropping the newest version brings back the previous one's names
    s.deleteVersion(1, 'org', 'b', { e: 2, n: 2 });
    expect(s.propertyNameCount(1)).toBe(1);
    expect(s.propertyNameCount(2)).toBe(1);
  });

  it('applies groups changelog records of every kind, legacy group records as the state before every position', () => {
    const s = new GroupStore();
    applyGroupsChangelogRecord(s, groupKey(1, 'org', 'a'), '{"v":4,"p":{"x":1},"ins":[["h",5]]}');
    applyGroupsChangelogRecord(s, versionKey(1, 'org', 'a', 500, 5), encodeVersion('{"x":2}'));
    applyGroupsChangelogRecord(s, typeKey(1, 'team'), '{"t":1}');
    applyGroupsChangelogRecord(s, checkpointKey('gi', 1), encodeGroupCheckpoint({ next: 9, wm: 700, producers: [['gw', 700]], from: 7 }));
    expect(s.at(1, 'org', 'a', 1)).toEqual({ p: '{"x":1}', exact: true });
    expect(s.at(1, 'org', 'a', 501)).toEqual({ p: '{"x":2}', exact: true });
    expect(s.typeCount(1)).toBe(2);
    expect(s.checkpoint('gi', 1)).toBe(9);
    expect(s.partitionState('gi', 1)).toEqual({ next: 9, wm: 700, producers: [['gw', 700]], from: 7 });
    // tombstones: the legacy record, then a version
    applyGroupsChangelogRecord(s, groupKey(1, 'org', 'a'), null);
    expect(s.versions(1, 'org', 'a')!.map((x) => x.n)).toEqual([5]);
    applyGroupsChangelogRecord(s, versionKey(1, 'org', 'a', 500, 5), null);
    expect(s.versions(1, 'org', 'a')).toBeUndefined();
    expect(() => applyGroupsChangelogRecord(s, versionKey(1, 'org', 'b', 1, 1), 'garbage')).toThrow();
  });

  it('keeps the newest checkpoint per partition (a checkpoint written before watermarks reads as watermark 0)', () => {
    const s = new GroupStore();
    applyGroupsChangelogRecord(s, checkpointKey('gi', 0), encodeCheckpoint(5));
    expect(s.partitionState('gi', 0)).toEqual({ next: 5, wm: 0, producers: [], from: 5 });
    s.setPartitionState('gi', 0, { next: 10, wm: 100, producers: [], from: 10 });
    s.setPartitionState('gi', 0, { next: 6, wm: 50, producers: [], from: 6 });
    expect(s.checkpoint('gi', 0)).toBe(10);
    expect(s.checkpoint('gi', 1)).toBe(-1);
  });

  it('feeds each partition\'s watermark into the global one (the smallest over all partitions)', () => {
    const s = new GroupStore();
    s.watermark.setPartitions(2);
    s.setPartitionState('gi', 0, { next: 1, wm: 100, producers: [], from: 1 });
    expect(s.watermark.value).toBe(0);
    s.setPartitionState('gi', 1, { next: 1, wm: 80, producers: [], from: 1 });
    expect(s.watermark.value).toBe(80);
  });
});

describe('changelog records', () => {
  it('parses every kind of key', () => {
    expect(parseKey(userKey(1, 'alice', null), 'users')).toEqual({ kind: 'user', key: userKey(1, 'alice', null) });
    expect(parseKey(groupKey(1, 'org', '15'), 'groups')).toEqual({ kind: 'group', key: groupKey(1, 'org', '15'), projectId: 1, groupType: 'org', groupValue: '15' });
    expect(parseKey(versionKey(1, 'org', '15', 1_762_000_000_000_000, 3), 'groups')).toEqual({
      kind: 'version', projectId: 1, groupType: 'org', groupValue: '15', e: 1_762_000_000_000_000, n: 3,
    });
    expect(parseKey(versionKey(1, 'org', '15', 5, 3), 'users')).toEqual({ kind: 'unknown' });
    expect(parseKey(checkpointKey('gs.ingest', 3), 'users')).toEqual({ kind: 'checkpoint', topic: 'gs.ingest', partition: 3 });
    expect(parseKey(typeKey(4, 'org'), 'groups')).toEqual({ kind: 'type', projectId: 4, groupType: 'org' });
    expect(parseKey(dedupSegmentKey(42), 'dedup')).toEqual({ kind: 'dedup', seq: 42, key: dedupSegmentKey(42) });
    expect(parseKey('not json', 'users')).toEqual({ kind: 'unknown' });
    expect(parseKey('{"a":1}', 'groups')).toEqual({ kind: 'unknown' });
  });

  it('round-trips values', () => {
    expect(decodeUser(encodeUser({ g: '{"org":["1"]}', p: '{"a":1}' }))).toEqual({ g: '{"org":["1"]}', p: '{"a":1}' });
    expect(decodeUser(encodeUser({ g: '', p: '{}' }))).toEqual({ g: '', p: '{}' });
    expect(decodeVersion(encodeVersion('{"a":[1]}'))).toBe('{"a":[1]}');
    expect(decodeLegacyGroup('{"v":3,"p":{"a":1},"ins":[["h",5]]}')).toEqual({ v: 3, p: '{"a":1}' });
    const state = { next: 12, wm: 1_762_000_000_000_000, producers: [['a', 1], ['b', 2]] as [string, number][], from: 9 };
    expect(decodeGroupCheckpoint(encodeGroupCheckpoint(state))).toEqual(state);
    expect(decodeCheckpoint(encodeCheckpoint(77))).toBe(77);
    expect(decodeDedupSegment(encodeDedupSegment([['a', 1]]))).toEqual([['a', 1]]);
    expect(() => decodeLegacyGroup('{"p":{}}')).toThrow();
    expect(() => decodeVersion('{"p":[1]}')).toThrow();
  });
});
