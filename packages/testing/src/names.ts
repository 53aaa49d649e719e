import { randomBytes } from 'node:crypto';

/** A name no other test (file, process or run) uses: for topics, consumer groups, databases. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}
