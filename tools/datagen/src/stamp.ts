// What the enricher and writer would make of generated records, for loading a data set straight into ClickHouse
// (benchmarks, large volumes): user-level groups and properties kept per user, current group properties per
// group, and rows in the writer's mapping. Events are encoded once as JSONCompactEachRow lines of a staging table
// (with their event_groups rows inside, as the writer does), then ClickHouse fills `events` and `event_groups`.
import { randomUUID } from 'node:crypto';
import type { GenRecord, Props } from './model';

type Bag = Record<string, string>;

function bag(p: Props): Bag {
  const out: Bag = {};
  for (const k in p) {
    const v = p[k]!;
    out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

/** Columns of the staging table, in line order. */
export const STAGE_STRUCTURE =
  'project_id UInt32, event_time DateTime64(3), event_type String, uuid UUID, user_id String, insert_id String, ' +
  'event_properties Map(String, String), user_properties Map(String, String), groups Map(String, Array(String)), ' +
  'group_properties String, context Map(String, String), kafka_offset UInt64, ' +
  'group_rows Array(Tuple(String, String, Map(String, String)))';

interface GroupState {
  props: Props;
  bag: Bag;
  /** JSON text of props (stamped in events.group_properties) and of the bag (event_groups.group_properties) */
  json: string;
  bagJson: string;
}

interface UserState {
  props: Bag;
  groups: Record<string, string[]>;
  propsJson: string;
  /** the encoded user-level groups, valid while `version` is the stamper's group version */
  cache?: { version: number; groupsJson: string; stamped: string; rows: string };
}

/** Encoded groups of an event: the `groups` map, the stamped JSON and the group_rows array, without brackets. */
interface Encoded {
  groupsJson: string;
  stamped: string;
  rows: string;
}

/**
 * Staging-table lines, one per event, joined every few thousand into one flat string: a long-lived array of
 * concatenated strings keeps millions of small string pieces alive for the garbage collector to mark (and Buffers
 * would count as external memory, which triggers full collections).
 */
export class Lines {
  private pending: string[] = [];
  readonly chunks: string[] = [];
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
  lines: Lines;
  groups: Record<string, unknown>[];
  history: Record<string, unknown>[];
}

export const emptyBatch = (): Batch => ({ lines: new Lines(), groups: [], history: [] });

const chTime = (ms: number) => new Date(ms).toISOString().slice(0, 23).replace('T', ' ');
const CONTEXT = JSON.stringify({ platform: 'Web' });

export class Stamper {
  private readonly users = new Map<string, UserState>();
  private readonly groupState = new Map<string, GroupState>();
  private offset = 0;

  constructor(private readonly projectId: number) {}

  private group(type: string, value: string): GroupState {
    const key = `${type}\u0000${value}`;
    let g = this.groupState.get(key);
    if (!g) {
      g = { props: {}, bag: {}, json: '{}', bagJson: '{}' };
      this.groupState.set(key, g);
    }
    return g;
  }

  /** bumped on every group change: cached encodings of older versions are rebuilt */
  private version = 0;

  private encode(groups: Record<string, string[]>): Encoded {
    let stamped = '';
    let rows = '';
    for (const type in groups) {
      const t = JSON.stringify(type);
      const values = groups[type]!;
      let inner = '';
      for (let i = 0; i < values.length; i++) {
        const v = JSON.stringify(values[i]);
        const g = this.group(type, values[i]!);
        inner += `${i > 0 ? ',' : ''}${v}:${g.json}`;
        rows += `${rows ? ',' : ''}[${t},${v},${g.bagJson}]`;
      }
      stamped += `${stamped ? ',' : ''}${t}:{${inner}}`;
    }
    return { groupsJson: JSON.stringify(groups).slice(1, -1), stamped, rows };
  }

  private userEncoded(user: UserState | undefined): Encoded {
    if (!user) return { groupsJson: '', stamped: '', rows: '' };
    if (!user.cache || user.cache.version !== this.version) user.cache = { version: this.version, ...this.encode(user.groups) };
    return user.cache;
  }

  /** Applies a record; events and group changes add to `out`. */
  add(rec: GenRecord, out: Batch): void {
    if (rec.kind === 'identify') {
      const u = this.users.get(rec.userId) ?? { props: {}, groups: {}, propsJson: '{}' };
      Object.assign(u.props, bag(rec.userProperties));
      Object.assign(u.groups, rec.groups);
      u.propsJson = JSON.stringify(u.props);
      u.cache = undefined;
      this.users.set(rec.userId, u);
      return;
    }
    const offset = this.offset++;
    if (rec.kind === 'group') {
      const g = this.group(rec.groupType, rec.groupValue);
      g.props = { ...g.props, ...rec.properties };
      g.bag = bag(g.props);
      g.json = JSON.stringify(g.props);
      g.bagJson = JSON.stringify(g.bag);
      this.version++;
      const time = chTime(rec.time);
      out.groups.push({
        project_id: this.projectId, group_type: rec.groupType, group_value: rec.groupValue, properties: g.bag, properties_json: g.json,
        updated_at: time, first_identified: time, kafka_partition: 0, kafka_offset: offset,
      });
      for (const [property, value] of Object.entries(bag(rec.properties))) {
        out.history.push({
          project_id: this.projectId, group_type: rec.groupType, property, value, group_value: rec.groupValue, event_time: time,
          receive_time: time, kafka_partition: 0, kafka_offset: offset,
        });
      }
      return;
    }
    const user = this.users.get(rec.userId);
    let enc = this.userEncoded(user);
    if (rec.groups) {
      // event-level groups win over the user's own for the same type
      const overlap = user && Object.keys(rec.groups).some((t) => t in user.groups);
      const own = this.encode(rec.groups);
      enc = overlap
        ? this.encode({ ...user!.groups, ...rec.groups })
        : {
            groupsJson: [enc.groupsJson, own.groupsJson].filter(Boolean).join(','),
            stamped: [enc.stamped, own.stamped].filter(Boolean).join(','),
            rows: [enc.rows, own.rows].filter(Boolean).join(','),
          };
    }
    out.lines.push(
      `[${this.projectId},${rec.time},${JSON.stringify(rec.eventType)},"${randomUUID()}",${JSON.stringify(rec.userId)},${JSON.stringify(rec.insertId)},` +
        `${JSON.stringify(bag(rec.eventProperties))},${user?.propsJson ?? '{}'},{${enc.groupsJson}},${JSON.stringify(`{${enc.stamped}}`)},${CONTEXT},${offset},[${enc.rows}]]\n`,
    );
  }
}
