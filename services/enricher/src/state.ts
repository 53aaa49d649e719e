// The enricher's in-memory state (pure: no Kafka; the only clock is the watermark's stall timer). Users and the
// de-duplication windows are held per input partition; group versions, group types, property names per project and
// the group-identify partitions' watermarks are held whole by every instance.
// Everything here is the COMMITTED state: a batch works on an overlay (see enrich.ts) that is merged only after
// its Kafka transaction committed.
import { groupKey } from '@groupscope/events';
import { decodeGroupCheckpoint, decodeLegacyGroup, decodeVersion, parseKey, type GroupPartitionState, type UserEntry } from './changelog';
import type { GroupTypeRegistry } from './groups';
import { compareVersions, versionAt, type GroupVersion, type VersionLookup } from './versions';
import { GlobalWatermark } from './watermark';

export type UserStore = Map<string, UserEntry>;

function propNames(json: string): string[] {
  try {
    const v = JSON.parse(json) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : [];
  } catch {
    return [];
  }
}

/** A group's versions, sorted by compareVersions; `legacy` marks the one read from a record written before versions. */
type StoredVersion = GroupVersion & { legacy?: true };

/**
 * Every group's property versions, the group types of each project, each project's property names, and the state of
 * every group-identify partition (checkpoint and watermark) with the global watermark over them.
 */
export class GroupStore implements GroupTypeRegistry {
  /** a group's versions in order; most groups hold one, kept without an array (a third less heap per group) */
  private readonly groups = new Map<string, StoredVersion | StoredVersion[]>();
  private readonly types = new Map<number, Set<string>>();
  /** property name -> number of groups whose newest version holds it, per project (the 1000-names limit counts these) */
  private readonly names = new Map<number, Map<string, number>>();
  /** group-identify partition ("topic:partition") -> its committed state */
  private readonly partitions = new Map<string, GroupPartitionState>();
  readonly watermark: GlobalWatermark;

  constructor(opts: { maxStallMs?: number; now?: () => number } = {}) {
    this.watermark = new GlobalWatermark(opts.maxStallMs ?? 60_000, opts.now);
  }

  get size(): number {
    return this.groups.size;
  }

  versions(projectId: number, groupType: string, groupValue: string): readonly GroupVersion[] | undefined {
    const entry = this.groups.get(groupKey(projectId, groupType, groupValue));
    return entry === undefined || Array.isArray(entry) ? entry : [entry];
  }

  /** The group's newest version (its current properties). */
  newest(projectId: number, groupType: string, groupValue: string): GroupVersion | undefined {
    const entry = this.groups.get(groupKey(projectId, groupType, groupValue));
    return Array.isArray(entry) ? entry.at(-1) : entry;
  }

  /** The properties an event at `pos` carries for this group (see versionAt). */
  at(projectId: number, groupType: string, groupValue: string, pos: number): VersionLookup {
    const entry = this.groups.get(groupKey(projectId, groupType, groupValue));
    if (entry !== undefined && !Array.isArray(entry) && (pos <= 0 || entry.e < pos)) return { p: entry.p, exact: true };
    return versionAt(entry === undefined || Array.isArray(entry) ? entry : [entry], pos);
  }

  /**
   * Stores a version unless the store already holds it (the changelog tail may deliver an instance's own writes
   * after it applied them). Returns whether it was stored.
   */
  putVersion(projectId: number, groupType: string, groupValue: string, v: StoredVersion): boolean {
    const key = groupKey(projectId, groupType, groupValue);
    const entry = this.groups.get(key);
    const list = entry === undefined ? [] : Array.isArray(entry) ? entry : [entry];
    let i = list.length;
    while (i > 0 && compareVersions(list[i - 1]!, v) > 0) i--;
    const prev = list[i - 1];
    if (prev && prev.e === v.e && prev.n === v.n) return false;
    const before = list.at(-1);
    list.splice(i, 0, v);
    this.groups.set(key, list.length === 1 ? v : list);
    this.addType(projectId, groupType);
    if (i === list.length - 1) this.countNames(projectId, before?.p, v.p);
    return true;
  }

