// End-to-end sustained throughput: the highest steady events/s through gateway -> enricher -> writer (each its own
// process, as in production) at which ingest -> queryable p95 stays within 2 s and the gateway refuses nothing;
// once with one enricher process, once with two in the same consumer group.
// A load generator in a process of its own (bench/load-generator.ts) offers a fixed rate of 500-event /batch
// requests over 8 keep-alive connections. A poller here counts, per request, the events visible in ClickHouse
// (insert_ids `<tag>:<request>:<i>`, one GROUP BY per poll over the step's project: no IN lists), and an event's
// latency runs from its request's due send time to the midpoint between the poll that first saw it and the one
// before (right to within half a poll interval, ~100-300 ms).
// A search over the offered rate: each rate is held for a window after a warm-up (every rate on a project of its
// own) and is good when the p95 is within 2 s, no request was refused and the pipeline does not fall behind (its
// median latency did not rise through the hold so fast that one more hold would pass the limit); doubled while
// good, then bisected between the last good and the first bad rate to within 12 %, within a time budget per
// configuration. A hold is cut short once its verdict is certain (a request refused, or more than 5 % of its events
// late), and every step drains before the next. Reported: the highest good rate with its p50/p95, the first bad
// rate and why, which process used how much CPU at each (and with the pipeline idle), the stages' own timings from
// their metrics, and the ratio to Kafka's Java producer when the run measured it.
// Knobs: BENCH_SUSTAINED_HOLD_S (15; quick 4), BENCH_SUSTAINED_WARMUP_S (5; quick 2), BENCH_SUSTAINED_PREWARM_S (an
// unmeasured load at half the start rate before each configuration's search: 10; quick 2), BENCH_SUSTAINED_START
// (4000 events/s; quick 2000), BENCH_SUSTAINED_BUDGET_S (per configuration, 165; quick 20),
// BENCH_SUSTAINED_EVENTS_PER_REQUEST (500), BENCH_SUSTAINED_IN_FLIGHT (8), BENCH_SUSTAINED_ENRICHERS ("1,2"); the
// services' own settings from the environment (e.g. WRITER_BATCH_MS).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { param, queryRows, sql, tableRef, type ClickHouse } from '@groupscope/clickhouse';
import { topicNames, topicSpecs } from '@groupscope/events';
import { consumerLag, createAdmin, createKafka, ensureTopics, withAdmin, type Admin } from '@groupscope/kafka';
import { ProjectRegistry, type NewKeys } from '@groupscope/projects';
import type { Bench, BenchContext, BenchResult } from './harness';
import { killTracked, round, spawnService, stopChild, track, waitReady } from './harness';
import { kafkaBaselinesIfMeasured } from './baselines';
import { now, storedPerRequest, type Ack, type FromLoader, type LoadPlan } from './load-generator';
import { cpuMeter, describeCpu, type CpuUse } from './proc-cpu';
import { histogramDelta, scrape, type Samples } from './scrape';
import { bracket, nextRate, verdict, weightedPercentile, type Probe, type Weighted } from './rate-search';

const PARTITIONS = 4;
const LIMIT_MS = 2000;
/** a hold stops early once more than this share of its events is known to be late */
const LATE_SHARE = 0.05;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Settings {
  holdS: number;
  warmupS: number;
  /** an unmeasured load at half the start rate before a configuration's first step (JIT, connections, first parts) */
  prewarmS: number;
  start: number;
  budgetS: number;
  perRequest: number;
  inFlight: number;
  enrichers: number[];
  /** longest wait for a step's events to become visible after its load stopped */
  drainS: number;
  pollMs: number;
  precision: number;
}

