// Keys and values of the enricher's compacted changelog topics (internal to the enricher; JSON text).
//   users changelog  (co-partitioned with ingest):  userKey -> {"g": groups, "p": props}; one checkpoint per partition
//   dedup changelog  (co-partitioned with ingest):  ["$dedup", firstOffset] -> {"e": [[hash, time], ...]} or tombstone
//   group dedup changelog (co-partitioned with group-identify): the same, for group identifies
//   groups changelog (co-partitioned with group-identify, read whole by every instance):
//     [project, type, value, E, n] -> {"p": props}: one record per version of a group's properties (tombstone: pruned)
//     [project, type, value] -> {"v", "p"}: a group's state as written before versions existed (read as E = 0)
//     ["$type", project, type]; and per group-identify partition one checkpoint with its watermark state
// A checkpoint holds the next input offset of its partition, written in the same transaction as the state it
// goes with: a new owner skips input below it even when its consumer fetched an older committed offset. A
// group-identify partition's versions and its checkpoint go to the same changelog partition, the checkpoint last:
// whoever reads the watermark there has read every version it covers.
import type { GroupsMap } from '@groupscope/events';

/** A user's state: user-level groups and properties, both kept as JSON text ('' = no groups). */
export interface UserEntry {
  g: string;
  p: string;
}

/** A group's state as written before versions existed: its change count and properties. */
export interface LegacyGroupEntry {
  v: number;
  p: string;
}

/** The committed state of one group-identify partition, written with every transaction of it. */
export interface GroupPartitionState {
  /** next input offset to process */
  next: number;
  /** the partition's watermark (see watermark.ts) */
  wm: number;
  /** producers waited for, with their last position */
  producers: [string, number][];
  /** offset of the oldest record not yet applied (its E is above the watermark); `next` when none */
  from: number;
}

export type ChangelogKey =
  | { kind: 'user'; key: string }
  | { kind: 'group'; key: string; projectId: number; groupType: string; groupValue: string }
  | { kind: 'version'; projectId: number; groupType: string; groupValue: string; e: number; n: number }
  | { kind: 'type'; projectId: number; groupType: string }
  | { kind: 'checkpoint'; topic: string; partition: number }
  | { kind: 'dedup'; seq: number; key: string }
  | { kind: 'unknown' };

export const checkpointKey = (topic: string, partition: number): string => JSON.stringify(['$checkpoint', topic, partition]);
export const typeKey = (projectId: number, groupType: string): string => JSON.stringify(['$type', projectId, groupType]);
export const dedupSegmentKey = (firstOffset: number): string => JSON.stringify(['$dedup', firstOffset]);
export const versionKey = (projectId: number, groupType: string, groupValue: string, e: number, n: number): string =>
  JSON.stringify([projectId, groupType, groupValue, e, n]);

/**
 * Parses a changelog key; `[project, x, y]` is a user in the users changelog and a group's legacy state in the groups
 * changelog, `[project, type, value, E, n]` a group version.
 */
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
    if (topic === 'groups' && k.length === 5 && typeof b === 'string' && typeof c === 'string') {
      const [, , , e, n] = k as unknown[];
      if (typeof e !== 'number' || typeof n !== 'number') return { kind: 'unknown' };
      return { kind: 'version', projectId: a, groupType: b, groupValue: c, e, n };
    }
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

/** A legacy group record (read only: new state is written as versions). */
export function decodeLegacyGroup(value: string): LegacyGroupEntry {
  const v = JSON.parse(value) as { v?: unknown; p?: object };
  if (typeof v.v !== 'number') throw new Error('group state without version');
  return { v: v.v, p: JSON.stringify(v.p ?? {}) };
}

export const encodeVersion = (props: string): string => `{"p":${props}}`;
export function decodeVersion(value: string): string {
  const v = JSON.parse(value) as { p?: unknown };
  if (!v.p || typeof v.p !== 'object' || Array.isArray(v.p)) throw new Error('group version without properties');
  return JSON.stringify(v.p);
}

export const encodeGroupCheckpoint = (s: GroupPartitionState): string =>
  JSON.stringify({ next: s.next, wm: s.wm, producers: s.producers, from: s.from });
/** A group-identify partition's checkpoint; one written before watermarks existed reads as watermark 0. */
export function decodeGroupCheckpoint(value: string): GroupPartitionState {
  const next = decodeCheckpoint(value);
  const v = JSON.parse(value) as { wm?: unknown; producers?: unknown; from?: unknown };
  const producers = Array.isArray(v.producers)
    ? (v.producers as unknown[]).filter((x): x is [string, number] => Array.isArray(x) && typeof x[0] === 'string' && typeof x[1] === 'number')
    : [];
  return { next, wm: typeof v.wm === 'number' ? v.wm : 0, producers, from: typeof v.from === 'number' ? v.from : next };
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
