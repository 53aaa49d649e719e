-- The writer's idempotency check reads max(kafka_offset) per Kafka partition (and month, for tables partitioned
-- by month) when partitions are assigned and after a failed insert. These aggregate projections answer it from a
-- few rows per part instead of scanning two columns of the whole table. A projection lives inside each data part,
-- so it is written in the same atomic step as the rows it summarises. Parts written before this migration are
-- summarised by the MATERIALIZE mutations (until they finish, the same query reads those parts directly).
ALTER TABLE {db}.events ADD PROJECTION IF NOT EXISTS writer_offsets
  (SELECT kafka_partition, toYYYYMM(event_time), max(kafka_offset) GROUP BY kafka_partition, toYYYYMM(event_time));

ALTER TABLE {db}.events MATERIALIZE PROJECTION writer_offsets;

ALTER TABLE {db}.event_groups ADD PROJECTION IF NOT EXISTS writer_offsets
  (SELECT kafka_partition, toYYYYMM(event_time), max(kafka_offset) GROUP BY kafka_partition, toYYYYMM(event_time));

ALTER TABLE {db}.event_groups MATERIALIZE PROJECTION writer_offsets;

ALTER TABLE {db}.group_property_history ADD PROJECTION IF NOT EXISTS writer_offsets
  (SELECT kafka_partition, max(kafka_offset) GROUP BY kafka_partition);

ALTER TABLE {db}.group_property_history MATERIALIZE PROJECTION writer_offsets;