function positive(name: string, def: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, not "${v}"`);
  return n;
}

function settings(quick: boolean): Settings {
  const enrichers = (process.env.BENCH_SUSTAINED_ENRICHERS ?? '1,2').split(',').map((x) => Number(x.trim()));
  if (enrichers.some((n) => !Number.isInteger(n) || n < 1 || n > PARTITIONS)) throw new Error(`BENCH_SUSTAINED_ENRICHERS: a list of 1 to ${PARTITIONS}`);
  return {
    holdS: positive('BENCH_SUSTAINED_HOLD_S', quick ? 4 : 15),
    warmupS: positive('BENCH_SUSTAINED_WARMUP_S', quick ? 2 : 5),
    prewarmS: positive('BENCH_SUSTAINED_PREWARM_S', quick ? 2 : 10),
    start: positive('BENCH_SUSTAINED_START', quick ? 2000 : 4000),
    budgetS: positive('BENCH_SUSTAINED_BUDGET_S', quick ? 20 : 165),
    perRequest: Math.round(positive('BENCH_SUSTAINED_EVENTS_PER_REQUEST', 500)),
    inFlight: Math.round(positive('BENCH_SUSTAINED_IN_FLIGHT', 8)),
    enrichers,
    drainS: 60,
    pollMs: 100,
    precision: 0.12,
  };
}

// ---- processes

/** The load generator process and its messages. */
class Loader {
  private readonly listeners = new Set<(m: FromLoader) => void>();
  private exited: string | undefined;

  private constructor(readonly child: ChildProcess) {
    child.on('message', (m: FromLoader) => this.listeners.forEach((l) => l(m)));
    child.once('exit', (code, signal) => {
      this.exited = `the load generator exited (${code ?? signal})`;
      this.listeners.forEach((l) => l({ type: 'error', message: this.exited! }));
    });
  }

  static start(): Loader {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'load-generator.ts')], {
      cwd: join(__dirname, '..'),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Loader(track(child));
  }

  /** Runs `plan`: resolves `started` with its schedule, `done` with the number of requests it sent. */
  run(plan: LoadPlan, onAcks: (acks: Ack[]) => void): { started: Promise<{ t0: number; interval: number }>; done: Promise<number> } {
    if (this.exited) throw new Error(this.exited);
    let listener!: (m: FromLoader) => void;
    let started!: (s: { t0: number; interval: number }) => void;
    const startedP = new Promise<{ t0: number; interval: number }>((resolve) => (started = resolve));
    const done = new Promise<number>((resolve, reject) => {
      listener = (m) => {
        if (m.type === 'started') started(m);
        else if (m.type === 'acks') onAcks(m.acks);
        else if (m.type === 'done') resolve(m.requests);
        else reject(new Error(m.message));
      };
      this.listeners.add(listener);
    }).finally(() => this.listeners.delete(listener));
    // a failure before 'started' must not leave `started` pending forever
    const failedEarly = done.then(() => new Promise<never>(() => undefined));
    this.child.send({ type: 'run', plan });
    return { started: Promise.race([startedP, failedEarly]), done };
  }

  stop(): void {
    if (!this.exited && this.child.connected) this.child.send({ type: 'stop' });
  }
}

// ---- the pipeline under test

interface Pipeline {
  url: string;
  /** processes whose CPU use is reported */
  pids: Record<string, number | undefined>;
  /** records not yet processed: the enrichers' on the ingest topic, the writer's on the enriched topic */
  lag(): Promise<{ enricher: number; writer: number }>;
  /** the services' metrics now */
  metrics(): Promise<StageMetrics>;
  /** lines the services logged about a transaction refused while the previous one still completed, so far */
  transactionRetries(): number;
  stop(): Promise<void>;
}

interface StageMetrics {
  gateway: Samples[];
  enricher: Samples[];
  writer: Samples[];
}

/**
 * kafkajs logs every refused-and-retried transactional request (the coordinator still completing the previous
 * transaction of the same id: see the enricher's partition workers) as an error; at these rates that is many lines
 * a second, so they are counted instead of printed.
 */
const TRANSACTION_RETRY_LINE = /concurrent operation on the same transaction|Limiting retries for the idempotent producer/;

async function startPipeline(ctx: BenchContext, ch: ClickHouse, enrichers: number, projectsFile: string): Promise<Pipeline> {
  const prefix = `bench.sus.${Date.now().toString(36)}.${enrichers}.`;
  const topics = topicNames(prefix);
  const kafka = createKafka({ brokers: ctx.brokers, clientId: 'bench-sustained', logger: ctx.logger });
  await ensureTopics(kafka, topicSpecs(topics), { partitions: PARTITIONS, replicationFactor: 1 });
  const children: { name: string; kind: string; child: ChildProcess; base: Promise<string> }[] = [];
  let admin: Admin | undefined;
  let retries = 0;
  const stop = async () => {
    await Promise.all(children.map((c) => stopChild(c.child)));
    await admin?.disconnect().catch(() => undefined);
    await withAdmin(kafka, (a) => a.deleteTopics({ topics: Object.values(topics) })).catch(() => undefined);
  };
  // every service listens on a port the system picks (fixed ports can collide with other programs' connections),
  // read back from its http_listening line; of its log, warnings and errors are shown
  const service = (name: string, kind: string, env: Record<string, string>) => {
    let listening!: (url: string) => void;
    const base = new Promise<string>((resolve) => (listening = resolve));
    const onLine = (line: string) => {
      if (line.includes('"msg":"http_listening"')) listening(/"url":"([^"]+)"/.exec(line)?.[1] ?? '');
      else if (TRANSACTION_RETRY_LINE.test(line)) retries += line.includes('concurrent operation') ? 1 : 0;
      else if (!/^\{"level":(10|20|30),/.test(line)) process.stderr.write(`${line}\n`);
    };
    const all = { TOPIC_PREFIX: prefix, PROJECTS_FILE: projectsFile, NODE_ENV: 'production', LOG_LEVEL: 'info', ...env };
    children.push({ name, kind, base, child: spawnService(ctx, kind, all, PARTITIONS, onLine) });
  };
  try {
    service('gateway', 'gateway', { GATEWAY_PORT: '0' });
    for (let i = 0; i < enrichers; i++) service(enrichers > 1 ? `enricher-${i + 1}` : 'enricher', 'enricher', { ENRICHER_PORT: '0' });
    const server = ctx.clickhouseServer;
    service('writer', 'writer', {
      WRITER_PORT: '0',
      CLICKHOUSE_URL: server.url,
      CLICKHOUSE_USER: server.username,
      CLICKHOUSE_PASSWORD: server.password,
      CLICKHOUSE_DATABASE: ch.database,
    });
    for (const c of children) {
      const exited = new Promise<never>((_, reject) => c.child.once('exit', (code) => reject(new Error(`the ${c.name} exited (${code}) while starting`))));
      exited.catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the ${c.name} did not listen within 120 s`)), 120_000)));
      const base = await Promise.race([c.base, exited, late]).finally(() => clearTimeout(timer));
      await waitReady(`${base}/ready`, c.child);
    }
    admin = createAdmin(kafka);
    await admin.connect();
    // every enricher holds partitions before the first rate is offered (a rebalance would stall the first hold)
    const deadline = Date.now() + 60_000;
    for (;;) {
      const g = await admin.describeGroup(`${prefix}enricher`);
      if (g.state === 'Stable' && g.members === enrichers) break;
      if (Date.now() > deadline) throw new Error(`the enricher group is ${g.state} with ${g.members} of ${enrichers} members after 60 s`);
      await sleep(250);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const { kafka: kafkaPid, clickhouse: clickhousePid } = ctx.serverPids();
  const a = admin;
  const bases = new Map(await Promise.all(children.map(async (c) => [c, await c.base] as const)));
  return {
    url: `${bases.get(children[0]!)}/batch`,
    pids: { ...Object.fromEntries(children.map((c) => [c.name, c.child.pid])), kafka: kafkaPid, clickhouse: clickhousePid },
    lag: async () => {
      const [enricher, writer] = await Promise.all([consumerLag(a, `${prefix}enricher`, topics.ingest), consumerLag(a, `${prefix}writer`, topics.enriched)]);
      return { enricher, writer };
    },
    metrics: async () => {
      const of = (kind: string) => Promise.all(children.filter((c) => c.kind === kind).map((c) => scrape(`${bases.get(c)}/metrics`)));
      const [gateway, enricher, writer] = await Promise.all([of('gateway'), of('enricher'), of('writer')]);
      return { gateway, enricher, writer };
    },
    transactionRetries: () => retries,
    stop,
  };
}

