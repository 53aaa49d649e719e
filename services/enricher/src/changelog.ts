// Keys and values of the enricher's compacted changelog topics (internal to the enricher; JSON text).
//   users changelog  (co-partitioned with ingest):  userKey -> {"g": groups, "p": props}; one checkpoint per partition
//   dedup changelog  (co-partitioned with ingest):  ["$dedup", firstOffset] -> {"e": [[hash, time], ...]} or tombstone
//   groups changelog (read whole by every instance): groupKey -> {"v", "p", "ins"}; ["$type", project, type];
//                                                    one checkpoint per group-identify partition
// A checkpoint holds the next input offset of its partition, written in the same transaction as the state it
// goes with: a new owner skips input below it even when its consumer fetched an older committed offset.
import type { GroupsMap } from '@groupscope/events';

/** A user's state: user-level groups and properties, both kept as JSON text ('' = no groups). */
export interface UserEntry {
  g: string;
  p: string;
}

/** A group's state: a version (one more per change, so stale copies never overwrite newer ones) and properties. */
export interface GroupEntry {
  v: number;
  p: string;
  /** recent group-identify insert_id hashes with their time, for de-duplication */
  ins?: [string, number][];
}

export type ChangelogKey =
  | { kind: 'user'; key: string }
  | { kind: 'group'; key: string; projectId: number; groupType: string; groupValue: string }
  | { kind: 'type'; projectId: number; groupType: string }
  | { kind: 'checkpoint'; topic: string; partition: number }
  | { kind: 'dedup'; seq: number; key: string }
  | { kind: 'unknown' };

export const checkpointKey = (topic: string, partition: number): string => JSON.stringify(['$checkpoint', topic, partition]);
export const typeKey = (projectId: number, groupType: string): string => JSON.stringify(['$type', projectId, groupType]);
export const dedupSegmentKey = (firstOffset: number): string => JSON.stringify(['$dedup', firstOffset]);

/** Parses a changelog key; `[project, x, y]` is a user in the users changelog and a group in the groups changelog. */
export function parseKey(key: string, topic: 'users' | 'groups' | 'dedup'): ChangelogKey {
  let k: unknown;
  try {
    k = JSON.parse(key);
  } catch {
    return { kind: 'unknown' };
  }
  if (!Array.isArray(k)) return { kind: 'unknown' };
  const [a, b, c] = k as unknown[];
  if (typeof a === 'number') {
    if (k.length !== 3 || typeof b !== 'string' || typeof c !== 'string') return { kind: 'unknown' };
    if (topic === 'users') return { kind: 'user', key };
    if (topic === 'groups') return { kind: 'group', key, projectId: a, groupType: b, groupValue: c };
    return { kind: 'unknown' };
  }
  if (a === '$checkpoint' && typeof b === 'string' && typeof c === 'number') return { kind: 'checkpoint', topic: b, partition: c };
  if (a === '$type' && typeof b === 'number' && typeof c === 'string') return { kind: 'type', projectId: b, groupType: c };
  if (a === '$dedup' && typeof b === 'number') return { kind: 'dedup', seq: b, key };
  return { kind: 'unknown' };
}

export const encodeCheckpoint = (next: number): string => JSON.stringify({ next });
export function decodeCheckpoint(value: string): number {
  const v = JSON.parse(value) as { next?: unknown };
  if (typeof v.next !== 'number') throw new Error('checkpoint without next offset');
  return v.next;
}

export const encodeUser = (e: UserEntry): string => `{"g":${e.g === '' ? '{}' : e.g},"p":${e.p}}`;
export function decodeUser(value: string): UserEntry {
  const v = JSON.parse(value) as { g?: GroupsMap; p?: object };
  const g = v.g && Object.keys(v.g).length > 0 ? JSON.stringify(v.g) : '';
  return { g, p: JSON.stringify(v.p ?? {}) };
}

export const encodeGroup = (e: GroupEntry): string => `{"v":${e.v},"p":${e.p}${e.ins && e.ins.length > 0 ? `,"ins":${JSON.stringify(e.ins)}` : ''}}`;
export function decodeGroup(value: string): GroupEntry {
  const v = JSON.parse(value) as { v?: unknown; p?: object; ins?: [string, number][] };
  if (typeof v.v !== 'number') throw new Error('group state without version');
  const entry: GroupEntry = { v: v.v, p: JSON.stringify(v.p ?? {}) };
  if (Array.isArray(v.ins) && v.ins.length > 0) entry.ins = v.ins;
  return entry;
}

export const encodeDedupSegment = (entries: [string, number][]): string => JSON.stringify({ e: entries });
export function decodeDedupSegment(value: string): [string, number][] {
  const v = JSON.parse(value) as { e?: unknown };
  if (!Array.isArray(v.e)) throw new Error('dedup segment without entries');
  return v.e as [string, number][];
}

export const encodeType = (time: number): string => JSON.stringify({ t: time });

/** A changelog record's key and value as the JSON text they hold ('' for a missing key, null for a tombstone). */
export function changelogText(r: { key: Buffer | null; value: Buffer | null }): { key: string; value: string | null } {
  return { key: r.key ? r.key.toString('utf8') : '', value: r.value ? r.value.toString('utf8') : null };
}
