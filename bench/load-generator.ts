// The sustained bench's load generator, a process of its own (started with an IPC channel by
// 60-sustained.bench.ts), so building and sending requests never shares an event loop with what is measured.
// It offers a fixed rate of /batch requests on a schedule (request k is due at t0 + k * interval) over a few
// keep-alive connections; a request whose turn comes while every connection is busy waits and is sent late (its
// latency still counts from its due time, so a gateway that stalls the generator cannot hide it). Events of
// request k carry insert_ids `<tag>:<k>:<j>`, so the bench can count per request what is visible; 1 in 100 events
// is a $groupidentify (not stored as an event), the rest Amplitude-shaped events of 5000 users in 500 companies.
// It exits when its parent goes away.
import { keepAlivePoster, sampleEvent } from './load';

export interface LoadPlan {
  url: string;
  apiKey: string;
  /** insert_id prefix, unique per plan */
  tag: string;
  /** offered events/s */
  rate: number;
  perRequest: number;
  /** most requests in flight (keep-alive connections) */
  inFlight: number;
  durationMs: number;
}

export type ToLoader = { type: 'run'; plan: LoadPlan } | { type: 'stop' };

/** one answered request: its number, due and send times, when the answer came (ms since the epoch), its status, the events it stores */
export type Ack = [k: number, due: number, sent: number, answered: number, status: number, events: number];

export type FromLoader =
  | { type: 'started'; t0: number; interval: number }
  | { type: 'acks'; acks: Ack[] }
  | { type: 'done'; requests: number }
  | { type: 'error'; message: string };

/** 1 in this many events of a request is a group identify */
export const GROUP_IDENTIFY_EVERY = 100;

/** How many events of a request of `perRequest` the events table stores (group identifies are not events). */
export const storedPerRequest = (perRequest: number) => perRequest - Math.floor(perRequest / GROUP_IDENTIFY_EVERY);

/** A clock shared with the parent: both read the same wall clock at sub-millisecond resolution. */
export const now = () => performance.timeOrigin + performance.now();

function body(plan: LoadPlan, k: number): Buffer {
  const time = Math.round(now());
  const events: object[] = [];
  for (let j = 0; j < plan.perRequest; j++) {
    const i = k * plan.perRequest + j;
    const insert_id = `${plan.tag}:${k}:${j}`;
    const e = sampleEvent(i);
    events.push(
      j % GROUP_IDENTIFY_EVERY === GROUP_IDENTIFY_EVERY - 1
        ? { user_id: e.user_id, event_type: '$groupidentify', insert_id, time, groups: e.groups, group_properties: { $set: { plan: ['free', 'pro', 'enterprise'][k % 3], seats: i % 300 } } }
        : { ...e, insert_id, time },
    );
  }
  return Buffer.from(JSON.stringify({ api_key: plan.apiKey, events }));
}

const send = (m: FromLoader) => process.send?.(m);
let stopping = false;
let wake: (() => void) | undefined;
const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    wake = () => {
      clearTimeout(t);
      resolve();
    };
  });

async function run(plan: LoadPlan): Promise<void> {
  const poster = keepAlivePoster(plan.url, plan.inFlight);
  const interval = (plan.perRequest * 1000) / plan.rate;
  const stored = storedPerRequest(plan.perRequest);
  const t0 = now() + 50;
  send({ type: 'started', t0, interval });
  let acks: Ack[] = [];
  const flush = () => {
    if (acks.length > 0) send({ type: 'acks', acks });
    acks = [];
  };
  const flusher = setInterval(flush, 100);
  const inFlight = new Set<Promise<void>>();
  let k = 0;
  try {
    while (!stopping) {
      const due = t0 + k * interval;
      if (due >= t0 + plan.durationMs) break;
      if (due - now() > 1) await sleep(due - now());
      while (inFlight.size >= plan.inFlight && !stopping) await Promise.race(inFlight);
      if (stopping) break;
      const n = k++;
      const sent = now();
      const p: Promise<void> = poster
        .post(body(plan, n))
        .then(
          (status) => void acks.push([n, due, sent, now(), status, status === 200 ? stored : 0]),
          () => void acks.push([n, due, sent, now(), 0, 0]),
        )
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  } finally {
    clearInterval(flusher);
    flush();
    poster.close();
  }
  send({ type: 'done', requests: k });
}

process.on('disconnect', () => process.exit(0));
process.on('message', (m: ToLoader) => {
  if (m.type === 'stop') {
    stopping = true;
    wake?.();
    return;
  }
  stopping = false;
  run(m.plan).catch((err: unknown) => send({ type: 'error', message: String((err as Error)?.stack ?? err) }));
});
