// First stage: a Kafka record becomes its rows (the schema's mapping), or a dead letter naming why it has none.
// An undecodable record is `decode_error`; one ClickHouse would refuse (bad UUID, time out of range, properties
// that are not a JSON object) is `invalid_record`. The letter carries the record unchanged.
import { codecs, type Codec } from '@groupscope/events';
import type { DeadLetter, KafkaMessage } from '@groupscope/kafka';
import { changeRows, eventRows, type ChangeRows, type Row } from '@groupscope/schema';

/** What a topic carries: enriched events or group changes. */
export type Source = 'events' | 'changes';

export type Decoded = { kind: 'event'; row: Row } | { kind: 'change'; rows: ChangeRows } | { kind: 'dead'; letter: DeadLetter };

/** The record, or why it cannot be decoded. */
function tryDecode<T>(codec: Codec<T>, msg: KafkaMessage & { value: Buffer }): [T, null] | [null, string] {
  try {
    return [codec.decode(msg.value, msg.headers), null];
  } catch (err) {
    return [null, (err as Error).message];
  }
}

export function decode(source: Source, topic: string, partition: number, msg: KafkaMessage, offset: number): Decoded {
  const dead = (reason: string, error: string): Decoded => ({
    kind: 'dead',
    letter: { reason, error, stage: 'writer', source: { topic, partition, offset: String(offset) }, key: msg.key, value: msg.value, headers: msg.headers },
  });
  if (!msg.value) return dead('invalid_record', 'empty record value');
  const record = msg as KafkaMessage & { value: Buffer };
  if (source === 'events') {
    const [e, error] = tryDecode(codecs.enriched, record);
    if (!e) return dead('decode_error', error);
    const out = eventRows(e, partition, offset);
    return out.kind === 'ok' ? { kind: 'event', row: out.value } : dead('invalid_record', out.error);
  }
  const [c, error] = tryDecode(codecs.groupChange, record);
  if (!c) return dead('decode_error', error);
  const out = changeRows(c, partition, offset);
  return out.kind === 'ok' ? { kind: 'change', rows: out.value } : dead('invalid_record', out.error);
}