  /** Drops a version (pruned); `legacy`: the one read from a record written before versions. */
  deleteVersion(projectId: number, groupType: string, groupValue: string, which: { e: number; n: number } | 'legacy'): void {
    const key = groupKey(projectId, groupType, groupValue);
    const entry = this.groups.get(key);
    if (entry === undefined) return;
    const list = Array.isArray(entry) ? entry : [entry];
    const i = list.findIndex((v) => (which === 'legacy' ? v.legacy === true : !v.legacy && v.e === which.e && v.n === which.n));
    if (i < 0) return;
    const newest = i === list.length - 1;
    const [removed] = list.splice(i, 1);
    if (newest) this.countNames(projectId, removed!.p, list.at(-1)?.p);
    if (list.length === 0) this.groups.delete(key);
    else this.groups.set(key, list.length === 1 ? list[0]! : list);
  }

  /** The newest version of a group changed from `beforeP` to `afterP` (property bags as JSON text). */
  private countNames(projectId: number, beforeP: string | undefined, afterP: string | undefined): void {
    if (beforeP === afterP) return;
    const before = beforeP === undefined ? [] : propNames(beforeP);
    const after = afterP === undefined ? [] : propNames(afterP);
    let counts = this.names.get(projectId);
    if (!counts) this.names.set(projectId, (counts = new Map()));
    const kept = new Set(after);
    for (const n of before) {
      if (kept.has(n)) continue;
      const c = (counts.get(n) ?? 1) - 1;
      if (c <= 0) counts.delete(n);
      else counts.set(n, c);
    }
    const had = new Set(before);
    for (const n of after) if (!had.has(n)) counts.set(n, (counts.get(n) ?? 0) + 1);
  }

  addType(projectId: number, groupType: string): void {
    let set = this.types.get(projectId);
    if (!set) this.types.set(projectId, (set = new Set()));
    set.add(groupType);
  }

  hasType(projectId: number, groupType: string): boolean {
    return this.types.get(projectId)?.has(groupType) ?? false;
  }

  typeCount(projectId: number): number {
    return this.types.get(projectId)?.size ?? 0;
  }

  hasPropertyName(projectId: number, name: string): boolean {
    return this.names.get(projectId)?.has(name) ?? false;
  }

  propertyNameCount(projectId: number): number {
    return this.names.get(projectId)?.size ?? 0;
  }

  /** A group-identify partition's committed state; an older one than known is ignored. */
  setPartitionState(topic: string, partition: number, state: GroupPartitionState): void {
    const k = `${topic}:${partition}`;
    const cur = this.partitions.get(k);
    if (cur && cur.next > state.next) return;
    this.partitions.set(k, state);
    this.watermark.set(partition, state.wm);
  }

  partitionState(topic: string, partition: number): GroupPartitionState | undefined {
    return this.partitions.get(`${topic}:${partition}`);
  }

  checkpoint(topic: string, partition: number): number {
    return this.partitions.get(`${topic}:${partition}`)?.next ?? -1;
  }
}

interface DedupSegment {
  key: string;
  hashes: string[];
  maxTime: number;
}

/** What committing one batch does to the window: the batch's new segment, and the segments to evict. */
export interface DedupPlan {
  segment: { key: string; entries: [string, number][] } | null;
  /** segment keys to tombstone in the changelog (evicted now, or at restore and not yet tombstoned) */
  evict: string[];
  evictCount: number;
}

/**
 * insert_id de-duplication window of one input partition: hashed keys with their time, grouped in segments
 * (one per committed batch, one changelog record each). Bounded by time (entries older than the window are
 * expired, judged against record times, not a clock) and by capacity (oldest segments evicted first).
 */
export class DedupWindow {
  private readonly times = new Map<string, number>();
  private segments: DedupSegment[] = [];
  private head = 0;
  private pending: string[] = [];
  private restoring = new Map<string, { seq: number; entries: [string, number][] }>();

  constructor(
    readonly windowMs: number,
    readonly capacity: number,
  ) {}

  get size(): number {
    return this.times.size;
  }

  get segmentCount(): number {
    return this.segments.length - this.head;
  }

