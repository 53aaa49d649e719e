// The enricher's rules (pure: no kafkajs, no clock, no network). A batch of input records is processed against
// an overlay of the committed state; the Kafka adapter writes the overlay's changes in one transaction with the
// outputs and the input offsets, and merges the overlay into the committed state only after the commit.
import {
  groupKey,
  userKey,
  type EnrichedEvent,
  type GroupChange,
  type GroupIdentifyRecord,
  type GroupSnapshot,
  type GroupsMap,
  type IngestRecord,
} from '@groupscope/events';
import type { UserEntry } from './changelog';
import { admitTypes, effectiveGroups, limitValues, mergeUserGroups, normalizeGroups, type GroupTypeRegistry } from './groups';
import { applyUpdate, isEmptyUpdate, parseUpdate, type Props } from './operations';
import type { DedupWindow, GroupStore, UserStore } from './state';
import { compareVersions, prunable, type GroupVersion, type PruneLimits } from './versions';
import { positionOf } from './watermark';

export interface Limits {
  /** group types per project (Amplitude: 5) */
  groupTypes: number;
  /** group values per event (Amplitude: 10) */
  groupValues: number;
  /** distinct group property names per project (Amplitude: 1000) */
  groupProperties: number;
  /** largest property bag (JSON bytes) kept for one user or group: keeps every changelog record under Kafka's size limit */
  stateBytes: number;
  /** insert_id de-duplication window (Amplitude: 7 days) */
  dedupWindowMs: number;
}

export const DEFAULT_LIMITS: Limits = {
  groupTypes: 5,
  groupValues: 10,
  groupProperties: 1000,
  stateBytes: 256 * 1024,
  dedupWindowMs: 7 * 24 * 3600 * 1000,
};

export type LimitName = 'group_types' | 'group_values' | 'group_properties' | 'state_size';

export type Outcome<T> =
  | { kind: 'ok'; value: T }
  /** the record changed state (or nothing) and emits nothing */
  | { kind: 'absorbed' }
  | { kind: 'drop'; reason: 'duplicate' | 'group_type_limit' }
  | { kind: 'dlq'; reason: string; error: string };

export interface BatchStats {
  duplicates: number;
  limitDrops: Record<LimitName, number>;
  ignoredOperations: number;
  /** group snapshots of events older than the group's kept history (stamped with the oldest kept version) */
  historyMisses: number;
}

const newStats = (): BatchStats => ({
  duplicates: 0,
  limitDrops: { group_types: 0, group_values: 0, group_properties: 0, state_size: 0 },
  ignoredOperations: 0,
  historyMisses: 0,
});

/** A batch's insert_id de-duplication: the committed window plus the keys this batch added. */
class BatchDedup {
  readonly entries: [string, number][] = [];
  private readonly added = new Set<string>();
  constructor(private readonly window: DedupWindow) {}
  seen(hash: string, now: number): boolean {
    return this.added.has(hash) || this.window.isDuplicate(hash, now);
  }
  remember(hash: string, time: number): void {
    this.added.add(hash);
    this.entries.push([hash, time]);
  }
}

/**
 * 64-bit hash of a de-duplication key: what the window and the changelog hold instead of the ids (two 32-bit
 * multiply-xorshift lanes, as in cyrb53; a tenth of the cost of a crypto digest). Stored in the changelog: never
 * change it without versioning the dedup segments. Collision odds with 500k keys per partition: about 1e-8.
 */