// ---- one held rate

interface Step {
  rate: number;
  good: boolean;
  why?: string;
  p50: number;
  p95: number;
  p99: number;
  /** events of the hold (warm-up excluded) */
  events: number;
  /** p95 of a request's time from sent to answered */
  answerP95: number;
  /** the poller's queries: how many, and their p95 duration (an event is seen at most one poll interval + this late) */
  polls: number;
  pollP95: number;
  /** p95 of how late a request was sent after its due time */
  sendLagP95: number;
  refused: Record<string, number>;
  notVisible: number;
  heldS: number;
  stoppedEarly: boolean;
  lag: { enricher: number; writer: number };
  cpu?: CpuUse;
  /** what the stages did during the hold, from their metrics */
  stages?: string;
}

/** Where the time went during a hold, from the services' histograms (means over the hold). */
function describeStages(a: StageMetrics, b: StageMetrics, seconds: number, transactionRetries: number): string {
  const perS = (n: number) => round(n / seconds, 1);
  const msOf = (x: { mean: number }) => (Number.isFinite(x.mean) ? Math.round(x.mean * 1000) : 'n/a');
  const send = histogramDelta(a.gateway, b.gateway, 'groupscope_gateway_kafka_send_duration_seconds');
  const ingest = histogramDelta(a.enricher, b.enricher, 'groupscope_enricher_transaction_duration_seconds', 'source="ingest"');
  const marks = histogramDelta(a.enricher, b.enricher, 'groupscope_enricher_transaction_duration_seconds', 'source="group_identify"');
  const wait = histogramDelta(a.enricher, b.enricher, 'groupscope_enricher_stamp_wait_seconds');
  const insert = histogramDelta(a.writer, b.writer, 'groupscope_writer_insert_duration_seconds', 'table="events"');
  const rows = histogramDelta(a.writer, b.writer, 'groupscope_writer_batch_rows', 'table="events"');
  // every table's inserts of a flush run one after another: their share of the hold is how busy the writer's loop is
  const allInserts = histogramDelta(a.writer, b.writer, 'groupscope_writer_insert_duration_seconds');
  const insertShare = allInserts.count > 0 ? Math.round((100 * allInserts.count * allInserts.mean) / seconds) : 0;
  return (
    `gateway ${perS(send.count)} Kafka sends/s of ${msOf(send)} ms; ` +
    `enricher ${perS(ingest.count)} ingest transactions/s of ${msOf(ingest)} ms (stamp wait ${msOf(wait)} ms), ` +
    `${perS(marks.count)} group-identify transactions/s of ${msOf(marks)} ms, ${perS(transactionRetries)} transaction retries/s; ` +
    `writer ${perS(insert.count)} inserts/s of ${Number.isFinite(rows.mean) ? Math.round(rows.mean) : 'n/a'} events in ${msOf(insert)} ms, ` +
    `inserts into all tables ${insertShare}% of the time`
  );
}

