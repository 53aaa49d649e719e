// Versions of rows in tables where the newest version of a key wins (cohorts, cohort memberships, dynamic
// properties): they grow with the clock (microseconds) and never repeat within a process; the random low digits
// keep two replicas from colliding. Stays below 2^53.
let lastVersion = 0;

export function nextVersion(now = Date.now()): number {
  const v = Math.max(now * 1000 + Math.floor(Math.random() * 1000), lastVersion + 1);
  lastVersion = v;
  return v;
}
