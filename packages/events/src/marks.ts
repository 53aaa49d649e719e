// Watermark marks: a gateway's promise, on one partition of the group-identify topic, that it will append nothing
// there with a receive position at or below `pos` (a `leave` mark: nothing at all any more). Gateways send one to
// every partition periodically, through the same producer and queue as their records, so partition order makes the
// promise true. A header tells marks from records; only the enricher reads this topic.
import type { RecordMessage } from './messages';

export const MARK_HEADER = 'gs-mark';

export interface Mark {
  producer_id: string;
  pos: number;
  /** the producer stopped (graceful shutdown): it is no longer waited for */
  leave: boolean;
}

export interface MarkMessage extends RecordMessage {
  partition: number;
}

const headers = { [MARK_HEADER]: '1' };

/** The message of a mark for one partition (keyed by producer, sent to that partition explicitly). */
export function markMessage(mark: Mark, partition: number): MarkMessage {
  return { key: mark.producer_id, value: Buffer.from(JSON.stringify(mark)), headers, partition };
}

/** Whether a consumed message is a mark (by its header). */
export function isMark(h: Record<string, unknown> | undefined): boolean {
  return h !== undefined && h[MARK_HEADER] !== undefined;
}

/** Decodes a mark's value; throws on anything that is not a well-formed mark. */
export function decodeMark(value: Buffer | null): Mark {
  if (!value) throw new Error('mark without value');
  const m = JSON.parse(value.toString('utf8')) as Partial<Mark>;
  if (typeof m.producer_id !== 'string' || m.producer_id === '') throw new Error('mark without producer_id');
  if (typeof m.pos !== 'number' || !Number.isSafeInteger(m.pos) || m.pos <= 0) throw new Error('mark without a positive pos');
  return { producer_id: m.producer_id, pos: m.pos, leave: m.leave === true };
}
