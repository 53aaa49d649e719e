import { newIngestRecord, userKey, type EnrichedEvent, type GroupChange, type GroupIdentifyRecord, type IngestRecord } from '@groupscope/events';
import { groupIdentifyRecord } from '@groupscope/testing';
import { DEFAULT_LIMITS, GroupBatch, IngestBatch, applyGroupIdentify, dedupHash, enrich, type Limits, type Outcome } from './enrich';
import { dedupSegmentKey } from './changelog';
import { DedupWindow, GroupStore, type UserStore } from './state';
import type { PruneLimits } from './versions';

let seq = 0;
function rec(o: Partial<IngestRecord> = {}): IngestRecord {
  seq++;
  return newIngestRecord({ project_id: 1, uuid: `uuid-${seq}`, receive_time: 1_000_000 + seq, event_time: 1_000_000 + seq, event_type: 'Page Viewed', user_id: 'alice', ...o });
}
const identify = (o: Partial<IngestRecord>) => rec({ kind: 'identify', event_type: '$identify', ...o });

function gi(o: Partial<GroupIdentifyRecord> = {}): GroupIdentifyRecord {
  seq++;
  return groupIdentifyRecord({ uuid: `g-${seq}`, receive_time: 1_000_000 + seq, event_time: 1_000_000 + seq, ...o });
}

/** Committed state of one partition plus the group store, with batches committed as the adapter does. */
class World {
  users: UserStore = new Map();
  groups = new GroupStore();
  dedup: DedupWindow;
  groupDedup: DedupWindow;
  batches = 0;
  constructor(readonly limits: Limits = DEFAULT_LIMITS) {
    this.dedup = new DedupWindow(limits.dedupWindowMs, 100_000);
    this.groupDedup = new DedupWindow(limits.dedupWindowMs, 100_000);
  }
  ingest(records: IngestRecord[]): { outcomes: Outcome<EnrichedEvent>[]; batch: IngestBatch } {
    const batch = new IngestBatch(this.users, this.dedup, this.groups, this.limits);
    const outcomes = records.map((r) => enrich(r, batch));
    const now = Math.max(0, ...records.map((r) => r.receive_time));
    const plan = this.dedup.plan(dedupSegmentKey(this.batches++), batch.dedup.entries, now);
    batch.apply();
    this.dedup.apply(plan);
    return { outcomes, batch };
  }
  events(records: IngestRecord[]): EnrichedEvent[] {
    return this.ingest(records).outcomes.flatMap((o) => (o.kind === 'ok' ? [o.value] : []));
  }
  /** Group identifies applied at effective position `e` (each record's own position by default, 0 when it has none). */
  groupIdentify(records: GroupIdentifyRecord[], e?: number, prune?: PruneLimits): { outcomes: Outcome<GroupChange>[]; batch: GroupBatch } {
    const batch = new GroupBatch(this.groups, this.limits, this.groupDedup);
    const outcomes = records.map((r) => applyGroupIdentify(r, e ?? r.receive_pos ?? 0, batch));
    if (prune) batch.prune(prune);
    const now = Math.max(0, ...records.map((r) => r.receive_time));
    const plan = this.groupDedup.plan(dedupSegmentKey(this.batches++), batch.dedup.entries, now);
    batch.apply();
    this.groupDedup.apply(plan);
    return { outcomes, batch };
  }
  props(user = 'alice'): unknown {
    return JSON.parse(this.users.get(userKey(1, user, null))?.p ?? '{}');
  }
}

