// A dynamic group property through the whole pipeline: events sent to the gateway -> enricher -> writer ->
// ClickHouse; the property computed through the query API and published as a group identify; the enricher applies
// it and the writer stores it in the group's current properties and its property history; an event sent afterwards
// carries it, stamped at ingest, while the events before it keep what they were stamped with.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { param, queryRows, sql, tableRef, type Sql } from '@groupscope/clickhouse';
import { ProjectRegistry } from '@groupscope/projects';
import { DAY, HOUR, waitFor } from '@groupscope/testing';
import { startStack, type Stack } from './stack';

jest.setTimeout(180_000);

const NAME = 'Last 7 Day Active Users';
const dir = mkdtempSync(join(tmpdir(), 'gs-dynamic-e2e-'));
const projectsFile = join(dir, 'projects.json');
const project = new ProjectRegistry(projectsFile).create('dynamic');
const auth = `Basic ${Buffer.from(`${project.api_key}:${project.secret_key}`).toString('base64')}`;

let stack: Stack;

beforeAll(async () => {
  // runs happen when the test asks for them, not when the schedule finds the property due
  stack = await startStack({ projectsFile, dataDir: dir, env: { DYNAMIC_PROPERTIES_SCHEDULER: 'false' } });
});

afterAll(async () => {
  await stack?.stop();
});

let sent = 0;
const member = (name: string) => `${name}@acme.test`;
/** Events of acme's members, through the gateway's HTTP API. */
async function send(events: { user: string; at: number; type?: string }[]): Promise<void> {
  const body = {
    api_key: project.api_key,
    events: events.map((e) => ({ user_id: member(e.user), event_type: e.type ?? 'Login', time: e.at, insert_id: `dyn-${++sent}`, groups: { company: 'acme' } })),
  };
  const res = await fetch(`${stack.gatewayUrl}/2/httpapi`, { method: 'POST', body: JSON.stringify(body) });
  expect(await res.json()).toMatchObject({ code: 200, events_ingested: events.length });
}

/** The parts of the query API's replies this test reads. */
interface ApiBody {
  id?: string;
  groups?: number;
  group?: { properties: Record<string, unknown> };
  matches?: { group_value: string }[];
}

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: ApiBody }> {
  const res = await fetch(`${stack.queryUrl}${path}`, {
    method,
    headers: { authorization: auth, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as ApiBody };
}

const rows = <T>(q: Sql) => queryRows<T>(stack.ch, q);
const inProject = () => sql`project_id = ${param(project.project_id, 'UInt32')}`;

it('is stamped on events sent after it was written, and kept in property history', async () => {
  const ch = stack.ch;
  const now = Date.now();
  // acme: alice and bob active in the last 7 days, carol 9 days ago -> 2
  await send([
    { user: 'alice', at: now - 2 * HOUR },
    { user: 'bob', at: now - 3 * DAY },
    { user: 'alice', at: now - 4 * DAY },
    { user: 'carol', at: now - 9 * DAY },
  ]);
  await waitFor(
    async () => Number((await rows<{ n: number }>(sql`SELECT count() AS n FROM ${tableRef(ch, 'event_groups')} WHERE ${inProject()}`))[0]?.n) === 4,
    { timeoutMs: 60_000, message: 'the four events in event_groups' },
  );
  // the group type is known through group_activity, which a materialized view fills from the same INSERT: its part
  // can become visible a moment after event_groups' part (a CI run on a busy machine got unknown_group_type here)
  await waitFor(
    async () => Number((await rows<{ n: number }>(sql`SELECT count() AS n FROM ${tableRef(ch, 'group_activity')} WHERE ${inProject()} AND group_type = 'company'`))[0]?.n) > 0,
    { timeoutMs: 60_000, message: 'acme in group_activity' },
  );

  const created = await api('POST', '/api/3/dynamic-properties', { group_type: 'company', name: NAME, metric: { e: { event_type: '_active' }, m: 'uniques' }, window: { type: 'rolling', days: 7 } });
  expect(created).toMatchObject({ status: 201 });
  const run = await api('POST', `/api/3/dynamic-properties/${created.body.id!}/run`);
  expect(run.status).toBe(200);
  expect(run.body.groups).toBe(1);

  // the enricher applied the $set and the writer stored the change: current properties and history
  const history = await waitFor(
    async () => {
      const h = await rows<{ value: string; removed: number }>(
        sql`SELECT value, removed FROM ${tableRef(ch, 'group_property_history')}
            WHERE ${inProject()} AND group_type = 'company' AND group_value = 'acme' AND property = ${param(NAME, 'String')}`,
      );
      return h.length > 0 ? h : undefined;
    },
    { timeoutMs: 60_000, message: 'the property in group_property_history' },
  );
  expect(history).toEqual([{ value: '2', removed: 0 }]);
  const account = await api('GET', '/api/2/groups/company/acme');
  expect(account.body.group?.properties).toEqual({ [NAME]: 2 });
  // the account search finds it by the value it holds
  const found = await api('GET', `/api/2/groups/search?group_type=company&q=${encodeURIComponent(`"${NAME}" = 2`)}`);
  expect(found.body.matches?.map((m) => m.group_value)).toEqual(['acme']);

  // an event after the property was written carries it, as stamped at ingest
  await send([{ user: 'dave', at: Date.now(), type: 'Invoice Sent' }]);
  const stamped = await waitFor(
    async () =>
      (
        await rows<{ v: string; all: string }>(
          sql`SELECT group_properties[${param(NAME, 'String')}] AS v, all_group_properties AS all FROM ${tableRef(ch, 'event_groups')}
              WHERE ${inProject()} AND user_id = ${param(member('dave'), 'String')}`,
        )
      )[0],
    { timeoutMs: 60_000, message: "dave's event in event_groups" },
  );
  expect(stamped.v).toBe('2');
  expect(JSON.parse(stamped.all)).toEqual({ company: { acme: { [NAME]: 2 } } });
  // events before it do not (history is never rewritten)
  const before = await rows<{ v: string }>(
    sql`SELECT group_properties[${param(NAME, 'String')}] AS v FROM ${tableRef(ch, 'event_groups')}
        WHERE ${inProject()} AND user_id = ${param(member('alice'), 'String')}`,
  );
  expect(before.map((r) => r.v)).toEqual(['', '']);
});