  isDuplicate(hash: string, now: number): boolean {
    const t = this.times.get(hash);
    return t !== undefined && t >= now - this.windowMs;
  }

  /** Plans adding a batch's entries as segment `key`, with `now` the newest record time; changes nothing. */
  plan(key: string, entries: [string, number][], now: number): DedupPlan {
    const evict = [...this.pending];
    let size = this.times.size + entries.length;
    let i = this.head;
    for (; i < this.segments.length; i++) {
      const s = this.segments[i]!;
      if (size <= this.capacity && s.maxTime >= now - this.windowMs) break;
      evict.push(s.key);
      size -= s.hashes.length;
    }
    return { segment: entries.length > 0 ? { key, entries } : null, evict, evictCount: i - this.head };
  }

  apply(plan: DedupPlan): void {
    for (let n = 0; n < plan.evictCount; n++) this.evictHead();
    this.pending = [];
    if (plan.segment) this.push(plan.segment.key, plan.segment.entries);
  }

  private push(key: string, entries: [string, number][]): void {
    let maxTime = 0;
    const hashes: string[] = [];
    for (const [h, t] of entries) {
      this.times.set(h, t);
      hashes.push(h);
      if (t > maxTime) maxTime = t;
    }
    this.segments.push({ key, hashes, maxTime });
  }

  private evictHead(): void {
    const s = this.segments[this.head];
    if (!s) return;
    this.segments[this.head] = undefined as unknown as DedupSegment;
    this.head++;
    for (const h of s.hashes) {
      // a hash re-added later (after it expired) belongs to a newer segment: keep it
      const t = this.times.get(h);
      if (t !== undefined && t <= s.maxTime) this.times.delete(h);
    }
    if (this.head > 1024 && this.head * 2 > this.segments.length) {
      this.segments = this.segments.slice(this.head);
      this.head = 0;
    }
  }

  /** Restore: one changelog record (null = tombstone), in any order. */
  load(key: string, seq: number, entries: [string, number][] | null): void {
    if (entries === null) this.restoring.delete(key);
    else this.restoring.set(key, { seq, entries });
  }

  /** Restore done: segments in offset order, then what the window or the capacity no longer holds is evicted. */
  finishRestore(): void {
    const loaded = [...this.restoring.entries()].sort((a, b) => a[1].seq - b[1].seq);
    this.restoring = new Map();
    let now = 0;
    for (const [key, { entries }] of loaded) {
      this.push(key, entries);
      for (const [, t] of entries) if (t > now) now = t;
    }
    const plan = this.plan('', [], now);
    for (let n = 0; n < plan.evictCount; n++) this.evictHead();
    // their tombstones go out with the next committed batch
    this.pending = plan.evict;
  }

  clear(): void {
    this.times.clear();
    this.segments = [];
    this.head = 0;
    this.pending = [];
    this.restoring = new Map();
  }
}

/** Applies one record of the groups changelog (as the tail delivers it) to the store. */
export function applyGroupsChangelogRecord(store: GroupStore, key: string, value: string | null): void {
  const k = parseKey(key, 'groups');
  if (k.kind === 'version') {
    if (value === null) store.deleteVersion(k.projectId, k.groupType, k.groupValue, { e: k.e, n: k.n });
    else store.putVersion(k.projectId, k.groupType, k.groupValue, { e: k.e, n: k.n, p: decodeVersion(value) });
  } else if (k.kind === 'group') {
    if (value === null) store.deleteVersion(k.projectId, k.groupType, k.groupValue, 'legacy');
    else {
      const legacy = decodeLegacyGroup(value);
      // the state before versions existed applies from the start: every positioned event comes after it
      store.putVersion(k.projectId, k.groupType, k.groupValue, { e: 0, n: legacy.v, p: legacy.p, legacy: true });
    }
  } else if (value === null) {
    return;
  } else if (k.kind === 'type') {
    store.addType(k.projectId, k.groupType);
  } else if (k.kind === 'checkpoint') {
    store.setPartitionState(k.topic, k.partition, decodeGroupCheckpoint(value));
  }
}