describe('enrich: identify then events', () => {
  it('stamps user-level groups and user properties on later events, and emits no identify', () => {
    const w = new World();
    const { outcomes } = w.ingest([
      identify({ user_properties: JSON.stringify({ $set: { org: '15', plan: 'pro' } }), groups: { org: ['15'] } }),
      rec({ event_type: 'Invoice Sent' }),
    ]);
    expect(outcomes[0]).toEqual({ kind: 'absorbed' });
    const ev = (outcomes[1] as { value: EnrichedEvent }).value;
    expect(ev.event_type).toBe('Invoice Sent');
    expect(ev.groups).toEqual({ org: ['15'] });
    expect(JSON.parse(ev.user_properties)).toEqual({ org: '15', plan: 'pro' });
    expect(ev.group_properties).toEqual([{ group_type: 'org', group_value: '15', properties: '{}' }]);
  });

  it('an event before the identify is not stamped with what comes later (order kept)', () => {
    const w = new World();
    const evs = w.events([rec(), identify({ user_properties: '{"$set":{"plan":"pro"}}', groups: { org: ['1'] } }), rec()]);
    expect(evs[0]!.groups).toEqual({});
    expect(evs[0]!.user_properties).toBe('{}');
    expect(evs[1]!.groups).toEqual({ org: ['1'] });
  });

  it('state carries across batches', () => {
    const w = new World();
    w.ingest([identify({ user_properties: '{"$add":{"n":2}}', groups: { org: ['1'] } })]);
    w.ingest([identify({ user_properties: '{"$add":{"n":3}}' })]);
    const [ev] = w.events([rec()]);
    expect(JSON.parse(ev!.user_properties)).toEqual({ n: 5 });
    expect(ev!.groups).toEqual({ org: ['1'] });
  });

  it('a later identify overwrites the user-level group type; other types stay; it cannot be removed', () => {
    const w = new World();
    w.ingest([identify({ groups: { org: ['1'], team: ['t'] } }), identify({ groups: { org: ['2', '3'] } }), identify({ groups: { org: [] } })]);
    const [ev] = w.events([rec()]);
    expect(ev!.groups).toEqual({ org: ['2', '3'], team: ['t'] });
  });

  it('event-level groups apply to that event only and win over the user-level value of their type', () => {
    const w = new World();
    const evs = w.events([identify({ groups: { org: ['1'] } }), rec({ groups: { org: ['9'], team: ['x'] } }), rec()]);
    expect(evs[0]!.groups).toEqual({ org: ['9'], team: ['x'] });
    expect(evs[1]!.groups).toEqual({ org: ['1'] });
  });

  it('event-level groups on an event do not change user-level groups', () => {
    const w = new World();
    w.ingest([rec({ groups: { org: ['9'] } })]);
    expect(w.users.get(userKey(1, 'alice', null))).toBeUndefined();
  });

  it('users are separate; device-only users are keyed by device', () => {
    const w = new World();
    const evs = w.events([
      identify({ user_id: null, device_id: 'dev-1', user_properties: '{"a":1}' }),
      rec({ user_id: 'bob' }),
      rec({ user_id: null, device_id: 'dev-1' }),
    ]);
    expect(evs[0]!.user_properties).toBe('{}');
    expect(evs[1]!.user_properties).toBe('{"a":1}');
  });

  it('plain events may carry user property operations: applied (and kept) before stamping', () => {
    const w = new World();
    const evs = w.events([rec({ user_properties: '{"plan":"pro","$add":{"n":1}}' }), rec()]);
    expect(JSON.parse(evs[0]!.user_properties)).toEqual({ plan: 'pro', n: 1 });
    expect(JSON.parse(evs[1]!.user_properties)).toEqual({ plan: 'pro', n: 1 });
  });

  it('passes the event fields through unchanged', () => {
    const w = new World();
    const r = rec({ event_properties: '{"x":1}', revenue: 9.5, session_id: 7, context: { country: 'FR' }, extra: '{"library":"x"}', insert_id: 'i-1', device_id: 'd' });
    const [ev] = w.events([r]);
    expect(ev).toMatchObject({ uuid: r.uuid, event_properties: '{"x":1}', revenue: 9.5, session_id: 7, context: { country: 'FR' }, extra: '{"library":"x"}', insert_id: 'i-1', device_id: 'd', event_time: r.event_time });
  });

  it('records only the users whose state changed', () => {
    const w = new World();
    const { batch } = w.ingest([rec({ user_id: 'a' }), identify({ user_id: 'b', user_properties: '{"x":1}' }), identify({ user_id: 'c', user_properties: '{"$setOnce":{}}' })]);
    expect([...batch.users.keys()]).toEqual([userKey(1, 'b', null)]);
  });
});

describe('dedupHash', () => {
  it('is stable, 16 hex characters, and separates its parts', () => {
    expect(dedupHash([1, 'd', 'i'])).toBe(dedupHash([1, 'd', 'i']));
    expect(dedupHash([1, 'd', 'i'])).toMatch(/^[0-9a-f]{16}$/);
    expect(dedupHash([1, 'd', 'i'])).not.toBe(dedupHash([1, 'di', '']));
    expect(dedupHash([1, '', 'x'])).not.toBe(dedupHash([2, '', 'x']));
    // stored in the changelog: a change of algorithm would silently forget the window
    expect(dedupHash([1, '', 'insert-1'])).toBe('06df8b610a10594e');
  });

  it('has no collision among 200k keys', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200_000; i++) seen.add(dedupHash([1, `device-${i % 977}`, `ins-${i}`]));
    expect(seen.size).toBe(200_000);
  });
});