export function dedupHash(parts: (string | number)[]): string {
  const s = parts.join('\u0000');
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

/** The key Amplitude de-duplicates on: project, device_id when present, insert_id. */
export const ingestDedupHash = (r: IngestRecord): string => dedupHash([r.project_id, r.device_id ?? '', r.insert_id ?? '']);

/** Types known to the committed store plus those registered by this batch. */
class TypeOverlay implements GroupTypeRegistry {
  readonly added: [number, string][] = [];
  private readonly byProject = new Map<number, Set<string>>();
  constructor(private readonly store: GroupTypeRegistry) {}
  hasType(projectId: number, type: string): boolean {
    return this.store.hasType(projectId, type) || (this.byProject.get(projectId)?.has(type) ?? false);
  }
  typeCount(projectId: number): number {
    return this.store.typeCount(projectId) + (this.byProject.get(projectId)?.size ?? 0);
  }
  register(projectId: number, type: string): void {
    let s = this.byProject.get(projectId);
    if (!s) this.byProject.set(projectId, (s = new Set()));
    s.add(type);
    this.added.push([projectId, type]);
  }
}

/** A batch of one ingest partition: users, de-duplication entries and new group types it changed. */
export class IngestBatch {
  readonly users = new Map<string, UserEntry>();
  readonly stats = newStats();
  readonly types: TypeOverlay;
  readonly dedup: BatchDedup;

  constructor(
    readonly committedUsers: UserStore,
    window: DedupWindow,
    readonly groups: GroupStore,
    readonly limits: Limits,
  ) {
    this.types = new TypeOverlay(groups);
    this.dedup = new BatchDedup(window);
  }

  user(key: string): UserEntry | undefined {
    return this.users.get(key) ?? this.committedUsers.get(key);
  }

  /** Merges the batch into the committed state: call only after its transaction committed. */
  apply(): void {
    for (const [k, e] of this.users) this.committedUsers.set(k, e);
    for (const [p, t] of this.types.added) this.groups.addType(p, t);
  }

}

const EMPTY_USER: UserEntry = { g: '', p: '{}' };
const parseGroups = (g: string): GroupsMap => (g === '' ? {} : (JSON.parse(g) as GroupsMap));

/** Incoming groups (event-level, or user-level from an identify) after the type and value limits. */
function admitGroups(projectId: number, raw: GroupsMap, batch: { types: TypeOverlay; stats: BatchStats; limits: Limits }): GroupsMap {
  const groups = normalizeGroups(raw);
  if (Object.keys(groups).length === 0) return groups;
  const admitted = admitTypes(projectId, groups, batch.types, batch.limits.groupTypes);
  for (const t of admitted.newTypes) batch.types.register(projectId, t);
  batch.stats.limitDrops.group_types += admitted.droppedTypes.length;
  const limited = limitValues(admitted.groups, batch.limits.groupValues);
  batch.stats.limitDrops.group_values += limited.dropped;
  return limited.groups;
}

/**
 * One ingest record: de-duplicates it, applies its user property operations and (identify) its user-level
 * groups to the user's state, and for an event returns it enriched with its effective groups and snapshots of
 * the user's and each group's properties.
 */
export function enrich(r: IngestRecord, batch: IngestBatch): Outcome<EnrichedEvent> {
  if (!r.user_id && !r.device_id) return { kind: 'dlq', reason: 'invalid_record', error: 'record has neither user_id nor device_id' };
  if (!r.event_type) return { kind: 'dlq', reason: 'invalid_record', error: 'record has no event_type' };
  const parsed = parseUpdate(r.user_properties);
  if (!parsed.ok) return { kind: 'dlq', reason: 'invalid_record', error: `user_properties: ${parsed.error}` };
  if (r.insert_id) {
    const h = ingestDedupHash(r);
    if (batch.dedup.seen(h, r.receive_time)) {
      batch.stats.duplicates++;
      return { kind: 'drop', reason: 'duplicate' };
    }
    batch.dedup.remember(h, r.receive_time);
  }
  const update = parsed.update;
  batch.stats.ignoredOperations += update.ignored.length;

  const key = userKey(r.project_id, r.user_id, r.device_id);
  const cur = batch.user(key) ?? EMPTY_USER;
  let userGroups = parseGroups(cur.g);
  let g = cur.g;
  let p = cur.p;
  const incoming = admitGroups(r.project_id, r.groups, batch);

  if (r.kind === 'identify' && Object.keys(incoming).length > 0) {
    const limited = limitValues(mergeUserGroups(userGroups, incoming), batch.limits.groupValues);
    batch.stats.limitDrops.group_values += limited.dropped;
    userGroups = limited.groups;
    g = JSON.stringify(userGroups);
  }
  if (!isEmptyUpdate(update)) {
    const res = applyUpdate(JSON.parse(p) as Props, update);
    if (res.changed.length > 0 || res.removed.length > 0) {
      const next = JSON.stringify(res.props);
      if (next.length > batch.limits.stateBytes) batch.stats.limitDrops.state_size++;
      else p = next;
    }
  }
  if (g !== cur.g || p !== cur.p) batch.users.set(key, { g, p });
  if (r.kind === 'identify') return { kind: 'absorbed' };

  const eff = limitValues(effectiveGroups(userGroups, incoming), batch.limits.groupValues);
  batch.stats.limitDrops.group_values += eff.dropped;
  // each group as the group identifies received before this event left it (an unordered event: as it is now)
  const pos = positionOf(r);
  const snapshots: GroupSnapshot[] = [];
  for (const [type, values] of Object.entries(eff.groups)) {
    for (const value of values) {
      const found = batch.groups.at(r.project_id, type, value, pos);
      if (!found.exact) batch.stats.historyMisses++;
      snapshots.push({ group_type: type, group_value: value, properties: found.p });
    }
  }
  return {
    kind: 'ok',
    value: {
      project_id: r.project_id,
      uuid: r.uuid,
      receive_time: r.receive_time,
      event_time: r.event_time,
      event_type: r.event_type,
      user_id: r.user_id,
      device_id: r.device_id,
      insert_id: r.insert_id,
      session_id: r.session_id,
      event_id: r.event_id,
      event_properties: r.event_properties,
      user_properties: p,
      groups: eff.groups,
      group_properties: snapshots,
      context: r.context,
      revenue: r.revenue,
      price: r.price,
      quantity: r.quantity,
      location_lat: r.location_lat,
      location_lng: r.location_lng,
      extra: r.extra ?? '{}',
    },
  };
}

/** A version to write or drop, with its group. */
export interface GroupVersionRef {
  projectId: number;
  groupType: string;
  groupValue: string;
  version: GroupVersion & { legacy?: true };
}

interface Touched {
  projectId: number;
  groupType: string;
  groupValue: string;
  /** versions this batch added, in the order applied */
  added: GroupVersion[];
}

/**
 * A batch of one group-identify partition: the versions it added and the ones it prunes, the de-duplication keys
 * and the property names it created.
 */
export class GroupBatch {
  private readonly touched = new Map<string, Touched>();
  /** committed versions pruned by this batch (tombstones) */
  readonly dropped: GroupVersionRef[] = [];
  readonly stats = newStats();
  readonly types: TypeOverlay;
  readonly dedup: BatchDedup;
  private readonly newNames = new Map<number, Set<string>>();

  constructor(
    readonly store: GroupStore,
    readonly limits: Limits,
    window: DedupWindow,
  ) {
    this.types = new TypeOverlay(store);
    this.dedup = new BatchDedup(window);
  }

  /** The group's newest version, this batch's included. */
  newest(projectId: number, groupType: string, groupValue: string): GroupVersion | undefined {
    return this.touched.get(groupKey(projectId, groupType, groupValue))?.added.at(-1) ?? this.store.newest(projectId, groupType, groupValue);
  }

  add(projectId: number, groupType: string, groupValue: string, version: GroupVersion): void {
    const key = groupKey(projectId, groupType, groupValue);
    let t = this.touched.get(key);
    if (!t) this.touched.set(key, (t = { projectId, groupType, groupValue, added: [] }));
    t.added.push(version);
  }

  /** May the project get one more group property name? */
  admitName(projectId: number, name: string): boolean {
    if (this.store.hasPropertyName(projectId, name)) return true;
    let added = this.newNames.get(projectId);
    if (added?.has(name)) return true;
    if (this.store.propertyNameCount(projectId) + (added?.size ?? 0) >= this.limits.groupProperties) return false;
    if (!added) this.newNames.set(projectId, (added = new Set()));
    added.add(name);
    return true;
  }

  /**
   * Prunes the history of every group this batch changed: committed versions to drop become tombstones, versions
   * of this batch that are already beyond the limits are not written at all.
   */
  prune(limits: PruneLimits): void {
    for (const t of this.touched.values()) {
      const committed = this.store.versions(t.projectId, t.groupType, t.groupValue) ?? [];
      const drop = new Set(prunable([...committed, ...t.added].sort(compareVersions), limits));
      if (drop.size === 0) continue;
      t.added = t.added.filter((v) => !drop.has(v));
      for (const version of committed) {
        if (drop.has(version)) this.dropped.push({ projectId: t.projectId, groupType: t.groupType, groupValue: t.groupValue, version });
      }
    }
  }

  /** The versions to write, in the order they were applied. */
  writes(): GroupVersionRef[] {
    const out: GroupVersionRef[] = [];
    for (const t of this.touched.values()) for (const version of t.added) out.push({ projectId: t.projectId, groupType: t.groupType, groupValue: t.groupValue, version });
    return out;
  }

  /** Merges the batch into the committed state: call only after its transaction committed. */
  apply(): void {
    for (const w of this.writes()) this.store.putVersion(w.projectId, w.groupType, w.groupValue, w.version);
    for (const d of this.dropped) this.store.deleteVersion(d.projectId, d.groupType, d.groupValue, d.version.legacy ? 'legacy' : d.version);
    for (const [p, t] of this.types.added) this.store.addType(p, t);
  }
}

/**
 * One group identify, at effective position `e` (see watermark.ts): de-duplicates it, applies its property
 * operations to the group's newest version and adds the result as a new version at `e`, returning the GroupChange
 * to publish ('absorbed' when nothing visible changed, e.g. a $setOnce on a property that is set). Group identifies
 * are applied in (E, offset) order, so versions are added in position order.
 */
export function applyGroupIdentify(r: GroupIdentifyRecord, e: number, batch: GroupBatch): Outcome<GroupChange> {
  if (!r.group_type || !r.group_value) return { kind: 'dlq', reason: 'invalid_record', error: 'group identify without group_type or group_value' };
  const parsed = parseUpdate(r.group_properties);
  if (!parsed.ok) return { kind: 'dlq', reason: 'invalid_record', error: `group_properties: ${parsed.error}` };
  const projectId = r.project_id;
  if (r.insert_id) {
    // several groups of one $groupidentify share its insert_id: the group is part of the key
    const h = dedupHash([projectId, r.group_type, r.group_value, r.insert_id]);
    if (batch.dedup.seen(h, r.receive_time)) {
      batch.stats.duplicates++;
      return { kind: 'drop', reason: 'duplicate' };
    }
    batch.dedup.remember(h, r.receive_time);
  }
  if (!batch.types.hasType(projectId, r.group_type)) {
    if (batch.types.typeCount(projectId) >= batch.limits.groupTypes) {
      batch.stats.limitDrops.group_types++;
      return { kind: 'drop', reason: 'group_type_limit' };
    }
    batch.types.register(projectId, r.group_type);
  }
  const cur = batch.newest(projectId, r.group_type, r.group_value);
  batch.stats.ignoredOperations += parsed.update.ignored.length;
  const before = cur ? (JSON.parse(cur.p) as Props) : {};
  const res = applyUpdate(before, parsed.update, (name) => batch.admitName(projectId, name));
  batch.stats.limitDrops.group_properties += res.rejected.length;
  let p = cur?.p ?? '{}';
  let changed = res.changed;
  let removed = res.removed;
  if (changed.length > 0 || removed.length > 0) {
    const next = JSON.stringify(res.props);
    if (next.length > batch.limits.stateBytes) {
      batch.stats.limitDrops.state_size++;
      changed = [];
      removed = [];
    } else {
      p = next;
    }
  }
  const visible = !cur || changed.length > 0 || removed.length > 0;
  if (!visible) return { kind: 'absorbed' };
  batch.add(projectId, r.group_type, r.group_value, { e, n: (cur?.n ?? 0) + 1, p });
  return {
    kind: 'ok',
    value: {
      project_id: projectId,
      group_type: r.group_type,
      group_value: r.group_value,
      event_time: r.event_time,
      receive_time: r.receive_time,
      properties: p,
      changed,
      removed,
      source_uuid: r.uuid,
      source: r.source,
    },
  };
}
