// "Accepted means storable", through the whole pipeline (gateway -> Kafka -> enricher -> writer -> ClickHouse -> query
// API): the lone-surrogate event, the year-3000 event, invalid UTF-8 bytes and a generated corpus of hostile strings
// and values (fast-check) are each either refused with Amplitude's 400 index list or stored, repaired as documented
// (U+FFFD for a lone surrogate or invalid bytes), and queryable. Nothing the gateway accepted reaches the writer's
// dead letters, and canary events sent after all of it are queryable within seconds: no input stops a partition.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { param, queryRows, sql, trusted } from '@groupscope/clickhouse';
import { readTopicToEnd, withAdmin } from '@groupscope/kafka';
import { silentLogger } from '@groupscope/logger';
import { ProjectRegistry } from '@groupscope/projects';
import { waitFor } from '@groupscope/testing';
import { startStack, type Stack } from './stack';

jest.setTimeout(300_000);

const dir = mkdtempSync(join(tmpdir(), 'gs-hostile-'));
const projectsFile = join(dir, 'projects.json');
const project = new ProjectRegistry(projectsFile).create('hostile');
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ projectsFile, dataDir: dir });
});
afterAll(async () => {
  await stack?.stop();
});

/** The gateway's repair, restated: a lone surrogate becomes U+FFFD. */
const repaired = (s: string) => s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
/** A value as it arrives through JSON text (NaN and Infinity become null) with its strings repaired. */
function throughJson(v: unknown): unknown {
  const walk = (x: unknown): unknown =>
    typeof x === 'string' ? repaired(x) : Array.isArray(x) ? x.map(walk) : x && typeof x === 'object' ? Object.fromEntries(Object.entries(x).map(([k, y]) => [repaired(k), walk(y)])) : x;
  return walk(JSON.parse(JSON.stringify(v) ?? 'null'));
}
/** A property bag as the writer stores it: strings as they are, anything else as JSON text, null left out. */
const bagOf = (props: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(props).filter(([, v]) => v !== null).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));

async function post(path: string, body: string | Buffer) {
  const res = await fetch(`${stack.gatewayUrl}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const batch = (events: unknown[]) => JSON.stringify({ api_key: project.api_key, events });

interface StoredEvent {
  event_type: string;
  user_id: string;
  event_properties: Record<string, string>;
}
async function stored(insertIds: string[]): Promise<Map<string, StoredEvent>> {
  const rows = await queryRows<StoredEvent & { insert_id: string }>(
    stack.ch,
    sql`SELECT insert_id, event_type, user_id, event_properties FROM ${trusted(stack.ch.table('events'))}
        WHERE project_id = ${param(project.project_id, 'UInt32')} AND insert_id IN ${param(insertIds, 'Array(String)')}`,
  );
  return new Map(rows.map(({ insert_id, ...r }) => [insert_id, r]));
}

const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
/** Events of `eventType` from yesterday to tomorrow (a run near midnight, events dated an hour ahead) through the query API. */
async function queried(eventType: string): Promise<number> {
  const q = new URLSearchParams({ e: JSON.stringify({ event_type: eventType }), start: ymd(Date.now() - 86_400_000), end: ymd(Date.now() + 86_400_000), m: 'totals' });
  const res = await fetch(`${stack.queryUrl}/api/2/events/segmentation?${q}`, {
    headers: { authorization: `Basic ${Buffer.from(`${project.api_key}:${project.secret_key}`).toString('base64')}` },
  });
  if (res.status !== 200) throw new Error(`segmentation answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { data: { seriesCollapsed: { value: number }[][] } };
  return body.data.seriesCollapsed[0]?.[0]?.value ?? 0;
}

/** Strings a client may send: any UTF-16 units (lone surrogates included), any code points, and known troublemakers. */
const hostile = fc.oneof(
  fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 12 }).map((units) => String.fromCharCode(...units)),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
  fc.constantFrom(
    '\ud800', '\udfff', 'a\udbffb', '\udc00\ud800', '\u0000', 'nul\u0000inside', "x'); DROP TABLE events; --", '\\', '"', '\\u0000', '\u2028\u2029',
    '\ufeff', '\uffff\ufffe', '__proto__', 'constructor', '{p0:String}', '${x}', '%00', '\r\n\t', 'null', '😀', '😀'.slice(0, 1), '\u007f\u0085',
    'a'.repeat(1025),
  ),
);
const sample = fc.record({
  type: hostile,
  user: hostile,
  key: hostile,
  value: fc.oneof(hostile, fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(hostile, { maxLength: 3 })),
  groupValue: hostile,
  time: fc.option(fc.oneof(fc.constantFrom(Date.UTC(3000, 0, 1), Date.UTC(1999, 0, 1), -1, 1.5, 2 ** 62), fc.integer({ min: -3_600_000, max: 3_600_000 }).map((d) => Date.now() + d)), { nil: undefined }),
});

