// gateway: Amplitude-compatible ingestion (/2/httpapi, /batch, /identify, /groupidentify) into Kafka.
// A 2xx reply means every record of the request was acknowledged by Kafka (idempotent producer, acks=all).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { projectsFile } from '@groupscope/config';
import { createApp, listen, type Listening, type TlsCredentials } from '@groupscope/http';
import type { Logger } from '@groupscope/logger';
import { topicNames, topicSpecs } from '@groupscope/events';
import { createAdmin, createKafka, createProducer, ensureTopics, isTransient, partitionCount, retry, type Admin, type Kafka } from '@groupscope/kafka';
import { ProjectRegistry } from '@groupscope/projects';
import type { GatewayConfig } from './config';
import { mountRoutes } from './app';
import { Batcher, KafkaTimeoutError } from './batcher';
import { Marker, ReceiveClock } from './positions';
import { ProjectLookup } from './projects';
import { Throttle } from './throttle';
import * as metrics from './metrics';

export * from './config';

export interface GatewayDeps {
  config: GatewayConfig;
  logger: Logger;
  /** a Kafka client to use instead of one built from the config */
  kafka?: Kafka;
  /** a project registry to use instead of the configured file */
  registry?: ProjectRegistry;
}

export interface RunningGateway {
  url: string;
  port: number;
  /** the producer id stamped on this gateway's records */
  producerId: string;
  /** the HTTPS listener's URL and port, when TLS is configured */
  httpsUrl?: string;
  httpsPort?: number;
  stop(): Promise<void>;
}

