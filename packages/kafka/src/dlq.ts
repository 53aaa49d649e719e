// Dead letters: a record that cannot be processed is published, unchanged, to the DLQ topic with headers naming
// why and where it came from; a metric counts it. Only bad data goes here; infrastructure failures retry instead.
import { Counter } from 'prom-client';
import type { Sender } from './producer';
import type { Headers, Message } from './types';

export const deadLetters = new Counter({
  name: 'groupscope_dead_letters_total',
  help: 'Records sent to the dead-letter topic, by stage and reason',
  labelNames: ['stage', 'reason'] as const,
});

export interface DeadLetter {
  /** a short stable code, e.g. "decode_error", "invalid_record" */
  reason: string;
  /** human-readable detail */
  error: string;
  stage: string;
  source: { topic: string; partition: number; offset: string };
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Headers;
}

export function deadLetterMessage(d: DeadLetter): Message & { headers: Headers } {
  return {
    key: d.key,
    value: d.value,
    headers: {
      ...(d.headers ?? {}),
      'dlq-reason': d.reason,
      'dlq-error': d.error.slice(0, 2000),
      'dlq-stage': d.stage,
      'dlq-source-topic': d.source.topic,
      'dlq-source-partition': String(d.source.partition),
      'dlq-source-offset': d.source.offset,
      'dlq-time': String(Date.now()),
    },
  };
}

/** Publishes dead letters through a producer or inside a transaction; counts them. */
export async function sendDeadLetters(sender: Sender, topic: string, letters: DeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  await sender.send({ topic, acks: -1, messages: letters.map(deadLetterMessage) });
  for (const d of letters) deadLetters.inc({ stage: d.stage, reason: d.reason });
}