describe('enrich: invalid records', () => {
  const cases: [string, Partial<IngestRecord>, string][] = [
    ['no id', { user_id: null, device_id: null }, 'record has neither user_id nor device_id'],
    ['no event type', { event_type: '' }, 'record has no event_type'],
    ['user_properties not JSON', { user_properties: '{x' }, 'user_properties: properties are not valid JSON'],
    ['user_properties an array', { user_properties: '[]' }, 'user_properties: properties are not a JSON object'],
  ];
  it.each(cases)('%s -> DLQ', (_name, o, error) => {
    const w = new World();
    expect(w.ingest([rec(o)]).outcomes[0]).toEqual({ kind: 'dlq', reason: 'invalid_record', error });
  });

  it('counts operations with unusable values and applies the rest', () => {
    const w = new World();
    const { outcomes, batch } = w.ingest([rec({ user_properties: '{"$add":{"n":"x","m":1},"$set":5}' })]);
    expect(batch.stats.ignoredOperations).toBe(2);
    expect(JSON.parse((outcomes[0] as { value: EnrichedEvent }).value.user_properties)).toEqual({ m: 1 });
  });
});

describe('enrich: de-duplication', () => {
  it('drops a repeated insert_id within one batch and across batches, without re-applying its operations', () => {
    const w = new World();
    const a = w.ingest([identify({ insert_id: 'i1', user_properties: '{"$add":{"n":1}}' }), identify({ insert_id: 'i1', user_properties: '{"$add":{"n":1}}' })]);
    expect(a.outcomes[1]).toEqual({ kind: 'drop', reason: 'duplicate' });
    const b = w.ingest([identify({ insert_id: 'i1', user_properties: '{"$add":{"n":1}}' })]);
    expect(b.outcomes[0]).toEqual({ kind: 'drop', reason: 'duplicate' });
    expect(b.batch.stats.duplicates).toBe(1);
    expect(w.props()).toEqual({ n: 1 });
  });

  const scope: [string, Partial<IngestRecord>, Partial<IngestRecord>, boolean][] = [
    ['same project, no device', { insert_id: 'x' }, { insert_id: 'x' }, true],
    ['same project and device', { insert_id: 'x', device_id: 'd1' }, { insert_id: 'x', device_id: 'd1' }, true],
    ['another device', { insert_id: 'x', device_id: 'd1' }, { insert_id: 'x', device_id: 'd2' }, false],
    ['another project', { insert_id: 'x' }, { insert_id: 'x', project_id: 2 }, false],
    ['no insert_id is never a duplicate', {}, {}, false],
  ];
  it.each(scope)('%s', (_name, a, b, dup) => {
    const w = new World();
    const { outcomes } = w.ingest([rec(a), rec(b)]);
    expect(outcomes[1]!.kind === 'drop').toBe(dup);
  });

  it('accepts the insert_id again after the window', () => {
    const w = new World({ ...DEFAULT_LIMITS, dedupWindowMs: 1000 });
    w.ingest([rec({ insert_id: 'x', receive_time: 10_000 })]);
    expect(w.ingest([rec({ insert_id: 'x', receive_time: 10_500 })]).outcomes[0]!.kind).toBe('drop');
    expect(w.ingest([rec({ insert_id: 'x', receive_time: 11_001 })]).outcomes[0]!.kind).toBe('ok');
  });

  it('a duplicate that is invalid still goes to the DLQ (validation first)', () => {
    const w = new World();
    w.ingest([rec({ insert_id: 'x' })]);
    expect(w.ingest([rec({ insert_id: 'x', user_properties: '[' })]).outcomes[0]!.kind).toBe('dlq');
  });
});