/** The configured certificate and key, read now so a wrong path fails the start with a clear message. */
export function tlsCredentialsOf(config: GatewayConfig): TlsCredentials | undefined {
  if (!config.GATEWAY_TLS_CERT || !config.GATEWAY_TLS_KEY) return undefined;
  const read = (name: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`${name}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
    }
  };
  return { cert: read('GATEWAY_TLS_CERT', config.GATEWAY_TLS_CERT), key: read('GATEWAY_TLS_KEY', config.GATEWAY_TLS_KEY) };
}

/** Express' `trust proxy`: true/false, a hop count, or addresses/subnets (comma-separated, or names like loopback). */
export function trustProxy(v: string): boolean | number | string {
  if (v === 'true' || v === 'false') return v === 'true';
  if (/^\d+$/.test(v)) return Number(v);
  return v;
}

/** GATEWAY_ID, else host name and port: stable across restarts of one instance, distinct between instances. */
export function producerIdOf(config: Pick<GatewayConfig, 'GATEWAY_ID' | 'GATEWAY_PORT'>): string {
  if (config.GATEWAY_ID) return config.GATEWAY_ID;
  return `${hostname()}:${config.GATEWAY_PORT === 0 ? randomUUID().slice(0, 8) : config.GATEWAY_PORT}`;
}

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T | undefined> =>
  Promise.race([p, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms).unref())]);

/** /ready's Kafka check: one metadata request at most every cacheMs, answers shared by concurrent probes. */
function kafkaReadiness(kafka: Kafka, cacheMs: number) {
  let admin: Admin | undefined;
  let last = { at: 0, ok: false };
  let pending: Promise<boolean> | undefined;
  const probe = async (): Promise<boolean> => {
    try {
      if (!admin) {
        admin = createAdmin(kafka, { retries: 0 });
        await admin.connect();
      }
      await admin.describeCluster();
      return true;
    } catch {
      const a = admin;
      admin = undefined;
      await a?.disconnect().catch(() => undefined);
      return false;
    }
  };
  return {
    check(): Promise<boolean> {
      if (Date.now() - last.at < cacheMs) return Promise.resolve(last.ok);
      pending ??= probe().then((ok) => {
        last = { at: Date.now(), ok };
        pending = undefined;
        return ok;
      });
      return pending;
    },
    async close() {
      await pending?.catch(() => undefined);
      await admin?.disconnect().catch(() => undefined);
    },
  };
}

export async function startGateway(deps: GatewayDeps): Promise<RunningGateway> {
  const { config, logger } = deps;
  const tls = tlsCredentialsOf(config);
  const registry = deps.registry ?? new ProjectRegistry(projectsFile(config));
  const kafka = deps.kafka ?? createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-gateway`, logger });
  const topics = topicNames(config.TOPIC_PREFIX);
  await ensureTopics(kafka, topicSpecs(topics), { partitions: config.KAFKA_PARTITIONS, replicationFactor: config.KAFKA_REPLICATION_FACTOR });

  const producer = createProducer(kafka, { retry: { maxRetryTime: config.GATEWAY_KAFKA_MAX_RETRY_MS } });
  await producer.connect();
  const batcher = new Batcher({
    send: async (topicMessages) => {
      await producer.sendBatch({ acks: -1, topicMessages });
    },
    topics: { ingest: topics.ingest, groupIdentify: topics.groupIdentify, dlq: topics.dlq },
    timeoutMs: config.GATEWAY_SEND_TIMEOUT_MS,
    microbatch: config.GATEWAY_MICROBATCH,
    lingerMs: config.GATEWAY_LINGER_MS,
    maxMessages: config.GATEWAY_SEND_MAX_MESSAGES,
    maxBytes: config.GATEWAY_SEND_MAX_BYTES,
    maxQueuedBytes: config.GATEWAY_MAX_QUEUED_BYTES,
    onSend: ({ ms, messages, ok }) => {
      metrics.sendDuration.observe({ outcome: ok ? 'ok' : 'error' }, ms / 1000);
      metrics.sendMessages.observe(messages);
    },
  });
  const pendingTimer = setInterval(() => metrics.pendingBytes.set(batcher.stats.pendingBytes), 1000).unref();

  // receive positions; the first mark goes out before any request is accepted
  const clock = new ReceiveClock(producerIdOf(config));
  const marker = new Marker({
    clock,
    batcher,
    partitions: await partitionCount(kafka, topics.groupIdentify),
    intervalMs: config.GATEWAY_MARK_INTERVAL_MS,
    logger,
  });
  // a broker that has just started (or just elected leaders) may take longer than one send's deadline to
  // acknowledge the first records: asked again for about a minute before the gateway gives up starting
  await retry(() => marker.send(), {
    attempts: 10,
    initialMs: 500,
    maxMs: 5000,
    retriable: (err) => err instanceof KafkaTimeoutError || isTransient(err),
    onRetry: (err, attempt) => logger.warn({ attempt, err: { message: (err as Error).message } }, 'first_mark_retrying'),
  });
  marker.start();

  const readiness = kafkaReadiness(kafka, config.GATEWAY_READY_CACHE_MS);
  const app = createApp({
    service: 'gateway',
    logger,
    ready: {
      kafka: () => readiness.check(),
      // a producer send stuck past a whole deadline: this instance cannot take data now, whatever metadata says
      producer: async () => batcher.stalledMs() <= config.GATEWAY_SEND_TIMEOUT_MS,
    },
  });
  app.set('trust proxy', trustProxy(config.GATEWAY_TRUST_PROXY));
  mountRoutes(app, {
    logger,
    projects: new ProjectLookup(registry, logger),
    throttle: new Throttle(config.GATEWAY_THROTTLE_MAX_IDS),
    batcher,
    positions: clock,
    limits: {
      maxEvents: config.GATEWAY_MAX_EVENTS,
      maxIdentifications: config.GATEWAY_MAX_IDENTIFICATIONS,
      maxRecordBytes: config.GATEWAY_MAX_RECORD_BYTES,
      maxFutureMs: config.GATEWAY_MAX_FUTURE_MS,
    },
    bodyLimits: {
      httpapi: config.GATEWAY_HTTPAPI_MAX_BYTES,
      batch: config.GATEWAY_BATCH_MAX_BYTES,
      identify: config.GATEWAY_IDENTIFY_MAX_BYTES,
      discard: config.GATEWAY_DISCARD_MAX_BYTES,
    },
    publicUrl: config.GATEWAY_PUBLIC_URL || undefined,
  });
  // requests in flight get up to one send deadline (plus a margin) to finish when stopping
  const graceMs = config.GATEWAY_SEND_TIMEOUT_MS + 2000;
  const http = await listen(app, config.GATEWAY_PORT, config.HTTP_HOST, logger, graceMs);
  let https: Listening | undefined;
  if (tls) {
    // the same app on both: one set of routes, limits and metrics whatever the transport
    https = await listen(app, config.GATEWAY_HTTPS_PORT, config.HTTP_HOST, logger, graceMs, tls).catch(async (err: unknown) => {
      await http.close();
      await marker.stop();
      throw err;
    });
  }
  logger.info(
    { topics: [topics.ingest, topics.groupIdentify], microbatch: config.GATEWAY_MICROBATCH, https: Boolean(https), producer_id: clock.producerId },
    'gateway_started',
  );

  let stopping: Promise<void> | undefined;
  return {
    url: http.url,
    port: http.port,
    httpsUrl: https?.url,
    httpsPort: https?.port,
    producerId: clock.producerId,
    stop: () =>
      (stopping ??= (async () => {
        await Promise.all([http.close(), https?.close()]);
        await marker.stop();
        await batcher.drain(config.GATEWAY_SEND_TIMEOUT_MS);
        // everything accepted is out: the enricher need not wait for this producer any more
        await marker.send(true).catch((err: Error) => logger.warn({ err: { name: err.name, message: err.message } }, 'leave_mark_failed'));
        clearInterval(pendingTimer);
        // with Kafka away, disconnect could wait on a send that retries forever
        await withTimeout(producer.disconnect().catch(() => undefined), 5000);
        await withTimeout(readiness.close(), 5000);
        logger.info('gateway_stopped');
      })()),
  };
}
