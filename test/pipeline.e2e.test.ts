// The whole pipeline as users run it: the official Amplitude SDK -> gateway -> Kafka -> enricher -> Kafka ->
// writer -> ClickHouse (the test server, over HTTP) -> query API. Proves the product's central claims end to end: user-level groups
// persist, group properties are stamped on later events, insert_id de-duplication holds, and an account converts
// in a funnel when different members complete different steps.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInstance, Identify } from '@amplitude/analytics-node';
import { queryRows, sql, param, trusted } from '@groupscope/clickhouse';
import { ProjectRegistry } from '@groupscope/projects';
import { waitFor } from '@groupscope/testing';
import { startStack, type Stack } from './stack';

jest.setTimeout(180_000);

const dir = mkdtempSync(join(tmpdir(), 'gs-pipeline-'));
const projectsFile = join(dir, 'projects.json');
const registry = new ProjectRegistry(projectsFile);
const project = registry.create('pipeline');
const other = registry.create('other');

let stack: Stack;
let ch: Stack['ch'];
let gatewayUrl = '';
let queryUrl = '';

beforeAll(async () => {
  stack = await startStack({ projectsFile, dataDir: dir });
  ({ ch, gatewayUrl, queryUrl } = stack);
});

afterAll(async () => {
  await stack?.stop();
});

const count = async (table: string, where = sql`1`) =>
  Number(
    (
      await queryRows<{ n: number }>(
        ch,
        sql`SELECT count() AS n FROM ${trusted(ch.table(table))} WHERE project_id = ${param(project.project_id, 'UInt32')} AND ${where}`,
      )
    )[0]!.n,
  );

// the parts of the query API's replies this test reads
interface ApiBody {
  data: { seriesCollapsed: { value: number }[][] } & { cumulativeRaw: number[] }[];
}

async function api(path: string, params: Record<string, string> | [string, string][], keys = project) {
  const url = `${queryUrl}${path}?${new URLSearchParams(params)}`;
  const res = await fetch(url, { headers: { authorization: `Basic ${Buffer.from(`${keys.api_key}:${keys.secret_key}`).toString('base64')}` } });
  return { status: res.status, body: (await res.json()) as ApiBody };
}

const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
// yesterday to today: events are stamped a minute in the past, which may be yesterday just after midnight
const start = ymd(Date.now() - 86_400_000);
const end = ymd(Date.now());

describe('SDK to query API', () => {
  it('stamps user-level groups and group properties, de-duplicates by insert_id, and counts by account', async () => {
    const amp = createInstance();
    await amp.init(project.api_key, { serverUrl: `${gatewayUrl}/2/httpapi`, flushIntervalMillis: 20, logLevel: 0 }).promise;

    // alice and bob belong to acme (user-level); acme is on the trial plan
    await amp.setGroup('company', 'acme', { user_id: 'alice@acme.test' }).promise;
    await amp.setGroup('company', 'acme', { user_id: 'bob@acme.test' }).promise;
    const gi = await amp.groupIdentify('company', 'acme', new Identify().set('plan', 'trial'), { user_id: 'alice@acme.test' }).promise;
    expect(gi.code).toBe(200);
    // the group change must be applied before later events are processed, so wait until it is stored
    await waitFor(async () => (await count('groups', sql`group_value = 'acme'`)) === 1, { message: 'acme properties stored' });

    const t0 = Date.now() - 60_000;
    // alice sends an invoice; bob (another member) receives the payment; carol (globex, event-level) only invoices
    await amp.track('Invoice Sent', { amount: 120 }, { user_id: 'alice@acme.test', time: t0 }).promise;
    await amp.track('Payment Received', { amount: 120 }, { user_id: 'bob@acme.test', time: t0 + 5_000 }).promise;
    await amp.track('Invoice Sent', { amount: 50 }, { user_id: 'carol@globex.test', time: t0 + 1_000, groups: { company: 'globex' } } as never).promise;

    // a retried request with the same insert_id is accepted but stored once
    const dup = { api_key: project.api_key, events: [{ user_id: 'alice@acme.test', event_type: 'Report Exported', insert_id: 'dup-1', time: t0 + 2_000 }] };
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${gatewayUrl}/2/httpapi`, { method: 'POST', body: JSON.stringify(dup) });
      expect(((await res.json()) as { code: number }).code).toBe(200);
    }

    await waitFor(async () => (await count('events')) >= 4, { message: 'events written' });
    // a last event after everything: once it is stored, the duplicate (sent before it, same user) was processed
    await amp.track('Sentinel', {}, { user_id: 'alice@acme.test', time: t0 + 3_000 }).promise;
    await waitFor(async () => (await count('events', sql`event_type = 'Sentinel'`)) === 1, { message: 'sentinel written' });

    expect(await count('events')).toBe(5);
    expect(await count('events', sql`insert_id = 'dup-1'`)).toBe(1);

    const rows = await queryRows<{ user_id: string; event_type: string; company: string[]; stamped: string }>(
      ch,
      sql`SELECT user_id, event_type, groups['company'] AS company, group_properties AS stamped
          FROM ${trusted(ch.table('events'))} WHERE project_id = ${param(project.project_id, 'UInt32')} ORDER BY event_time`,
    );
    const byType = Object.fromEntries(rows.map((r) => [`${r.event_type}:${r.user_id}`, r]));
    expect(byType['Invoice Sent:alice@acme.test']!.company).toEqual(['acme']);
    expect(byType['Payment Received:bob@acme.test']!.company).toEqual(['acme']);
    expect(byType['Invoice Sent:carol@globex.test']!.company).toEqual(['globex']);
    expect(JSON.parse(byType['Payment Received:bob@acme.test']!.stamped)).toEqual({ company: { acme: { plan: 'trial' } } });

    // query API: distinct accounts that sent an invoice today, and the account-level funnel
    await waitFor(async () => (await count('event_groups')) >= 5, { message: 'event_groups written' });
    const seg = await api('/api/2/events/segmentation', {
      e: JSON.stringify({ event_type: 'Invoice Sent' }),
      start,
      end,
      countGroup: 'company',
    });
    expect(seg.status).toBe(200);
    expect(seg.body.data.seriesCollapsed[0]![0]!.value).toBe(2);

    // a single step is not a funnel
    const oneStep = await api('/api/2/funnels', { e: JSON.stringify({ event_type: 'Invoice Sent' }), start, end, countGroup: 'company' });
    expect(oneStep.status).toBe(400);
    // `e` repeats, one per step
    const steps: [string, string][] = [
      ['e', JSON.stringify({ event_type: 'Invoice Sent' })],
      ['e', JSON.stringify({ event_type: 'Payment Received' })],
      ['start', start],
      ['end', end],
    ];
    const byAccount = await api('/api/2/funnels', [...steps, ['countGroup', 'company']]);
    expect(byAccount.status).toBe(200);
    // acme converts through two different members; globex does not
    expect(byAccount.body.data[0]!.cumulativeRaw).toEqual([2, 1]);
    // by user nobody converts: no single person did both steps
    const byUser = await api('/api/2/funnels', steps);
    expect(byUser.body.data[0]!.cumulativeRaw).toEqual([2, 0]);

    // another project sees none of it
    const otherSeg = await api('/api/2/events/segmentation', { e: JSON.stringify({ event_type: 'Invoice Sent' }), start, end }, other);
    expect(otherSeg.status).toBe(200);
    expect(otherSeg.body.data.seriesCollapsed[0]![0]!.value).toBe(0);
  });
});
