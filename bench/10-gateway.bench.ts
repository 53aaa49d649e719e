// Gateway throughput: events/s through POST /batch (100- and 1000-event requests, several keep-alive clients),
// with p50/p99 request latency, beside the raw kafkajs producer sending the same encoded records in this run.
// The gateway runs in its own process (as in production), so the load generator does not share its event loop.
// Two more figures locate the ceiling: the gateway with micro-batching off (one producer send per request), and an
// express server that only reads and parses the same bodies and answers (the HTTP framework + JSON.parse cost).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { codecs, userKey, type IngestRecord } from '@groupscope/events';
import { ProjectRegistry } from '@groupscope/projects';
import type { Bench, BenchContext, BenchResult } from './harness';
import { percentile, rate, round } from './harness';
import { rawProducerRate, type RawMessage } from './baselines';

const root = join(__dirname, '..');
const CONCURRENCY = 8;

function sampleEvent(i: number) {
  return {
    user_id: `user-${i % 5000}`,
    device_id: `device-${i % 6000}`,
    event_type: ['Page Viewed', 'Invoice Sent', 'Payment Received', 'Signed Up'][i % 4],
    time: 1_762_000_000_000 + i,
    insert_id: `${i}-${randomUUID()}`,
    session_id: 1_762_000_000_000,
    event_properties: { amount: i % 500, page: `/p/${i % 50}` },
    user_properties: { $set: { role: i % 3 === 0 ? 'admin' : 'member' } },
    groups: { company: `c-${i % 500}` },
    platform: 'Web',
    os_name: 'Chrome',
    country: 'France',
    library: 'amplitude-node/1.5.73',
  };
}

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
  return { key: userKey(1, e.user_id, e.device_id), value: codecs.ingest.encode(rec), headers: codecs.ingest.headers() };
}

interface Load {
  events: number;
  ms: number;
  latencies: number[];
  failures: number;
}

/** `requests` POSTs of the given bodies (cycled) from CONCURRENCY keep-alive clients. */
async function load(url: string, bodies: Buffer[], eventsPerBody: number, requests: number): Promise<Load> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const target = new URL(url);
  const post = (body: Buffer) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        { agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests) {
        const body = bodies[next++ % bodies.length]!;
        const s = performance.now();
        const status = await post(body);
        latencies.push(performance.now() - s);
        if (status !== 200) failures++;
      }
    }),
  );
  const ms = performance.now() - t0;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { events: requests * eventsPerBody, ms, latencies, failures };
}

async function waitReady(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not ready in ${timeoutMs} ms`);
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
  });
}

async function startGatewayProcess(ctx: BenchContext, port: number, projectsFile: string, microbatch: boolean): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'services/gateway/src/main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      KAFKA_BROKERS: ctx.brokers.join(','),
      TOPIC_PREFIX: `bench.gw.${Date.now().toString(36)}.${port}.`,
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

const bench: Bench = {
  name: 'gateway',
  async run(ctx) {
    const quick = ctx.quick;
    const registry = new ProjectRegistry(join(ctx.tmpDir, 'gateway-projects.json'));
    const { api_key } = registry.create('bench');
    const makeBodies = (size: number, count: number) =>
      Array.from({ length: count }, (_, b) => Buffer.from(JSON.stringify({ api_key, events: Array.from({ length: size }, (_, i) => sampleEvent(b * size + i)) })));
    const bodies100 = makeBodies(100, 40);
    const bodies1000 = makeBodies(1000, 8);
    const runs = { r100: quick ? 200 : 1500, r1000: quick ? 30 : 200 };
    const results: BenchResult[] = [];

    // the raw baseline: the same records, encoded as the gateway encodes them, batches of 1000
    const rawCount = quick ? 30_000 : 200_000;
    const raw = await rawProducerRate(ctx, Array.from({ length: rawCount }, (_, i) => encodedRecord(i)), 1000);
    const baseline = { name: 'raw kafkajs producer, same records, batches of 1000', value: round(raw, 0), unit: 'events/s' };

    const figure = (name: string, l: Load, extra: Record<string, number | string> = {}): BenchResult => {
      const r = rate(l.events, l.ms);
      return {
        name,
        figure: { value: round(r, 0), unit: 'events/s' },
        baseline,
        ratio: round(r / raw, 2),
        goal: '>= 0.5 of baseline',
        extra: {
          p50_ms: round(percentile(l.latencies, 50), 1),
          p99_ms: round(percentile(l.latencies, 99), 1),
          requests: l.latencies.length,
          failed_requests: l.failures,
          clients: CONCURRENCY,
          ...extra,
        },
      };
    };

    const port = 38_000 + Math.floor(Math.random() * 1000);
    const gw = await startGatewayProcess(ctx, port, registry.file, true);
    try {
      const url = `http://127.0.0.1:${port}/batch`;
      await load(url, bodies100, 100, 20); // warm-up: connections, JIT, producer metadata
      results.push(figure('gateway /batch, 100-event requests (micro-batched sends)', await load(url, bodies100, 100, runs.r100)));
      results.push(figure('gateway /batch, 1000-event requests (micro-batched sends)', await load(url, bodies1000, 1000, runs.r1000)));
    } finally {
      await stopChild(gw);
    }

    const gw2 = await startGatewayProcess(ctx, port + 1, registry.file, false);
    try {
      const url = `http://127.0.0.1:${port + 1}/batch`;
      await load(url, bodies100, 100, 20);
      results.push(figure('gateway /batch, 100-event requests (one send per request)', await load(url, bodies100, 100, runs.r100)));
      results.push(figure('gateway /batch, 1000-event requests (one send per request)', await load(url, bodies1000, 1000, runs.r1000)));
    } finally {
      await stopChild(gw2);
    }

    const parseOnly = spawn(process.execPath, ['-e', PARSE_ONLY], { cwd: root, env: { ...process.env, PORT: String(port + 2) }, stdio: ['ignore', 'inherit', 'inherit'] });
    try {
      await waitReady(`http://127.0.0.1:${port + 2}/ready`, parseOnly);
      const url = `http://127.0.0.1:${port + 2}/batch`;
      await load(url, bodies100, 100, 20);
      results.push(figure('ceiling: express read + JSON.parse + answer, 100-event requests', await load(url, bodies100, 100, runs.r100)));
      results.push(figure('ceiling: express read + JSON.parse + answer, 1000-event requests', await load(url, bodies1000, 1000, runs.r1000)));
    } finally {
      await stopChild(parseOnly);
    }
    return results;
  },
};
export default bench;
