// The enricher: consumes ingest and group-identify records in one consumer group, keeps user and group state in
// Kafka changelogs, and publishes enriched events and group changes with exactly-once transactions.
import { topicNames, topicSpecs } from '@groupscope/events';
import { createApp, listen } from '@groupscope/http';
import {
  ChangelogTail, ConsumerProgress, createAdmin, createKafka, ensureTopics, partitionCount, reportStalls, retryTransient, runBatchConsumer, type Assignment, type RunningConsumer,
} from '@groupscope/kafka';
import type { Logger } from '@groupscope/logger';
import { changelogText } from './changelog';
import type { EnricherConfig } from './config';
import { DEFAULT_LIMITS, type Limits } from './enrich';
import { consumerLag, reportStateSizes } from './metrics';
import { DEFAULT_STAMP, GroupIdentifyWorker, IngestWorker, type PartitionWorker, type StampSettings, type WorkerContext } from './partition-workers';
import { GroupStore, applyGroupsChangelogRecord } from './state';

export * from './config';
// the state structures, for measuring their memory footprint (bench)
export { GroupStore, DedupWindow, type UserStore } from './state';
export { dedupHash } from './enrich';

export interface EnricherDeps {
  config: EnricherConfig;
  logger: Logger;
  /** called when the consumer stops for good (kafkajs gave up); main.ts exits so the process is restarted */
  onFatal?(err: Error): void;
}

export interface RunningEnricher {
  url: string;
  /** input partitions this instance currently works on ("topic:partition") */
  partitions(): string[];
  stop(): Promise<void>;
}