describe('enrich: limits', () => {
  it('a sixth group type in a project is not tracked, and is counted', () => {
    const w = new World();
    w.ingest([identify({ groups: { a: ['1'], b: ['1'], c: ['1'], d: ['1'], e: ['1'] } })]);
    const { outcomes, batch } = w.ingest([identify({ user_id: 'bob', groups: { f: ['1'], a: ['2'] } }), rec({ user_id: 'bob', groups: { g: ['x'] } })]);
    expect(batch.stats.limitDrops.group_types).toBe(2);
    expect((outcomes[1] as { value: EnrichedEvent }).value.groups).toEqual({ a: ['2'] });
    // other projects have their own five
    expect(w.events([rec({ project_id: 2, groups: { f: ['1'] } })])[0]!.groups).toEqual({ f: ['1'] });
  });

  it('group types registered by a batch count for the rest of it', () => {
    const w = new World({ ...DEFAULT_LIMITS, groupTypes: 1 });
    const { outcomes, batch } = w.ingest([rec({ groups: { a: ['1'] } }), rec({ groups: { b: ['1'] } })]);
    expect(batch.types.added).toEqual([[1, 'a']]);
    expect((outcomes[1] as { value: EnrichedEvent }).value.groups).toEqual({});
  });

  it('group types known from group identifies count too', () => {
    const w = new World({ ...DEFAULT_LIMITS, groupTypes: 1 });
    w.groupIdentify([gi({ group_type: 'org' })]);
    expect(w.events([rec({ groups: { team: ['1'], org: ['a'] } })])[0]!.groups).toEqual({ org: ['a'] });
  });

  it('more than ten group values on an event: the first ten are tracked', () => {
    const w = new World();
    const values = Array.from({ length: 12 }, (_, i) => `v${i}`);
    const { outcomes, batch } = w.ingest([rec({ groups: { org: values } })]);
    const ev = (outcomes[0] as { value: EnrichedEvent }).value;
    expect(ev.groups.org).toEqual(values.slice(0, 10));
    expect(ev.group_properties).toHaveLength(10);
    expect(batch.stats.limitDrops.group_values).toBe(2);
  });

  it('user-level plus event-level values are limited to ten per event', () => {
    const w = new World();
    w.ingest([identify({ groups: { a: Array.from({ length: 8 }, (_, i) => `a${i}`) } })]);
    const [ev] = w.events([rec({ groups: { b: ['1', '2', '3', '4'] } })]);
    expect(ev!.groups.a).toHaveLength(8);
    expect(ev!.groups.b).toEqual(['1', '2']);
  });

  it('a user property bag above the size limit keeps its previous state', () => {
    const w = new World({ ...DEFAULT_LIMITS, stateBytes: 50 });
    const { batch } = w.ingest([identify({ user_properties: '{"a":1}' }), identify({ user_properties: JSON.stringify({ big: 'x'.repeat(100) }) })]);
    expect(batch.stats.limitDrops.state_size).toBe(1);
    expect(w.props()).toEqual({ a: 1 });
  });
});

