// What the enricher and writer would make of generated records, for loading a data set straight into ClickHouse
// (benchmarks, large volumes): user-level groups and properties kept per user, current group properties per group
// stamped on each event, and the rows encoded by the writer's own mapping (@groupscope/schema) as the lines its
// INSERTs take: one line per event (its event_groups rows inside), a `groups` line and history lines per change.
import { randomUUID } from 'node:crypto';
import type { EnrichedEvent, GroupChange } from '@groupscope/events';
import { changeRows, eventRows, groupLine, type Outcome } from '@groupscope/schema';
import type { GenRecord, Props } from './model';
import { ingestRecord } from './records';

interface GroupState {
  props: Props;
  /** the properties as JSON (what the enricher stamps on events) */
  json: string;
  /** when the group was first identified */
  first: number;
}

interface UserState {
  props: Props;
  json: string;
  groups: Record<string, string[]>;
}

/**
 * Lines, one per row, joined every few hundred into one flat string: a long-lived array of many small strings
 * keeps them all alive for the garbage collector to mark (and Buffers would count as external memory, which
 * triggers full collections).
 */
export class Lines {
  private pending: string[] = [];
  private readonly chunks: string[] = [];
  count = 0;

  push(line: string): void {
    this.pending.push(line);
    this.count++;
    if (this.pending.length >= 256) this.pack();
  }

  private pack(): void {
    if (this.pending.length === 0) return;
    this.chunks.push(this.pending.join(''));
    this.pending = [];
  }

  /** Every line, in chunks of text. */
  body(): string[] {
    this.pack();
    return this.chunks;
  }
}

export interface Batch {
  /** event lines: `events` and `event_groups` (insertEventLines) */
  events: Lines;
  /** `groups` lines */
  groups: Lines;
  /** `group_property_history` lines */
  history: Lines;
}

export const emptyBatch = (): Batch => ({ events: new Lines(), groups: new Lines(), history: new Lines() });

function valid<T>(out: Outcome<T>): T {
  if (out.kind !== 'ok') throw new Error(`generated a record the writer would refuse: ${out.error}`);
  return out.value;
}

export class Stamper {
  private readonly users = new Map<string, UserState>();
  private readonly groupState = new Map<string, GroupState>();
  private offset = 0;

  constructor(private readonly projectId: number) {}

  private group(type: string, value: string): GroupState | undefined {
    return this.groupState.get(`${type}\u0000${value}`);
  }

  /** Applies a record; events and group changes add their lines to `out`. */
  add(rec: GenRecord, out: Batch): void {
    if (rec.kind === 'identify') {
      const u = this.users.get(rec.userId) ?? { props: {}, json: '{}', groups: {} };
      Object.assign(u.props, rec.userProperties);
      Object.assign(u.groups, rec.groups);
      u.json = JSON.stringify(u.props);
      this.users.set(rec.userId, u);
      return;
    }
    const offset = this.offset++;
    if (rec.kind === 'group') {
      const key = `${rec.groupType}\u0000${rec.groupValue}`;
      const g = this.groupState.get(key) ?? { props: {}, json: '{}', first: rec.time };
      // the earliest time the group was seen, as the writer computes it (a change may carry an earlier time)
      g.first = Math.min(g.first, rec.time);
      g.props = { ...g.props, ...rec.properties };
      g.json = JSON.stringify(g.props);
      this.groupState.set(key, g);
      const change: GroupChange = {
        project_id: this.projectId,
        group_type: rec.groupType,
        group_value: rec.groupValue,
        event_time: rec.time,
        receive_time: rec.time,
        properties: g.json,
        changed: Object.keys(rec.properties),
        removed: [],
        source_uuid: randomUUID(),
      };
      const rows = valid(changeRows(change, 0, offset));
      out.groups.push(groupLine(rows.group, g.first));
      for (const h of rows.history) out.history.push(h.line);
      return;
    }
    const user = this.users.get(rec.userId);
    // event-level groups win over the user's own for the same type
    const groups = rec.groups ? { ...user?.groups, ...rec.groups } : (user?.groups ?? {});
    const groupProperties: EnrichedEvent['group_properties'] = [];
    for (const type in groups) {
      for (const value of groups[type]!) {
        const g = this.group(type, value);
        if (g) groupProperties.push({ group_type: type, group_value: value, properties: g.json });
      }
    }
    // the record the gateway would publish, received as it happened, with what the enricher adds
    const { kind: _kind, ...ingested } = ingestRecord(rec, this.projectId, rec.time);
    const event: EnrichedEvent = { ...ingested, user_properties: user?.json ?? '{}', groups, group_properties: groupProperties };
    out.events.push(valid(eventRows(event, 0, offset)).line);
  }
}
