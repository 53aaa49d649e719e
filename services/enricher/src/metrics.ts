// The enricher's Prometheus metrics. Module-level (prom-client's default registry); state sizes are summed over
// the enricher instances of the process when scraped.
import { Counter, Gauge, Histogram } from 'prom-client';

export const recordsIn = new Counter({
  name: 'groupscope_enricher_records_in_total',
  help: 'Input records processed (committed), by source topic kind',
  labelNames: ['source'] as const,
});

export const recordsOut = new Counter({
  name: 'groupscope_enricher_records_out_total',
  help: 'Records published (committed), by output',
  labelNames: ['output'] as const,
});

export const dedupDrops = new Counter({
  name: 'groupscope_enricher_dedup_drops_total',
  help: 'Records dropped as duplicates of an insert_id seen within the de-duplication window',
  labelNames: ['source'] as const,
});

export const limitDrops = new Counter({
  name: 'groupscope_enricher_limit_drops_total',
  help: 'Values not tracked because they exceed a limit (group types, group values per event, group property names, state size)',
  labelNames: ['limit'] as const,
});

export const ignoredOperations = new Counter({
  name: 'groupscope_enricher_ignored_operations_total',
  help: 'Property operations skipped because their value was unusable',
});

export const replaySkipped = new Counter({
  name: 'groupscope_enricher_replay_skipped_total',
  help: 'Input records skipped because the state checkpoint shows they were already processed',
});

export const transactions = new Counter({
  name: 'groupscope_enricher_transactions_total',
  help: 'Kafka transactions by result',
  labelNames: ['result'] as const,
});

export const transactionDuration = new Histogram({
  name: 'groupscope_enricher_transaction_duration_seconds',
  help: 'Time to process and commit one input batch',
  labelNames: ['source'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
});

export const restoreDuration = new Histogram({
  name: 'groupscope_enricher_restore_duration_seconds',
  help: 'Time to take over a partition: fence older producers and restore its state from the changelog',
  labelNames: ['source'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
});

export const consumerLag = new Gauge({
  name: 'groupscope_enricher_consumer_lag',
  help: 'Records between the last processed batch and the partition end, per input partition',
  labelNames: ['topic', 'partition'] as const,
});

export interface StateSizes {
  users: number;
  groups: number;
  dedup: number;
  partitions: number;
}

const sources = new Set<() => StateSizes>();

/** Registers an instance's state sizes for the gauge; returns the unregister function. */
export function reportStateSizes(fn: () => StateSizes): () => void {
  sources.add(fn);
  return () => sources.delete(fn);
}

export const stateEntries = new Gauge({
  name: 'groupscope_enricher_state_entries',
  help: 'Entries held in memory: users (owned partitions), groups (all), dedup keys (owned partitions), owned partitions',
  labelNames: ['state'] as const,
  collect() {
    const total: StateSizes = { users: 0, groups: 0, dedup: 0, partitions: 0 };
    for (const fn of sources) {
      const s = fn();
      total.users += s.users;
      total.groups += s.groups;
      total.dedup += s.dedup;
      total.partitions += s.partitions;
    }
    for (const [k, v] of Object.entries(total)) this.set({ state: k }, v);
  },
});

export const stampWait = new Histogram({
  name: 'groupscope_enricher_stamp_wait_seconds',
  help: 'Time an ingest batch waited for the group watermark to reach its next record (receive-order stamping)',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
});

export const stampWaitTimeouts = new Counter({
  name: 'groupscope_enricher_stamp_wait_timeouts_total',
  help: 'Events stamped before the group watermark reached them because it stopped moving (no gateway marks): these may stamp differently on a replay',
});

export const stampHistoryMisses = new Counter({
  name: 'groupscope_enricher_stamp_history_misses_total',
  help: 'Group snapshots of events older than the group history kept (stamped with the oldest kept version)',
});

export const queuedIdentifies = new Gauge({
  name: 'groupscope_enricher_queued_group_identifies',
  help: 'Group identifies received but not applied yet, waiting for their partition watermark, per group-identify partition',
  labelNames: ['partition'] as const,
});
