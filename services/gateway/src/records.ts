// From normalized events to records (IngestRecord / GroupIdentifyRecord) and their Kafka messages, built by
// @groupscope/events' recordMessage: keyed so one user's events and identifies share a partition.
import { recordMessage, SlabEncoder, type GroupIdentifyRecord, type IngestRecord, type RecordMessage } from '@groupscope/events';
import type { Positions } from './positions';
import type { EventErrors, NormalizedEvent, NormalizedGroupIdentify } from './validate';

export type TopicRole = 'ingest' | 'groupIdentify' | 'dlq';

export interface OutMessage extends RecordMessage {
  role: TopicRole;
  /** an explicit partition (marks); otherwise the key's hash chooses */
  partition?: number;
}

export interface RecordContext {
  projectId: number;
  receiveTime: number;
  /** the receive position of the next record (call once per record, in request order) */
  position: Positions;
  uuid(): string;
  /** an encoded record larger than this is rejected (Kafka refuses messages over its max.message.bytes) */
  maxRecordBytes: number;
}

/** Approximate bytes a message occupies in a produce request (value, key, headers, record overhead). */
export function messageBytes(m: OutMessage): number {
  return m.value.length + Buffer.byteLength(m.key) + 64;
}

/**
 * An event's revenue as Amplitude computes it: `revenue` when sent, else `price * quantity` (quantity 1 when absent),
 * else none. Set here, on the record, so Kafka, storage and every chart see the same number.
 */
export function revenueOf(e: Pick<NormalizedEvent, 'revenue' | 'price' | 'quantity'>): number | null {
  if (e.revenue !== null) return e.revenue;
  if (e.price === null) return null;
  const revenue = e.price * (e.quantity ?? 1);
  return Number.isFinite(revenue) ? revenue : null;
}

export function ingestRecord(e: NormalizedEvent, kind: IngestRecord['kind'], ctx: RecordContext): IngestRecord {
  return {
    kind,
    project_id: ctx.projectId,
    uuid: ctx.uuid(),
    receive_time: ctx.receiveTime,
    event_time: e.time ?? ctx.receiveTime,
    event_type: e.event_type,
    user_id: e.user_id,
    device_id: e.device_id,
    insert_id: e.insert_id,
    session_id: e.session_id,
    event_id: e.event_id,
    event_properties: e.event_properties,
    user_properties: e.user_properties,
    groups: e.groups,
    context: e.context,
    revenue: revenueOf(e),
    price: e.price,
    quantity: e.quantity,
    location_lat: e.location_lat,
    location_lng: e.location_lng,
    extra: e.extra,
    receive_pos: ctx.position.next(),
    producer_id: ctx.position.producerId,
  };
}

/** A $groupidentify event names one or more groups: one record per (group_type, group_value). */
export function groupRecordsOfEvent(e: NormalizedEvent, ctx: RecordContext): GroupIdentifyRecord[] {
  const out: GroupIdentifyRecord[] = [];
  for (const [groupType, values] of Object.entries(e.groups)) {
    for (const groupValue of values) {
      out.push({
        project_id: ctx.projectId,
        uuid: ctx.uuid(),
        receive_time: ctx.receiveTime,
        event_time: e.time ?? ctx.receiveTime,
        group_type: groupType,
        group_value: groupValue,
        group_properties: e.group_properties,
        source: 'api',
        user_id: e.user_id,
        device_id: e.device_id,
        insert_id: e.insert_id,
        receive_pos: ctx.position.next(),
        producer_id: ctx.position.producerId,
      });
    }
  }
  return out;
}

export function groupRecord(g: NormalizedGroupIdentify, ctx: RecordContext): GroupIdentifyRecord {
  return {
    project_id: ctx.projectId,
    uuid: ctx.uuid(),
    receive_time: ctx.receiveTime,
    event_time: g.time ?? ctx.receiveTime,
    group_type: g.group_type,
    group_value: g.group_value,
    group_properties: g.group_properties,
    source: 'api',
    user_id: g.user_id,
    device_id: g.device_id,
    insert_id: g.insert_id,
    receive_pos: ctx.position.next(),
    producer_id: ctx.position.producerId,
  };
}

/** A request's records are encoded into shared slabs (one allocation per ~64 KB, see SlabEncoder). */
export function encodeIngest(r: IngestRecord, slab: SlabEncoder): OutMessage {
  return { role: 'ingest', ...recordMessage.ingest(r, slab) };
}

export function encodeGroup(r: GroupIdentifyRecord, slab: SlabEncoder): OutMessage {
  return { role: 'groupIdentify', ...recordMessage.groupIdentify(r, slab) };
}

export interface EventMessages {
  messages: OutMessage[];
  /** counts per record kind, for metrics */
  kinds: { event: number; identify: number; group_identify: number };
}

/**
 * Encodes the events of a valid /2/httpapi, /batch or /identify request. An event whose record cannot be encoded or
 * is too large is reported under `event` (nothing of the request is sent then).
 */
export function eventMessages(events: NormalizedEvent[], ctx: RecordContext, errors: EventErrors, identifyOnly = false): EventMessages {
  const messages: OutMessage[] = [];
  const slab = new SlabEncoder();
  const kinds = { event: 0, identify: 0, group_identify: 0 };
  for (const e of events) {
    try {
      if (!identifyOnly && e.event_type === '$groupidentify') {
        const recs = groupRecordsOfEvent(e, ctx);
        if (recs.length === 0) {
          errors.missingField('groups', e.index);
          continue;
        }
        for (const r of recs) push(encodeGroup(r, slab), e.index);
        kinds.group_identify += recs.length;
      } else {
        const kind = identifyOnly || e.event_type === '$identify' ? 'identify' : 'event';
        push(encodeIngest(ingestRecord(e, kind, ctx), slab), e.index);
        kinds[kind]++;
      }
    } catch {
      errors.invalidField('event', e.index);
    }
  }
  return { messages, kinds };

  function push(m: OutMessage, index: number) {
    if (m.value.length > ctx.maxRecordBytes) errors.invalidField('event', index);
    else messages.push(m);
  }
}

export function groupIdentifyMessages(items: NormalizedGroupIdentify[], ctx: RecordContext, errors: EventErrors): OutMessage[] {
  const out: OutMessage[] = [];
  const slab = new SlabEncoder();
  for (const g of items) {
    try {
      const m = encodeGroup(groupRecord(g, ctx), slab);
      if (m.value.length > ctx.maxRecordBytes) errors.invalidField('identification', g.index);
      else out.push(m);
    } catch {
      errors.invalidField('identification', g.index);
    }
  }
  return out;
}
