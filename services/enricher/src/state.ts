// The enricher's in-memory state (pure: no Kafka, no clock). Users and the de-duplication window are held per
// input partition; groups, group types and property names per project are held whole by every instance.
// Everything here is the COMMITTED state: a batch works on an overlay (see enrich.ts) that is merged only after
// its Kafka transaction committed.
import { groupKey } from '@groupscope/events';
import { decodeCheckpoint, decodeGroup, parseKey, type GroupEntry, type UserEntry } from './changelog';
import type { GroupTypeRegistry } from './groups';

export type UserStore = Map<string, UserEntry>;

function propNames(json: string): string[] {
  try {
    const v = JSON.parse(json) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : [];
  } catch {
    return [];
  }
}

/** Current properties of every group, the group types of each project, and each project's property names. */
export class GroupStore implements GroupTypeRegistry {
  private readonly groups = new Map<string, GroupEntry>();
  private readonly types = new Map<number, Set<string>>();
  /** property name -> number of groups holding it, per project (the 1000-names limit counts these) */
  private readonly names = new Map<number, Map<string, number>>();
  /** group-identify partition ("topic:partition") -> next offset to process, as committed */
  private readonly checkpoints = new Map<string, number>();

  get size(): number {
    return this.groups.size;
  }

  get(projectId: number, groupType: string, groupValue: string): GroupEntry | undefined {
    return this.groups.get(groupKey(projectId, groupType, groupValue));
  }

  /**
   * Stores a group's state unless the store already holds the same or a newer version (the changelog tail may
   * deliver an instance's own writes after it applied them). Returns whether it was stored.
   */
  put(projectId: number, groupType: string, groupValue: string, entry: GroupEntry): boolean {
    const key = groupKey(projectId, groupType, groupValue);
    const old = this.groups.get(key);
    if (old && old.v >= entry.v) return false;
    this.groups.set(key, entry);
    this.addType(projectId, groupType);
    if (!old || old.p !== entry.p) this.countNames(projectId, old ? propNames(old.p) : [], propNames(entry.p));
    return true;
  }

  private countNames(projectId: number, before: string[], after: string[]): void {
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

  setCheckpoint(topic: string, partition: number, next: number): void {
    const k = `${topic}:${partition}`;
    this.checkpoints.set(k, Math.max(next, this.checkpoints.get(k) ?? -1));
  }

  checkpoint(topic: string, partition: number): number {
    return this.checkpoints.get(`${topic}:${partition}`) ?? -1;
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
  if (value === null) return; // the enricher never deletes a group
  const k = parseKey(key, 'groups');
  if (k.kind === 'group') store.put(k.projectId, k.groupType, k.groupValue, decodeGroup(value));
  else if (k.kind === 'type') store.addType(k.projectId, k.groupType);
  else if (k.kind === 'checkpoint') store.setCheckpoint(k.topic, k.partition, decodeCheckpoint(value));
}
