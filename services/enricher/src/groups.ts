// Group rules (pure): normalising `groups` maps, user-level overwrite, event-level precedence, and the limits
// (group types per project, group values per event).
import type { GroupsMap } from '@groupscope/events';

/** Drops empty type names and empty values, de-duplicates values, drops types left without a value. */
export function normalizeGroups(raw: GroupsMap | null | undefined): GroupsMap {
  const out: GroupsMap = {};
  if (!raw) return out;
  for (const [type, values] of Object.entries(raw)) {
    if (type === '' || !Array.isArray(values)) continue;
    const seen = new Set<string>();
    for (const v of values) {
      const s = String(v);
      if (s !== '') seen.add(s);
    }
    if (seen.size > 0) out[type] = [...seen];
  }
  return out;
}

/**
 * A user's user-level groups after an identify: each type the identify names is overwritten with its values;
 * the other types stay. A type cannot be removed (an empty list was already dropped by normalizeGroups).
 */
export function mergeUserGroups(current: GroupsMap, incoming: GroupsMap): GroupsMap {
  return { ...current, ...incoming };
}

/** An event's effective groups: the user's user-level groups, with the event's own values winning per type. */
export function effectiveGroups(userLevel: GroupsMap, eventLevel: GroupsMap): GroupsMap {
  return { ...userLevel, ...eventLevel };
}

export function countValues(groups: GroupsMap): number {
  let n = 0;
  for (const values of Object.values(groups)) n += values.length;
  return n;
}

/** Keeps the first `max` values, types in order; returns how many were left out. */
export function limitValues(groups: GroupsMap, max: number): { groups: GroupsMap; dropped: number } {
  const total = countValues(groups);
  if (total <= max) return { groups, dropped: 0 };
  const out: GroupsMap = {};
  let room = max;
  for (const [type, values] of Object.entries(groups)) {
    if (room <= 0) break;
    const kept = values.slice(0, room);
    out[type] = kept;
    room -= kept.length;
  }
  return { groups: out, dropped: total - max };
}

/** What the type limit needs to know about a project's group types (committed state plus the batch in progress). */
export interface GroupTypeRegistry {
  hasType(projectId: number, type: string): boolean;
  typeCount(projectId: number): number;
}

/**
 * Keeps the types already tracked for the project, admits new ones while the project has fewer than
 * `maxTypes`, and leaves out the rest. `newTypes` are the admitted types the registry did not know yet.
 */
export function admitTypes(
  projectId: number,
  groups: GroupsMap,
  registry: GroupTypeRegistry,
  maxTypes: number,
): { groups: GroupsMap; newTypes: string[]; droppedTypes: string[] } {
  const out: GroupsMap = {};
  const newTypes: string[] = [];
  const droppedTypes: string[] = [];
  let count = registry.typeCount(projectId);
  for (const [type, values] of Object.entries(groups)) {
    if (registry.hasType(projectId, type)) {
      out[type] = values;
    } else if (count < maxTypes) {
      out[type] = values;
      newTypes.push(type);
      count++;
    } else {
      droppedTypes.push(type);
    }
  }
  return { groups: out, newTypes, droppedTypes };
}
