// Gateway throughput: events/s through POST /batch (100- and 1000-event requests, several keep-alive clients),
// with p50/p99 request latency, beside Kafka's Java producer (the run's shared baseline, the bus's limit here) and
// kafkajs sending the same encoded records pipelined (8 batches of 1000 in flight), which takes its turn in each
// round.
// The gateway runs in its own process (as in production), so the load generator does not share its event loop.
// Two more figures locate the ceiling: the gateway with micro-batching off (one producer send per request), and an
// express server that only reads and parses the same bodies and answers (the HTTP framework + JSON.parse cost).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { recordMessage, topicNames, topicSpecs, type IngestRecord } from '@groupscope/events';
import { createKafka, withAdmin } from '@groupscope/kafka';
import { ProjectRegistry } from '@groupscope/projects';
import type { Bench, BenchContext, BenchResult } from './harness';
import { cpuProfArgs, percentile, rate, round, stopChild, waitReady } from './harness';
import { BENCH_PARTITIONS, kafkaBaselinesOnce, rawProducerRate, type RawMessage } from './baselines';
import { keepAlivePoster, sampleEvent } from './load';

const root = join(__dirname, '..');
const CONCURRENCY = 8;

/** The IngestRecord the gateway makes of sampleEvent(i), encoded: what the raw baseline sends. */
function encodedRecord(i: number): RawMessage {
  const e = sampleEvent(i);
  const rec: IngestRecord = {
    kind: 'event', project_id: 1, uuid: randomUUID(), receive_time: Date.now(), event_time: e.time, event_type: e.event_type!,
    user_id: e.user_id, device_id: e.device_id, insert_id: e.insert_id, session_id: e.session_id, event_id: null,
    event_properties: JSON.stringify(e.event_properties), user_properties: JSON.stringify(e.user_properties),
    groups: { company: [e.groups.company] }, context: { platform: e.platform, os_name: e.os_name, country: e.country },
    revenue: null, price: null, quantity: null, location_lat: null, location_lng: null, extra: JSON.stringify({ library: e.library }),
  };
  return recordMessage.ingest(rec);
}

interface Load {
  events: number;
  ms: number;
  latencies: number[];
  failures: number;
}

/** `requests` POSTs of the given bodies (cycled) from CONCURRENCY keep-alive clients. */
async function load(url: string, bodies: Buffer[], eventsPerBody: number, requests: number): Promise<Load> {
  const poster = keepAlivePoster(url, CONCURRENCY);
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests) {
        const body = bodies[next++ % bodies.length]!;
        const s = performance.now();
        const status = await poster.post(body);
        latencies.push(performance.now() - s);
        if (status !== 200) failures++;
      }
    }),
  );
  const ms = performance.now() - t0;
  poster.close();
  latencies.sort((a, b) => a - b);
  return { events: requests * eventsPerBody, ms, latencies, failures };
}