describe('hostile input', () => {
  it('stores the lone-surrogate event repaired, refuses the year-3000 event, repairs invalid UTF-8 bytes', async () => {
    // the JSON text holds the escape "\ud800" (JSON.stringify writes a lone surrogate that way)
    const lone = await post(
      '/2/httpapi',
      batch([
        { user_id: 'user-lone-\ud800', event_type: 'lone \ud800 surrogate', insert_id: 'lone-1', event_properties: { 'k\udc00': 'v\ud800' } },
        { user_id: 'user-lone-\ud800', event_type: '$groupidentify', insert_id: 'lone-g', groups: { 'team\ud800': 'blue\udfff' }, group_properties: { $set: { 'p\ud800': 'x\udc00' } } },
      ]),
    );
    expect(lone).toMatchObject({ status: 200, body: { code: 200, events_ingested: 2 } });
    const year3000 = await post('/2/httpapi', batch([{ user_id: 'user-3000', event_type: 'from the future', time: Date.UTC(3000, 0, 1), insert_id: 'y3000' }]));
    expect(year3000).toEqual({
      status: 400,
      body: { code: 400, error: 'Invalid field values on some events', events_with_invalid_fields: { time: [0] }, events_with_missing_fields: {}, events_with_invalid_id_lengths: {} },
    });
    const bytes = Buffer.concat([
      Buffer.from(`{"api_key":"${project.api_key}","events":[{"user_id":"user-bytes","insert_id":"bytes-1","event_type":"bad `),
      Buffer.from([0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80]),
      Buffer.from(' bytes"}]}'),
    ]);
    expect((await post('/batch', bytes)).status).toBe(200);

    const rows = await waitFor(async () => {
      const s = await stored(['lone-1', 'bytes-1', 'y3000']);
      return s.size === 2 && s;
    }, { timeoutMs: 60_000, message: 'both stored' });
    expect(rows.get('lone-1')).toEqual({ event_type: 'lone \ufffd surrogate', user_id: 'user-lone-\ufffd', event_properties: { 'k\ufffd': 'v\ufffd' } });
    expect(rows.get('bytes-1')?.event_type).toBe('bad \ufffd\ufffd(\ufffd\ufffd\ufffd bytes');
    expect(await waitFor(() => queried('lone \ufffd surrogate'))).toBe(1);
    const group = await waitFor(async () => {
      const g = await queryRows<{ group_type: string; group_value: string; properties: Record<string, string> }>(
        stack.ch,
        sql`SELECT group_type, group_value, properties FROM ${trusted(stack.ch.table('groups'))} WHERE project_id = ${param(project.project_id, 'UInt32')} AND startsWith(group_type, 'team')`,
      );
      return g.length > 0 && g;
    }, { timeoutMs: 60_000, message: 'the group identify stored' });
    expect(group).toEqual([{ group_type: 'team\ufffd', group_value: 'blue\ufffd', properties: { 'p\ufffd': 'x\ufffd' } }]);
  });

  it('either refuses each generated hostile event with the 400 index list or stores and serves it, and never stalls', async () => {
    const samples = fc.sample(sample, { numRuns: 80, seed: 20261129 });
    const accepted: { insertId: string; type: string; user: string; props: Record<string, string>; group: [string, string]; repaired: boolean }[] = [];
    let refused = 0;
    for (const [i, s] of samples.entries()) {
      const insertId = `hostile-${i}`;
      const type = `h${i} ${s.type}`;
      const user = `user-${s.user}`;
      // one group type: a project tracks at most 5, further ones are dropped by design (ingest-api.md, Limits)
      const event: Record<string, unknown> = { user_id: user, event_type: type, insert_id: insertId, event_properties: { [s.key]: s.value }, groups: { org: s.groupValue } };
      if (s.time !== undefined) event.time = s.time;
      // a group identify of the same hostile group rides along in the same request
      const gi = { user_id: user, event_type: '$groupidentify', insert_id: `${insertId}-g`, groups: { org: s.groupValue }, group_properties: { $set: { [s.key]: s.value } } };
      const res = await post('/2/httpapi', batch([event, gi]));
      if (res.status === 400) {
        refused++;
        // Amplitude's shape: the failing events by index, under the field at fault
        expect(res.body).toMatchObject({ code: 400, error: 'Invalid field values on some events' });
        const lists = ['events_with_invalid_fields', 'events_with_missing_fields', 'events_with_invalid_id_lengths'].flatMap((k) => Object.values(res.body[k] as Record<string, number[]>));
        expect(lists.flat().length).toBeGreaterThan(0);
        expect(lists.flat().every((index) => index === 0 || index === 1)).toBe(true);
        continue;
      }
      expect(res).toMatchObject({ status: 200, body: { code: 200, events_ingested: 2 } });
      accepted.push({
        insertId,
        type: repaired(type),
        user: repaired(user),
        props: bagOf(throughJson({ [s.key]: s.value }) as Record<string, unknown>),
        group: ['org', repaired(s.groupValue)],
        repaired: repaired(type) !== type || repaired(user) !== user || repaired(s.key) !== s.key,
      });
    }
    // the corpus exercises both outcomes
    expect(accepted.length).toBeGreaterThan(20);
    expect(accepted.filter((a) => a.repaired).length).toBeGreaterThan(3);
    expect(refused).toBeGreaterThan(5);

    const rows = await waitFor(async () => {
      const s = await stored(accepted.map((a) => a.insertId));
      return s.size === accepted.length && s;
    }, { timeoutMs: 120_000, message: 'every accepted hostile event stored' });
    for (const a of accepted) expect({ id: a.insertId, ...rows.get(a.insertId) }).toEqual({ id: a.insertId, event_type: a.type, user_id: a.user, event_properties: a.props });
    // the group identify of each: its group is stored under the repaired type and value
    const groups = await waitFor(async () => {
      const g = await queryRows<{ t: string; v: string }>(
        stack.ch,
        sql`SELECT DISTINCT group_type AS t, group_value AS v FROM ${trusted(stack.ch.table('groups'))} WHERE project_id = ${param(project.project_id, 'UInt32')}`,
      );
      const have = new Set(g.map((r) => JSON.stringify([r.t, r.v])));
      return accepted.every((a) => have.has(JSON.stringify(a.group))) && have;
    }, { timeoutMs: 60_000, message: 'every accepted group identify stored' });
    expect(groups.size).toBeGreaterThan(0);
    // and queryable by its (repaired) name
    for (const a of accepted.slice(0, 10)) expect(await queried(a.type)).toBe(1);

    // canaries sent after everything: stored and queryable within seconds
    const canary = `canary ${Date.now()}`;
    expect((await post('/2/httpapi', batch(Array.from({ length: 5 }, (_, i) => ({ user_id: `canary-user-${i}`, event_type: canary, insert_id: `canary-${i}` }))))).status).toBe(200);
    await waitFor(async () => (await queried(canary)) === 5, { timeoutMs: 60_000, message: 'canaries queryable' });

    // nothing the gateway accepted was refused downstream
    const letters: string[] = [];
    await withAdmin(stack.kafka.kafka, (admin) =>
      readTopicToEnd({ kafka: stack.kafka.kafka, admin, topic: stack.kafka.topics.dlq, logger: silentLogger, onRecord: (r) => void letters.push(`${r.headers['dlq-stage']}/${r.headers['dlq-reason']}`) }),
    );
    expect(letters).toEqual([]);
  });
});
