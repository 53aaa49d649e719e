-- Which writer owns each Kafka partition, as ClickHouse sees it. A writer that is assigned a partition writes a
-- fresh random token for it here (the time is the server's, so no writer clocks are compared), waits until no
-- INSERT of that partition that started earlier is still running, and only then reads the offset watermarks. Each
-- INSERT of a partition's rows carries a condition on its writer's token, evaluated once when the statement starts:
-- an evicted writer that has not noticed yet (a zombie) inserts nothing, while one that started before the new
-- owner's token is waited for, so the new owner's watermarks include its rows. The newest row per partition wins
-- (argMax by `at`; merges keep one row per partition).
CREATE TABLE IF NOT EXISTS {db}.writer_fences (
  topic String,
  partition UInt32,
  token String,
  at DateTime64(6, 'UTC') DEFAULT now64(6)
) ENGINE = ReplacingMergeTree(at)
ORDER BY (topic, partition);
