// A group's property versions (pure). Each visible change of a group's properties is a version at the effective
// position E of the group identify that made it; an event at position P carries the newest version with E < P.
// Versions are kept while they are within the history horizon behind the watermark, plus the newest older one (the
// state at the horizon), so every event not older than the horizon finds exactly its version.

export interface GroupVersion {
  /** effective position (0: before every position, e.g. state from before positions existed) */
  e: number;
  /** the group's version number: 1 for its first version, one more for each next one */
  n: number;
  /** properties (JSON object text) */
  p: string;
}

export interface VersionLookup {
  p: string;
  /**
   * false when the versions this position needed were pruned (the event is older than the history horizon): the
   * oldest kept version is used instead
   */
  exact: boolean;
}

const NONE: VersionLookup = { p: '{}', exact: true };

/** Orders versions by effective position, then by version number (the order they were applied in). */
export const compareVersions = (a: GroupVersion, b: GroupVersion): number => a.e - b.e || a.n - b.n;

/**
 * The properties an event at `pos` sees: the newest version with E < pos; `pos` <= 0 (an unordered event) sees the
 * newest version. `versions` are sorted by compareVersions.
 */
export function versionAt(versions: readonly GroupVersion[] | undefined, pos: number): VersionLookup {
  if (!versions || versions.length === 0) return NONE;
  const newest = versions[versions.length - 1]!;
  if (pos <= 0 || newest.e < pos) return { p: newest.p, exact: true };
  for (let i = versions.length - 2; i >= 0; i--) {
    const v = versions[i]!;
    if (v.e < pos) return { p: v.p, exact: true };
  }
  // before the oldest kept version: the group had no properties yet, unless older versions were pruned
  const oldest = versions[0]!;
  return oldest.n > 1 ? { p: oldest.p, exact: false } : NONE;
}

export interface PruneLimits {
  /** versions whose E is at or below this are dropped, except the newest of them */
  horizon: number;
  /** most versions kept per group (the oldest go first; the newest is always kept) */
  maxVersions: number;
  /** most bytes of properties kept per group over its versions (the oldest go first; the newest is always kept) */
  maxBytes: number;
}

/** The versions to drop from a sorted list (a prefix of it). */
export function prunable(versions: readonly GroupVersion[], limits: PruneLimits): GroupVersion[] {
  const n = versions.length;
  if (n <= 1) return [];
  // the newest version at or below the horizon stays: it is the state during the horizon
  let keepFrom = 0;
  for (let i = n - 1; i >= 0; i--) {
    if (versions[i]!.e <= limits.horizon) {
      keepFrom = i;
      break;
    }
  }
  keepFrom = Math.max(keepFrom, n - limits.maxVersions);
  let bytes = 0;
  for (let i = keepFrom; i < n; i++) bytes += versions[i]!.p.length;
  while (keepFrom < n - 1 && bytes > limits.maxBytes) bytes -= versions[keepFrom++]!.p.length;
  return versions.slice(0, keepFrom);
}