interface Req {
  seen: number;
  status?: number;
  stored?: number;
  sent?: number;
  answered?: number;
}

/** Offers `rate` on `project` for the warm-up and the hold, then waits up to `drainS` for its events to become visible. */
async function runStep(ch: ClickHouse, pipeline: Pipeline, loader: Loader, loaderPid: number | undefined, project: NewKeys, rate: number, s: Settings, drainS: number): Promise<Step> {
  const reqs = new Map<number, Req>();
  const req = (k: number) => reqs.get(k) ?? (reqs.set(k, { seen: 0 }), reqs.get(k)!);
  const refused: Record<string, number> = {};
  const run = loader.run(
    { url: pipeline.url, apiKey: project.api_key, tag: `p${project.project_id}`, rate, perRequest: s.perRequest, inFlight: s.inFlight, durationMs: (s.warmupS + s.holdS) * 1000 },
    (acks) => {
      for (const [k, , sent, answered, status, stored] of acks) {
        Object.assign(req(k), { sent, answered, status, stored });
        if (status !== 200) refused[status] = (refused[status] ?? 0) + 1;
      }
    },
  );
  let sentCount: number | undefined;
  let failed: unknown;
  run.done.then(
    (n) => (sentCount = n),
    (err: unknown) => (failed = err),
  );
  const { t0, interval } = await run.started;
  const holdFrom = t0 + s.warmupS * 1000;
  const holdTo = holdFrom + s.holdS * 1000;
  const due = (k: number) => t0 + k * interval;
  const firstMeasured = Math.ceil((holdFrom - t0) / interval);
  const endMeasured = Math.ceil((holdTo - t0) / interval); // exclusive
  const measured = (k: number) => k >= firstMeasured && k < endMeasured;
  const stored = storedPerRequest(s.perRequest);
  const expected = (k: number) => {
    const r = reqs.get(k);
    return r?.status === undefined ? stored : r.status === 200 ? (r.stored ?? stored) : 0;
  };
  const samples: Weighted = [];
  const thirds: [Weighted, Weighted] = [[], []]; // the samples of the events due in the first and the last third of the hold
  const third = Math.max(1, Math.floor((endMeasured - firstMeasured) / 3));
  let lateSeen = 0;
  const pollMs: number[] = [];
  let low = 0; // every request below it is answered and, if accepted, fully visible
  let previousPoll = t0;

  const poll = async () => {
    while (low < (sentCount ?? Infinity) && reqs.get(low)?.status !== undefined && reqs.get(low)!.seen >= expected(low)) low++;
    // event times are the requests' build times, at or after their due times: only the step's unfinished tail is read
    const from = Math.floor(due(low) - 10_000);
    const at = now();
    // an event first seen by this poll became visible after the previous one started: its midpoint is the estimate
    const seenAt = (previousPoll + at) / 2;
    previousPoll = at;
    const rows = await queryRows<{ k: number; n: number }>(
      ch,
      sql`SELECT toUInt32(splitByChar(':', insert_id)[2]) AS k, count() AS n FROM ${tableRef(ch, 'events')}
        WHERE project_id = ${param(project.project_id, 'UInt32')} AND event_time >= fromUnixTimestamp64Milli(${param(from, 'Int64')}, 'UTC')
        GROUP BY k`,
    );
    pollMs.push(now() - at);
    for (const { k, n } of rows) {
      const r = req(Number(k));
      const fresh = Number(n) - r.seen;
      if (fresh <= 0) continue;
      r.seen = Number(n);
      if (!measured(Number(k))) continue;
      const latency = Math.max(0, seenAt - due(Number(k)));
      samples.push([latency, fresh]);
      if (Number(k) < firstMeasured + third) thirds[0].push([latency, fresh]);
      else if (Number(k) >= endMeasured - third) thirds[1].push([latency, fresh]);
      if (latency > LIMIT_MS) lateSeen += fresh;
    }
  };
  /** the verdict is certain before the hold ends: a request refused, or too many events known to be late */
  const certainlyBad = (t: number) => {
    if (Object.keys(refused).length > 0) return true;
    let late = lateSeen;
    const lastOverdue = Math.min(endMeasured - 1, Math.floor((t - LIMIT_MS - t0) / interval));
    for (let k = firstMeasured; k <= lastOverdue; k++) late += Math.max(0, expected(k) - (reqs.get(k)?.seen ?? 0));
    return late > LATE_SHARE * (endMeasured - firstMeasured) * stored;
  };

  let endCpu: (() => CpuUse) | undefined;
  let cpu: CpuUse | undefined;
  let metricsFrom: Promise<[StageMetrics, number]> | undefined;
  let stages: string | undefined;
  let lag = { enricher: NaN, writer: NaN };
  let stoppedEarly = false;
  let heldUntil = holdTo;
  let drainUntil: number | undefined;
  for (;;) {
    if (failed) throw failed;
    const t = now();
    if (!endCpu && t >= holdFrom) {
      endCpu = cpuMeter({ ...pipeline.pids, loader: loaderPid, bench: process.pid });
      metricsFrom = pipeline.metrics().then((m) => [m, pipeline.transactionRetries()]);
    }
    if (endCpu && !cpu && (t >= holdTo || stoppedEarly)) {
      cpu = endCpu();
      heldUntil = Math.min(t, holdTo);
      const [[before, retries], after, lagNow] = await Promise.all([metricsFrom!, pipeline.metrics(), pipeline.lag().catch(() => lag)]);
      stages = describeStages(before, after, (heldUntil - holdFrom) / 1000, pipeline.transactionRetries() - retries);
      lag = lagNow;
    }
    await poll();
    if (!stoppedEarly && t >= holdFrom && t < holdTo && certainlyBad(now())) {
      stoppedEarly = true;
      loader.stop();
    }
    if (sentCount !== undefined) {
      drainUntil ??= now() + drainS * 1000;
      if (low >= sentCount || now() > drainUntil) break;
    }
    await sleep(s.pollMs);
  }
  if (!cpu && endCpu) cpu = endCpu();

  let notVisible = 0;
  const sendLags: number[] = [];
  const answers: number[] = [];
  let events = 0;
  for (let k = firstMeasured; k < Math.min(endMeasured, sentCount!); k++) {
    const r = req(k);
    if (r.sent !== undefined) sendLags.push(r.sent - due(k));
    if (r.sent !== undefined && r.answered !== undefined) answers.push(r.answered - r.sent);
    const missing = Math.max(0, expected(k) - r.seen);
    events += expected(k);
    if (missing > 0) {
      samples.push([Infinity, missing]);
      notVisible += missing;
    }
  }
  const p95 = weightedPercentile(samples, 95);
  const unweighted = (xs: number[]) => weightedPercentile(xs.map((x) => [x, 1]), 95);
  const sendLagP95 = unweighted(sendLags);
  const v = verdict({
    p95,
    limitMs: LIMIT_MS,
    refused,
    sendLagP95,
    notVisible,
    stoppedEarly,
    thirds: stoppedEarly ? undefined : { first: weightedPercentile(thirds[0], 50), last: weightedPercentile(thirds[1], 50) },
  });
  return {
    rate,
    good: v.good,
    why: v.why,
    p50: weightedPercentile(samples, 50),
    p95,
    p99: weightedPercentile(samples, 99),
    events,
    answerP95: unweighted(answers),
    polls: pollMs.length,
    pollP95: unweighted(pollMs),
    sendLagP95,
    refused,
    notVisible,
    heldS: (heldUntil - holdFrom) / 1000,
    stoppedEarly,
    lag,
    cpu,
    stages,
  };
}