describe('group identifies', () => {
  it('applies operations and returns the change with changed and removed names', () => {
    const w = new World();
    const first = w.groupIdentify([gi({ group_properties: '{"$set":{"plan":"ent","seats":5,"old":1}}' })]).outcomes[0]!;
    expect(first.kind).toBe('ok');
    const { outcomes } = w.groupIdentify([gi({ group_properties: '{"$add":{"seats":2},"$unset":{"old":"-"},"$set":{"plan":"ent"}}', event_time: 5, uuid: 'src', source: 'salesforce' })]);
    expect(outcomes[0]).toEqual({
      kind: 'ok',
      value: {
        project_id: 1,
        group_type: 'org',
        group_value: 'acme',
        event_time: 5,
        receive_time: expect.any(Number),
        properties: '{"plan":"ent","seats":7}',
        changed: ['seats'],
        removed: ['old'],
        source_uuid: 'src',
        source: 'salesforce',
      },
    });
    expect(w.groups.newest(1, 'org', 'acme')).toEqual({ e: 0, n: 2, p: '{"plan":"ent","seats":7}' });
  });

  it('plain keys mean $set for groups too', () => {
    const w = new World();
    w.groupIdentify([gi({ group_properties: '{"plan":"pro","$add":{"n":1}}' })]);
    expect(JSON.parse(w.groups.newest(1, 'org', 'acme')!.p)).toEqual({ plan: 'pro', n: 1 });
  });

  it('a new group with no properties is announced; a no-op on a known group is not', () => {
    const w = new World();
    expect(w.groupIdentify([gi()]).outcomes[0]!.kind).toBe('ok');
    const again = w.groupIdentify([gi({ group_properties: '{"$setOnce":{}}' })]);
    expect(again.outcomes[0]).toEqual({ kind: 'absorbed' });
    expect(again.batch.writes()).toEqual([]);
  });

  it('several changes to one group in a batch chain on each other', () => {
    const w = new World();
    const { outcomes, batch } = w.groupIdentify([gi({ group_properties: '{"$add":{"n":1}}' }), gi({ group_properties: '{"$add":{"n":1}}' })]);
    expect(outcomes.map((o) => (o.kind === 'ok' ? o.value.properties : o.kind))).toEqual(['{"n":1}', '{"n":2}']);
    expect(batch.writes().map((x) => x.version.n)).toEqual([1, 2]);
  });

  it('nothing reaches the committed store before apply (a failed transaction leaves it unchanged)', () => {
    const w = new World();
    const batch = new GroupBatch(w.groups, DEFAULT_LIMITS, w.groupDedup);
    applyGroupIdentify(gi({ group_properties: '{"$add":{"n":1}}' }), 0, batch);
    expect(w.groups.newest(1, 'org', 'acme')).toBeUndefined();
  });

  it('de-duplicates a repeated insert_id per group', () => {
    const w = new World();
    w.groupIdentify([gi({ insert_id: 'i', group_properties: '{"$add":{"n":1}}' })]);
    const { outcomes } = w.groupIdentify([gi({ insert_id: 'i', group_properties: '{"$add":{"n":1}}' }), gi({ insert_id: 'i', group_value: 'other' })]);
    expect(outcomes.map((o) => o.kind)).toEqual(['drop', 'ok']);
    expect(w.groups.newest(1, 'org', 'acme')!.p).toBe('{"n":1}');
  });

  it('group properties are stamped on a later event of any user in the group', () => {
    const w = new World();
    w.groupIdentify([gi({ group_properties: '{"plan":"ent"}' })]);
    w.ingest([identify({ user_id: 'bob', groups: { org: ['acme', 'other'] } })]);
    const [ev] = w.events([rec({ user_id: 'bob' })]);
    expect(ev!.group_properties).toEqual([
      { group_type: 'org', group_value: 'acme', properties: '{"plan":"ent"}' },
      { group_type: 'org', group_value: 'other', properties: '{}' },
    ]);
  });

  it('a sixth group type is dropped', () => {
    const w = new World({ ...DEFAULT_LIMITS, groupTypes: 2 });
    const { outcomes, batch } = w.groupIdentify([gi({ group_type: 'a' }), gi({ group_type: 'b' }), gi({ group_type: 'c' })]);
    expect(outcomes.map((o) => o.kind)).toEqual(['ok', 'ok', 'drop']);
    expect(batch.stats.limitDrops.group_types).toBe(1);
  });

  it('at most N group property names per project: new names beyond it are not tracked', () => {
    const w = new World({ ...DEFAULT_LIMITS, groupProperties: 3 });
    w.groupIdentify([gi({ group_properties: '{"a":1,"b":1}' })]);
    const { outcomes, batch } = w.groupIdentify([gi({ group_value: 'other', group_properties: '{"a":2,"c":1,"d":1}' })]);
    expect(batch.stats.limitDrops.group_properties).toBe(1);
    expect((outcomes[0] as { value: GroupChange }).value.properties).toBe('{"a":2,"c":1}');
    // an existing name is always allowed; another project has its own budget
    w.groupIdentify([gi({ group_value: 'third', group_properties: '{"b":5}' }), gi({ project_id: 2, group_properties: '{"x":1,"y":1,"z":1}' })]);
    expect(w.groups.newest(1, 'org', 'third')!.p).toBe('{"b":5}');
    expect(w.groups.newest(2, 'org', 'acme')!.p).toBe('{"x":1,"y":1,"z":1}');
  });

  const invalid: [string, Partial<GroupIdentifyRecord>][] = [
    ['no group type', { group_type: '' }],
    ['no group value', { group_value: '' }],
    ['properties not an object', { group_properties: '[1]' }],
  ];
  it.each(invalid)('%s -> DLQ', (_name, o) => {
    const w = new World();
    expect(w.groupIdentify([gi(o)]).outcomes[0]!.kind).toBe('dlq');
  });
});

