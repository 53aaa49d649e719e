// Metrics of the Segment routes beside the gateway's own (requests, rejects and records carry the route's
// endpoint label, e.g. segment_batch); dead letters are also counted in groupscope_dead_letters_total.
import { Counter } from 'prom-client';

export const segmentMessages = new Counter({
  name: 'groupscope_gateway_segment_messages_total',
  help: 'Segment messages acknowledged by Kafka, by message type and outcome (stored, dead_lettered)',
  labelNames: ['type', 'outcome'] as const,
});
