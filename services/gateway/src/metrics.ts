// The gateway's Prometheus metrics (registered once per process in prom-client's default registry).
import { Counter, Gauge, Histogram } from 'prom-client';

export const requests = new Counter({
  name: 'groupscope_gateway_requests_total',
  help: 'Ingestion requests by endpoint and reply code',
  labelNames: ['endpoint', 'code'] as const,
});

export const accepted = new Counter({
  name: 'groupscope_gateway_records_accepted_total',
  help: 'Records acknowledged by Kafka, by endpoint and kind (event, identify, group_identify)',
  labelNames: ['endpoint', 'kind'] as const,
});

export const rejects = new Counter({
  name: 'groupscope_gateway_rejects_total',
  help: 'Rejected requests by endpoint and reason',
  labelNames: ['endpoint', 'reason'] as const,
});

export const truncatedGroups = new Counter({
  name: 'groupscope_gateway_group_values_truncated_total',
  help: 'Group types whose value list exceeded 10 values and was cut to the first 10',
  labelNames: ['endpoint'] as const,
});

export const sendDuration = new Histogram({
  name: 'groupscope_gateway_kafka_send_duration_seconds',
  help: 'Duration of one producer send (acks=all), by outcome',
  labelNames: ['outcome'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
});

export const sendMessages = new Histogram({
  name: 'groupscope_gateway_kafka_send_messages',
  help: 'Messages per producer send',
  buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
});

export const sendTimeouts = new Counter({
  name: 'groupscope_gateway_kafka_timeouts_total',
  help: 'Requests answered 503 because Kafka did not acknowledge in time (or back-pressure)',
  labelNames: ['reason'] as const,
});

export const pendingBytes = new Gauge({
  name: 'groupscope_gateway_pending_bytes',
  help: 'Bytes of records queued for or inside unacknowledged producer sends',
});

export const marks = new Counter({
  name: 'groupscope_gateway_marks_total',
  help: 'Watermark marks sent to every group-identify partition (kind: mark, leave), by outcome',
  labelNames: ['kind', 'outcome'] as const,
});