describe('receive-order stamping: versions', () => {
  const P = (n: number) => 1_762_000_000_000_000 + n;
  const at = (w: World, pos: number) =>
    w.events([rec({ groups: { org: ['acme'] }, receive_pos: pos, producer_id: pos > 0 ? 'gw-1' : '' })])[0]!.group_properties[0]!.properties;

  it.each([
    ['before the first version: no properties yet', P(5), '{}'],
    ['at the first version itself: not before it', P(10), '{}'],
    ['just after the first version', P(11), '{"plan":"a","n":1}'],
    ['at the second version', P(20), '{"plan":"a","n":1}'],
    ['after the second version', P(21), '{"plan":"b","n":2}'],
    ['far after', P(10_000_000), '{"plan":"b","n":2}'],
    ['unordered (no position): the newest', 0, '{"plan":"b","n":2}'],
  ])('%s', (_name, pos, expected) => {
    const w = new World();
    w.groupIdentify([gi({ group_properties: '{"$set":{"plan":"a"},"$add":{"n":1}}' })], P(10));
    w.groupIdentify([gi({ group_properties: '{"$set":{"plan":"b"},"$add":{"n":1}}' })], P(20));
    expect(at(w, pos)).toBe(expected);
  });

  it('an event received before a group identify never gets its properties, even when processed after it', () => {
    const w = new World();
    w.groupIdentify([gi({ group_properties: '{"plan":"trial"}' })], P(100));
    w.groupIdentify([gi({ group_properties: '{"plan":"pro"}' })], P(200));
    // events processed only now, received between and before the two group identifies
    expect([P(50), P(150), P(250)].map((p) => at(w, p))).toEqual(['{}', '{"plan":"trial"}', '{"plan":"pro"}']);
  });

  it('prunes versions older than the horizon but the newest of them, and counts events older than what is kept', () => {
    const w = new World();
    const limits = (horizon: number): PruneLimits => ({ horizon, maxVersions: 100, maxBytes: 1 << 20 });
    w.groupIdentify([gi({ group_properties: '{"v":1}' })], P(10));
    w.groupIdentify([gi({ group_properties: '{"v":2}' })], P(20));
    const { batch } = w.groupIdentify([gi({ group_properties: '{"v":3}' })], P(30), limits(P(25)));
    expect(batch.dropped.map((d) => d.version)).toEqual([{ e: P(10), n: 1, p: '{"v":1}' }]);
    expect(batch.writes().map((x) => x.version)).toEqual([{ e: P(30), n: 3, p: '{"v":3}' }]);
    expect(w.groups.versions(1, 'org', 'acme')!.map((v) => v.n)).toEqual([2, 3]);
    // at or after the kept state: exact; before it: the oldest kept version, counted
    const { batch: late } = w.ingest([P(21), P(31), P(15)].map((pos) => rec({ groups: { org: ['acme'] }, receive_pos: pos, producer_id: 'gw-1' })));
    expect(late.stats.historyMisses).toBe(1);
    expect([P(21), P(31), P(15)].map((p) => at(w, p))).toEqual(['{"v":2}', '{"v":3}', '{"v":2}']);
  });

  it('keeps at most maxVersions (the newest always), dropping versions of the same batch before they are written', () => {
    const w = new World();
    const { batch } = w.groupIdentify(
      [1, 2, 3, 4].map((i) => gi({ group_properties: JSON.stringify({ v: i }), receive_pos: P(i), producer_id: 'gw-1' })),
      undefined,
      { horizon: 0, maxVersions: 2, maxBytes: 1 << 20 },
    );
    expect(batch.writes().map((x) => x.version.n)).toEqual([3, 4]);
    expect(batch.dropped).toEqual([]);
    expect(w.groups.versions(1, 'org', 'acme')!.map((v) => v.p)).toEqual(['{"v":3}', '{"v":4}']);
  });

  it('a batch of 50 group identifies with $add resent three times applies once (7-day window, not per group)', () => {
    const w = new World();
    // 25 per group: more than any short per-group memory of insert_ids would hold
    const batch = () => Array.from({ length: 50 }, (_, i) => gi({ group_value: `g${i % 2}`, insert_id: `gi-${i}`, group_properties: '{"$add":{"n":1}}' }));
    for (let round = 0; round < 4; round++) w.groupIdentify(batch());
    for (const g of ['g0', 'g1']) expect(JSON.parse(w.groups.newest(1, 'org', g)!.p)).toEqual({ n: 25 });
  });
});
