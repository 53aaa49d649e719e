// First stage: a Kafka record becomes its rows (the schema's mapping), or a dead letter naming why it has none.
// An undecodable record is `decode_error`; one ClickHouse would refuse (bad UUID, time out of range, properties
// that are not a JSON object) is `invalid_record`. The letter carries the record unchanged.
import { codecs } from '@groupscope/events';
import type { DeadLetter, KafkaMessage } from '@groupscope/kafka';
import { changeRows, eventRows, type ChangeRows, type Row } from '@groupscope/schema';

/** What a topic carries: enriched events or group changes. */
export type Source = 'events' | 'changes';

export type Decoded = { kind: 'event'; row: Row } | { kind: 'change'; rows: ChangeRows } | { kind: 'dead'; letter: DeadLetter };

export function decode(source: Source, topic: string, partition: number, msg: KafkaMessage, offset: number): Decoded {
  const dead = (reason: string, error: string): Decoded => ({
    kind: 'dead',
    letter: { reason, error, stage: 'writer', source: { topic, partition, offset: String(offset) }, key: msg.key, value: msg.value, headers: msg.headers },
  });
  if (!msg.value) return dead('invalid_record', 'empty record value');
  if (source === 'events') {
    let e;
    try {
      e = codecs.enriched.decode(msg.value, msg.headers);
    } catch (err) {
      return dead('decode_error', (err as Error).message);
    }
    const out = eventRows(e, partition, offset);
    return out.kind === 'ok' ? { kind: 'event', row: out.value } : dead('invalid_record', out.error);
  }
  let c;
  try {
    c = codecs.groupChange.decode(msg.value, msg.headers);
  } catch (err) {
    return dead('decode_error', (err as Error).message);
  }
  const out = changeRows(c, partition, offset);
  return out.kind === 'ok' ? { kind: 'change', rows: out.value } : dead('invalid_record', out.error);
}