export async function startEnricher(deps: EnricherDeps): Promise<RunningEnricher> {
  const { config, logger } = deps;
  const log = logger.child({ module: 'enricher' });
  const groupId = config.ENRICHER_GROUP_ID ?? `${config.TOPIC_PREFIX}enricher`;
  const groupsGroupId = `${groupId}.groups`;
  const topics = topicNames(config.TOPIC_PREFIX);
  const limits: Limits = {
    ...DEFAULT_LIMITS,
    groupTypes: config.ENRICHER_MAX_GROUP_TYPES,
    groupValues: config.ENRICHER_MAX_GROUP_VALUES,
    groupProperties: config.ENRICHER_MAX_GROUP_PROPERTIES,
    dedupWindowMs: config.ENRICHER_DEDUP_WINDOW_MS,
  };
  // positions are microseconds
  const stamp: StampSettings = {
    ...DEFAULT_STAMP,
    producerExpiry: config.ENRICHER_PRODUCER_EXPIRY_MS * 1000,
    history: config.ENRICHER_GROUP_HISTORY_MS * 1000,
    maxVersions: config.ENRICHER_GROUP_MAX_VERSIONS,
  };
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-enricher`, logger });
  const admin = createAdmin(kafka);
  let running = false;
  let fatal: Error | undefined;
  // batches handled and failed attempts: a consumer failing with lag and doing nothing is not ready
  const progress = new ConsumerProgress(config.CONSUMER_STALL_AFTER_MS);
  const unreportStalls = reportStalls('enricher', progress);

  const app = createApp({
    service: 'enricher',
    logger,
    ready: {
      kafka: async () => {
        await admin.describeCluster();
        return true;
      },
      consumer: async () => running && !fatal,
      progress: async () => progress.readiness(),
    },
  });
  const http = await listen(app, config.ENRICHER_PORT, config.HTTP_HOST, logger);

  const groups = new GroupStore({ maxStallMs: config.ENRICHER_STAMP_MAX_WAIT_MS });
  const workers = new Map<string, PartitionWorker>();
  let tail: ChangelogTail | undefined;
  const consumers: RunningConsumer[] = [];
  const unreport = reportStateSizes(() => {
    let users = 0;
    let dedup = 0;
    for (const w of workers.values()) {
      const s = w.sizes();
      users += s.users;
      dedup += s.dedup;
    }
    return { users, dedup, groups: groups.size, partitions: workers.size };
  });

  const stop = async () => {
    running = false;
    await Promise.all(consumers.map((c) => c.stop().catch((err) => log.warn({ err }, 'consumer_stop_failed'))));
    await Promise.all([...workers.values()].map((w) => w.close()));
    workers.clear();
    await tail?.stop().catch((err) => log.warn({ err }, 'tail_stop_failed'));
    await admin.disconnect().catch(() => undefined);
    unreport();
    unreportStalls();
    await http.close();
  };

  try {
    await retryTransient(() => ensureTopics(kafka, topicSpecs(topics), { partitions: config.KAFKA_PARTITIONS, replicationFactor: config.KAFKA_REPLICATION_FACTOR }));
    await admin.connect();
    // an event waits for the watermark of every group-identify partition
    groups.watermark.setPartitions(await partitionCount(kafka, topics.groupIdentify));

    // every instance holds every group: load the groups changelog before taking any partition
    tail = new ChangelogTail({
      kafka,
      admin,
      topic: topics.groupsChangelog,
      groupIdPrefix: groupId,
      logger: log,
      onRecord: (r) => {
        try {
          const { key, value } = changelogText(r);
          applyGroupsChangelogRecord(groups, key, value);
        } catch (err) {
          log.warn({ err, partition: r.partition, offset: r.offset }, 'changelog_record_unreadable');
        }
      },
    });
    const t0 = Date.now();
    await tail.start();
    await tail.waitCaughtUp();
    log.info({ groups: groups.size, duration_ms: Date.now() - t0 }, 'groups_loaded');

    const ctx: WorkerContext = {
      kafka,
      admin,
      topics,
      groupId,
      groupsGroupId,
      limits,
      stamp,
      dedupCapacity: config.ENRICHER_DEDUP_CAPACITY,
      groups,
      groupsTail: tail,
      logger,
    };
    const workerFor = (topic: string, partition: number): PartitionWorker => {
      const key = `${topic}:${partition}`;
      let w = workers.get(key);
      if (!w) {
        w = topic === topics.ingest ? new IngestWorker(ctx, topic, partition) : new GroupIdentifyWorker(ctx, topic, partition);
        workers.set(key, w);
      }
      return w;
    };

    // a rebalance of one consumer: release the partitions of its topic this instance lost (their state goes with
    // them); kept ones keep theirs
    const onAssigned = (topic: string) => (assignment: Assignment) => {
      const assigned = new Set((assignment[topic] ?? []).map((p) => `${topic}:${p}`));
      for (const [key, w] of workers) {
        if (w.topic !== topic || assigned.has(key)) continue;
        workers.delete(key);
        consumerLag.remove({ topic, partition: String(w.partition) });
        void w.close();
      }
      log.info({ topic, partitions: [...assigned] }, 'partitions_assigned');
    };
    const consume = (topic: string, group: string) =>
      runBatchConsumer({
        kafka,
        groupId: group,
        topics: [topic],
        logger,
        handlerCommits: true,
        readCommitted: true,
        partitionsConsumedConcurrently: config.ENRICHER_CONCURRENCY,
        maxBytesPerPartition: config.ENRICHER_MAX_BATCH_BYTES,
        sessionTimeout: config.ENRICHER_SESSION_TIMEOUT_MS,
        handle: (batch) => workerFor(batch.topic, batch.partition).handle(batch),
        // shared by both consumers (keys name the topic); a rebalance of either restarts the stall clocks of both
        progress,
        onAssigned: onAssigned(topic),
        onBatchDone: ({ topic: t, partition, offsetLag }) => consumerLag.set({ topic: t, partition: String(partition) }, offsetLag),
        onCrash: (err) => {
          fatal = err;
          log.fatal({ err, topic }, 'enricher_consumer_failed');
          deps.onFatal?.(err);
        },
      });
    // the group-identify side first: ingest batches wait for its watermark
    consumers.push(await consume(topics.groupIdentify, groupsGroupId));
    consumers.push(await consume(topics.ingest, groupId));
    running = true;
    log.info({ group_id: groupId, groups_group_id: groupsGroupId, topics: [topics.ingest, topics.groupIdentify] }, 'enricher_started');
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }

  return {
    url: http.url,
    partitions: () => [...workers.keys()].sort(),
    stop,
  };
}