// ---- the search, per number of enrichers

interface Outcome {
  enrichers: number;
  idle?: { cpu: CpuUse; stages: string };
  steps: Step[];
  best?: Step;
  firstBad?: Step;
  stoppedBy: string;
  seconds: number;
}

async function search(ctx: BenchContext, s: Settings, enrichers: number, start: number, registry: ProjectRegistry): Promise<Outcome> {
  const t0 = Date.now();
  const stepS = s.warmupS + s.holdS;
  // one project per step (held steps cut short leave room for a few more), made before the gateway starts: it would
  // notice later ones only within a second
  const projects = Array.from({ length: Math.ceil(s.budgetS / stepS) + 6 }, (_, i) => registry.create(`sustained-${enrichers}-${i}`));
  const prewarm = registry.create(`sustained-${enrichers}-prewarm`);
  const ch = await ctx.clickhouse({ migrate: true });
  // started first, so its own start-up is over before anything is measured
  const loader = Loader.start();
  let pipeline: Pipeline;
  try {
    pipeline = await startPipeline(ctx, ch, enrichers, registry.file);
  } catch (err) {
    await stopChild(loader.child);
    throw err;
  }
  const steps: Step[] = [];
  let stoppedBy = 'precision reached';
  let idle: { cpu: CpuUse; stages: string } | undefined;
  try {
    // an unmeasured load first: JIT in every process, connections, the tables' first parts
    await runStep(ch, pipeline, loader, loader.child.pid, prewarm, Math.max(100, Math.round(start / 200) * 100), { ...s, warmupS: s.prewarmS, holdS: 1 }, 30);
    // then what the warm pipeline costs with nothing to do (the gateway's marks keep the enrichers' transactions going)
    const idleS = s.prewarmS / 2;
    const endIdle = cpuMeter({ ...pipeline.pids, loader: loader.child.pid, bench: process.pid });
    const [m0, r0] = [await pipeline.metrics(), pipeline.transactionRetries()];
    await sleep(idleS * 1000);
    idle = { cpu: endIdle(), stages: describeStages(m0, await pipeline.metrics(), idleS, pipeline.transactionRetries() - r0) };
    console.log(`   ${enrichers} enricher(s), idle for ${idleS} s:\n      cpu: ${describeCpu(idle.cpu)}\n      stages: ${idle.stages}`);
    const searchStart = Date.now();
    for (;;) {
      const probes: Probe[] = steps.map((x) => ({ rate: x.rate, good: x.good }));
      const rate = nextRate(probes, { start, precision: s.precision, min: 250 });
      if (rate === undefined) {
        if (bracket(probes).good === undefined) stoppedBy = 'no good rate down to the minimum';
        break;
      }
      // a step takes its warm-up and hold, and a few seconds to drain
      if ((Date.now() - searchStart) / 1000 + stepS + 3 > s.budgetS) {
        stoppedBy = `time budget (${s.budgetS} s) reached`;
        break;
      }
      const project = projects[steps.length];
      if (!project) {
        stoppedBy = 'out of projects';
        break;
      }
      // a good rate drains in a few seconds; waiting past the budget only helps a bad one, which no later step needs
      const left = s.budgetS - (Date.now() - searchStart) / 1000 - stepS;
      const step = await runStep(ch, pipeline, loader, loader.child.pid, project, rate, s, Math.min(s.drainS, Math.max(10, left)));
      steps.push(step);
      console.log(`   ${enrichers} enricher(s), ${rate} events/s: ${describeStep(step)}`);
      if (step.notVisible > 0) {
        // a backlog that outlived the drain would be measured against the next rate
        stoppedBy = `the backlog of ${rate} events/s did not drain in time`;
        break;
      }
    }
  } finally {
    loader.stop();
    await stopChild(loader.child);
    await pipeline.stop();
  }
  const { good, bad } = bracket(steps);
  return {
    enrichers,
    idle,
    steps,
    best: steps.find((x) => x.good && x.rate === good),
    firstBad: steps.find((x) => !x.good && x.rate === bad),
    stoppedBy,
    seconds: Math.round((Date.now() - t0) / 1000),
  };
}