async function startGatewayProcess(ctx: BenchContext, port: number, projectsFile: string, microbatch: boolean, prefix: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...cpuProfArgs(), '--import', 'tsx', join(root, 'services/gateway/src/main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      KAFKA_BROKERS: ctx.brokers.join(','),
      TOPIC_PREFIX: prefix,
      KAFKA_PARTITIONS: '4',
      PROJECTS_FILE: projectsFile,
      GATEWAY_PORT: String(port),
      GATEWAY_MICROBATCH: String(microbatch),
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await waitReady(`http://127.0.0.1:${port}/ready`, child);
  return child;
}

/** An express app that reads and parses the body, then answers: the framework's own ceiling. */
const PARSE_ONLY = `
const express = require('express');
const app = express();
app.post('/batch', (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    res.json({ code: 200, events_ingested: body.events.length });
  });
});
app.get('/ready', (_req, res) => res.json({ ok: true }));
app.listen(Number(process.env.PORT), '127.0.0.1');
`;

/** Merges the loads of several rounds into one figure. */
function merge(loads: Load[]): Load {
  const latencies = loads.flatMap((l) => l.latencies).sort((a, b) => a - b);
  return {
    events: loads.reduce((a, l) => a + l.events, 0),
    ms: loads.reduce((a, l) => a + l.ms, 0),
    latencies,
    failures: loads.reduce((a, l) => a + l.failures, 0),
  };
}

const bench: Bench = {
  name: 'gateway',
  async run(ctx) {
    const quick = ctx.quick;
    const kafkaBase = await kafkaBaselinesOnce(ctx);
    const registry = new ProjectRegistry(join(ctx.tmpDir, 'gateway-projects.json'));
    const { api_key } = registry.create('bench');
    const makeBodies = (size: number, count: number) =>
      Array.from({ length: count }, (_, b) => Buffer.from(JSON.stringify({ api_key, events: Array.from({ length: size }, (_, i) => sampleEvent(b * size + i)) })));
    const bodies = { 100: makeBodies(100, 40), 1000: makeBodies(1000, 8) };
    // requests per round; the configurations take turns over the rounds, so a burst of load from elsewhere on the
    // machine does not land on one configuration only
    const rounds = quick ? 1 : 3;
    const perRound = { 100: quick ? 200 : 500, 1000: quick ? 30 : 70 };
    const rawCount = quick ? 30_000 : 100_000;
    const rawRecords = Array.from({ length: rawCount }, (_, i) => encodedRecord(i));

    // BENCH_PORT_BASE: where a shared machine has assigned this run its ports
    const port = Number(process.env.BENCH_PORT_BASE) || 38_000 + Math.floor(Math.random() * 1000);
    const prefixes = [0, 1].map((i) => `bench.gw.${Date.now().toString(36)}.${i}.`);
    const servers: { name: string; url: string; child: ChildProcess }[] = [];
    const loads = new Map<string, Load[]>();
    const rawRates: number[] = [];
    try {
      servers.push({ name: 'micro-batched sends', url: `http://127.0.0.1:${port}/batch`, child: await startGatewayProcess(ctx, port, registry.file, true, prefixes[0]!) });
      servers.push({ name: 'one send per request', url: `http://127.0.0.1:${port + 1}/batch`, child: await startGatewayProcess(ctx, port + 1, registry.file, false, prefixes[1]!) });
      const parseOnly = spawn(process.execPath, ['-e', PARSE_ONLY], { cwd: root, env: { ...process.env, PORT: String(port + 2) }, stdio: ['ignore', 'inherit', 'inherit'] });
      servers.push({ name: 'ceiling: express read + JSON.parse + answer', url: `http://127.0.0.1:${port + 2}/batch`, child: parseOnly });
      await waitReady(`http://127.0.0.1:${port + 2}/ready`, parseOnly);
      // warm-up: connections, JIT, producer metadata
      for (const srv of servers) await load(srv.url, bodies[100], 100, 20);

      for (let round = 0; round < rounds; round++) {
        // the raw baseline takes its turn too: the same records, encoded as the gateway encodes them
        rawRates.push(await rawProducerRate(ctx, rawRecords, 1000, BENCH_PARTITIONS, 8));
        for (const size of [100, 1000] as const) {
          for (const srv of servers) {
            const key = `${srv.name}|${size}`;
            loads.set(key, [...(loads.get(key) ?? []), await load(srv.url, bodies[size], size, perRound[size])]);
          }
        }
      }
    } finally {
      await Promise.all(servers.map((s) => stopChild(s.child)));
      const kafka = createKafka({ brokers: ctx.brokers, clientId: 'bench-gateway-cleanup', logger: ctx.logger });
      const names = prefixes.flatMap((p) => topicSpecs(topicNames(p)).map((t) => t.name));
      await withAdmin(kafka, async (a) => {
        const existing = new Set(await a.listTopics());
        await a.deleteTopics({ topics: names.filter((n) => existing.has(n)) });
      }).catch(() => undefined);
    }

    const raw = rawRates.reduce((a, b) => a + b, 0) / rawRates.length;
    const baseline = { name: 'Kafka Java ProducerPerformance, 300 B records', value: round(kafkaBase.produce, 0), unit: 'records/s' };
    const results: BenchResult[] = [];
    for (const size of [100, 1000] as const) {
      for (const srv of servers) {
        const l = merge(loads.get(`${srv.name}|${size}`) ?? []);
        const r = rate(l.events, l.ms);
        const ceiling = srv.name.startsWith('ceiling');
        results.push({
          name: ceiling ? `${srv.name}, ${size}-event requests` : `gateway /batch, ${size}-event requests (${srv.name})`,
          figure: { value: round(r, 0), unit: 'events/s' },
          baseline,
          ratio: round(r / kafkaBase.produce, 2),
          ratios: { java_producer: round(r / kafkaBase.produce, 2), kafkajs_pipelined: round(r / raw, 2) },
          goal: ceiling ? undefined : size === 1000 ? '>= 0.35 of Java producer' : '>= 0.25 of Java producer',
          extra: {
            p50_ms: round(percentile(l.latencies, 50), 1),
            p99_ms: round(percentile(l.latencies, 99), 1),
            requests: l.latencies.length,
            failed_requests: l.failures,
            clients: CONCURRENCY,
            rounds,
            kafkajs_pipelined_same_records: round(raw, 0),
            kafkajs_pipelined_rounds: rawRates.map((x) => round(x, 0)).join(' '),
          },
        });
      }
    }
    return results;
  },
};
export default bench;
