// Test helpers: polling waits, unique names, real Kafka / ClickHouse handles isolated per test file, record
// builders, and producers and readers of the pipeline's topics.
import { createClickHouse, createDatabase, dropDatabase, migrate, type ClickHouse } from '@groupscope/clickhouse';
import { createKafka, ensureTopics, retryTransient, type Kafka } from '@groupscope/kafka';
import { topicNames, topicSpecs, type Topics } from '@groupscope/events';
import { silentLogger, type Logger } from '@groupscope/logger';
import { uniqueName } from './names';

export { uniqueName } from './names';
export * from './records';
export * from './kafka';
export * from './count-rows';
export * from './ports';

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  message?: string;
}

/**
 * Polls `probe` until it returns a value other than undefined/false/null, and returns that value.
 * Errors thrown by the probe count as "not yet"; the last one is reported on timeout.
 */
export async function waitFor<T>(probe: () => T | Promise<T>, opts: WaitOptions = {}): Promise<Exclude<T, undefined | false | null>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60000);
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false && v !== null) return v as Exclude<T, undefined | false | null>;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`waitFor timed out after ${opts.timeoutMs ?? 60000} ms: ${opts.message ?? ''} (last: ${detail})`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}

export function testBrokers(): string[] {
  const b = process.env.KAFKA_BROKERS;
  if (!b) throw new Error('KAFKA_BROKERS is not set: run tests through jest (its global set-up resolves Kafka)');
  return b.split(',');
}

export interface TestKafka {
  kafka: Kafka;
  brokers: string[];
  prefix: string;
  topics: Topics;
  /** creates every groupscope topic under this test's prefix (a broker busy with other suites' topics may need a second try) */
  ensureTopics(partitions?: number): Promise<void>;
}

export function testKafka(logger: Logger = silentLogger): TestKafka {
  const brokers = testBrokers();
  const prefix = `${uniqueName('t')}.`;
  const kafka = createKafka({ brokers, clientId: 'groupscope-test', logger });
  const topics = topicNames(prefix);
  return {
    kafka,
    brokers,
    prefix,
    topics,
    ensureTopics: (partitions = 2) => retryTransient(() => ensureTopics(kafka, topicSpecs(topics), { partitions, replicationFactor: 1 })),
  };
}

export interface TestClickHouse extends ClickHouse {
  /** drops the test database and releases the client */
  cleanup(): Promise<void>;
}

/** The test ClickHouse server the jest global set-up resolved (a local server, a container or CLICKHOUSE_URL). */
export function testClickHouseServer(): { url: string; username?: string; password?: string } {
  const url = process.env.CLICKHOUSE_URL;
  if (!url) throw new Error('CLICKHOUSE_URL is not set: run tests through jest (its global set-up resolves the ClickHouse server)');
  return { url, username: process.env.CLICKHOUSE_USER, password: process.env.CLICKHOUSE_PASSWORD };
}

/** A database of its own on the test server, for one test file (migrated unless `migrate: false`). */
export async function testClickHouse(opts: { migrate?: boolean; logger?: Logger } = {}): Promise<TestClickHouse> {
  const ch = createClickHouse({ ...testClickHouseServer(), database: uniqueName('gs_test') });
  await createDatabase(ch);
  if (opts.migrate !== false) await migrate(ch, opts.logger ?? silentLogger);
  return Object.assign(ch, {
    async cleanup() {
      await dropDatabase(ch).catch(() => undefined);
      await ch.close();
    },
  });
}

export * from './stored-rows';
export * from './child';