const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x)}` : 'never');

function describeStep(x: Step): string {
  const verdictText = x.good ? 'good' : `BAD: ${x.why}`;
  return (
    `p50 ${ms(x.p50)} ms, p95 ${ms(x.p95)} ms over ${x.events} events in ${round(x.heldS, 1)} s (answers p95 ${ms(x.answerP95)} ms, polls p95 ${ms(x.pollP95)} ms; ` +
    `lag at the end: enricher ${x.lag.enricher}, writer ${x.lag.writer} records) -> ${verdictText}` +
    `${x.cpu ? `\n      cpu: ${describeCpu(x.cpu)}` : ''}${x.stages ? `\n      stages: ${x.stages}` : ''}`
  );
}

function stepSummary(x: Step): string {
  return `${x.rate}: ${x.good ? 'good' : 'bad'} p95 ${ms(x.p95)} ms`;
}

async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const s = settings(ctx.quick);
  const registry = new ProjectRegistry(join(ctx.tmpDir, 'sustained-projects.json'));
  const outcomes: Outcome[] = [];
  let start = s.start;
  try {
    for (const enrichers of s.enrichers) {
      const o = await search(ctx, s, enrichers, start, registry);
      outcomes.push(o);
      // the next configuration's search starts where this one ended, which saves the steps up to it
      if (o.best) start = o.best.rate;
    }
  } finally {
    killTracked();
  }
  const java = await kafkaBaselinesIfMeasured();
  return outcomes.map((o): BenchResult => {
    const value = o.best?.rate ?? 0;
    return {
      name:
        `end-to-end sustained events/s, gateway -> ${o.enrichers === 1 ? 'one enricher process' : `${o.enrichers} enricher processes (one group)`} -> writer, ` +
        `ingest -> queryable p95 <= ${LIMIT_MS / 1000} s, nothing refused (${s.perRequest}-event /batch requests, ${s.inFlight} in flight; each rate held ${s.holdS} s after ${s.warmupS} s)`,
      figure: { value, unit: 'events/s' },
      ...(java
        ? {
            baseline: { name: 'Kafka Java ProducerPerformance, 300 B records', value: round(java.produce, 0), unit: 'records/s' },
            ratio: round(value / java.produce, 2),
            ratios: { java_producer: round(value / java.produce, 2), kafkajs_pipelined: round(value / java.kafkajsPipelined, 2) },
          }
        : {}),
      goal: '>= 40k events/s',
      extra: {
        p50_ms: o.best ? round(o.best.p50, 0) : 'none',
        p95_ms: o.best ? round(o.best.p95, 0) : 'none',
        p99_ms: o.best ? round(o.best.p99, 0) : 'none',
        first_bad_rate: o.firstBad?.rate ?? 'none',
        first_bad_p95_ms: o.firstBad ? (Number.isFinite(o.firstBad.p95) ? round(o.firstBad.p95, 0) : 'never') : 'none',
        first_bad_why: o.firstBad?.why ?? 'none',
        search_stopped_by: o.stoppedBy,
        steps: o.steps.map(stepSummary).join('; '),
        cpu_at_best: o.best?.cpu ? describeCpu(o.best.cpu) : 'n/a',
        stages_at_best: o.best?.stages ?? 'n/a',
        cpu_at_first_bad: o.firstBad?.cpu ? describeCpu(o.firstBad.cpu) : 'n/a',
        stages_at_first_bad: o.firstBad?.stages ?? 'n/a',
        cpu_idle: o.idle ? describeCpu(o.idle.cpu) : 'n/a',
        stages_idle: o.idle?.stages ?? 'n/a',
        seconds: o.seconds,
        // the services' settings this run changed from their defaults (they read them from the environment)
        service_settings: Object.entries(process.env)
          .filter(([k]) => /^(GATEWAY|ENRICHER|WRITER)_/.test(k))
          .map(([k, v]) => `${k}=${v}`)
          .join(' ') || 'defaults',
      },
    };
  });
}

const bench: Bench = { name: 'sustained', run };
export default bench;
