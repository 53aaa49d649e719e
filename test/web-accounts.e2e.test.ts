// The Accounts list and the account page's health cards in headless Chromium against the real stack (gateway ->
// Kafka -> enricher -> writer -> ClickHouse -> query API serving the built UI), with generated B2B data sent through
// the gateway and a health score run through the group-identify path. What a user does, checked against what the
// query API answers for the same request: sort the list by a usage metric, filter it by a property, export it as
// CSV (every row of the filtered list), open an account and read its health card. Screenshots go to
// .data/screenshots/.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ProjectRegistry } from '@groupscope/projects';
import { waitFor } from '@groupscope/testing';
import { dataSet, toGateway } from '@groupscope/datagen';
import { launchBrowser, type Page, type TestBrowser } from './browser';
import { startStack, type Stack } from './stack';
import { choose, queryApi, shot, signIn } from './web-helpers';

jest.setTimeout(600_000);

const root = resolve(__dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'gs-web-accounts-'));
const projectsFile = join(dir, 'projects.json');
const registry = new ProjectRegistry(projectsFile);
const project = registry.create('web-accounts');
const data = dataSet({ events: 4000, days: 30, accounts: 30, seed: 11 });
const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');

let stack: Stack | undefined;
let browser: TestBrowser;
let page: Page;
let queryUrl = '';
const api = queryApi(() => queryUrl, project);

interface ListReply {
  total: number;
  groups: { group_value: string; properties: Record<string, unknown>; metrics: Record<string, number | null> }[];
}

/** The rows the list table shows: each row's group value and its cells' first text (a metric's number, not its change). */
async function shownRows(): Promise<{ value: string; cells: string[] }[]> {
  const rows = page.getByRole('table', { name: 'Accounts list' }).locator('tbody tr');
  return rows.evaluateAll((trs) =>
    trs.map((tr) => {
      const tds = [...tr.querySelectorAll('td')];
      return { value: tds[0]?.querySelector('a')?.textContent ?? '', cells: tds.map((td) => td.querySelector('p')?.textContent ?? td.textContent ?? '') };
    }),
  );
}

/** Waits until the list on screen answers the URL's list (the previous one may still show, dimmed). */
async function listReady(check: (search: URLSearchParams) => boolean): Promise<void> {
  await waitFor(
    async () => {
      if (!check(new URL(page.url()).searchParams)) return false;
      const busy = await page.locator('[aria-busy]').first().getAttribute('aria-busy');
      return busy === 'false' && (await page.getByRole('table', { name: 'Accounts list' }).count()) > 0;
    },
    { timeoutMs: 90_000, intervalMs: 200, message: 'the list of the URL on screen' },
  );
}

/** The list API's answer for the list the page's URL names (its parameters, less the screen's own). */
async function apiListOf(extra: [string, string][] = []): Promise<ListReply> {
  const search = new URL(page.url()).searchParams;
  const params: [string, string][] = [];
  for (const k of ['sort', 'order', 'filters', 'cohort']) if (search.get(k)) params.push([k, search.get(k)!]);
  return api<ListReply>('/api/2/groups/company/list', [...params, ['limit', '50'], ...extra]);
}

beforeAll(async () => {
  execFileSync('npm', ['-w', '@groupscope/web', 'run', 'ensure-built'], { cwd: root, stdio: 'inherit' });
  stack = await startStack({ projectsFile, dataDir: dir, env: { DYNAMIC_PROPERTIES_SCHEDULER: 'false' } });
  queryUrl = stack.queryUrl;
  const counts = await toGateway(data.records(), { url: stack.gatewayUrl, apiKey: project.api_key, pauseAfterGroupsMs: 1500 });
  await waitFor(
    async () => {
      const r = await api<{ data: { seriesCollapsed: { value: number }[][] } }>('/api/2/events/segmentation', [
        ['e', '{"event_type":"_all"}'], ['m', 'totals'], ['start', ymd(data.start)], ['end', ymd(Date.now())],
      ]);
      return r.data.seriesCollapsed[0]![0]!.value >= counts.events;
    },
    { timeoutMs: 300_000, intervalMs: 1000, message: `${counts.events} generated events queryable` },
  );
  // a health score, run now: its group identifies go through Kafka, the enricher and the writer
  const auth = { authorization: `Basic ${Buffer.from(`${project.api_key}:${project.secret_key}`).toString('base64')}`, 'content-type': 'application/json' };
  const created = await fetch(`${queryUrl}/api/3/health-scores`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({
      group_type: 'company',
      name: 'health',
      components: [
        { metric: 'active_users_30d', weight: 2, poor: 0, healthy: 5 },
        { metric: 'events_7d_change', weight: 1, poor: -50, healthy: 20 },
        { metric: 'days_since_last_seen', weight: 1, poor: 7, healthy: 1 },
      ],
    }),
  });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const run = await fetch(`${queryUrl}/api/3/health-scores/${id}/run`, { method: 'POST', headers: auth });
  expect(run.status).toBe(200);
  const { groups } = (await run.json()) as { groups: number };
  await waitFor(
    async () => {
      const r = await api<ListReply>('/api/2/groups/company/list', [['columns', '["health_band"]'], ['limit', '1000']]);
      return r.groups.filter((g) => typeof g.properties.health_band === 'string').length === groups;
    },
    { timeoutMs: 120_000, intervalMs: 1000, message: 'every company scored' },
  );
  browser = await launchBrowser();
  page = browser.page;
  page.setDefaultTimeout(90_000);
  await signIn(page, queryUrl, project);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('web UI: accounts', () => {
  it('lists the accounts with their usage metrics, most active first', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Accounts' }).click();
    await choose(page, 'company');
    await listReady(() => true);
    const reply = await apiListOf();
    const rows = await shownRows();
    expect(rows.map((r) => r.value)).toEqual(reply.groups.map((g) => g.group_value));
    expect(await page.getByText(`of ${reply.total}, usage as of`).count()).toBe(1);
    await shot(page, '12-accounts-list');
  });

  it('sorts the list by a usage metric (the header button), as the API sorts it', async () => {
    await page.getByRole('button', { name: 'Sort by Events (7 days)' }).click();
    await listReady((s) => s.get('sort') === 'events_7d');
    const reply = await apiListOf();
    const rows = await shownRows();
    expect(rows.map((r) => r.value)).toEqual(reply.groups.map((g) => g.group_value));
    // the column shows each account's number, highest first
    const column = 1 + ['active_users_1d', 'active_users_7d', 'active_users_30d', 'events_7d'].indexOf('events_7d');
    const shown = rows.map((r) => Number(r.cells[column]!.replaceAll(',', '')));
    expect(shown).toEqual(reply.groups.map((g) => g.metrics.events_7d));
    expect([...shown].sort((a, b) => b - a)).toEqual(shown);
    expect(await page.getByRole('columnheader', { name: /Events \(7 days\)/ }).getAttribute('aria-sort')).toBe('descending');
  });

  it('filters the list by a property and exports the whole filtered list as CSV', async () => {
    await page.getByRole('button', { name: '+ Add filter' }).click();
    await page.getByRole('combobox', { name: 'Filter 1 property' }).fill('plan');
    await page.keyboard.press('Escape');
    await page.getByLabel('Filter 1 operator').selectOption('is');
    await page.getByRole('combobox', { name: 'Filter 1 values' }).fill('pro');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await listReady((s) => (s.get('filters') ?? '').includes('"pro"'));
    const reply = await apiListOf();
    expect(reply.total).toBeGreaterThan(0);
    expect((await shownRows()).map((r) => r.value)).toEqual(reply.groups.map((g) => g.group_value));
    const all = await api<ListReply>('/api/2/groups/company/list', [['columns', '["plan"]'], ['limit', '1000']]);
    const pro = all.groups.filter((g) => g.properties.plan === 'pro').map((g) => g.group_value).sort();
    expect(reply.groups.map((g) => g.group_value).sort()).toEqual(pro);
    await shot(page, '13-accounts-list-filtered');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).click()]);
    const lines = readFileSync((await download.path())!, 'utf8').trim().split(/\r?\n/);
    expect(lines[0]!.split(',')).toEqual([
      'group_value', 'active_users_1d', 'active_users_1d_change', 'active_users_7d', 'active_users_7d_change', 'active_users_30d', 'active_users_30d_change',
      'events_7d', 'events_7d_change', 'events_30d', 'events_30d_change', 'last_seen',
    ]);
    // every account of the filtered list, in its order, with its numbers
    expect(lines.length - 1).toBe(reply.total);
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(reply.groups.map((g) => g.group_value));
    const first = lines[1]!.split(',');
    expect(Number(first[7])).toBe(reply.groups[0]!.metrics.events_7d);
  });

  it("opens an account: usage cards, its health score with the components, its property changes", async () => {
    const reply = await apiListOf();
    const account = reply.groups[0]!.group_value;
    await page.getByRole('table', { name: 'Accounts list' }).getByRole('link', { name: account, exact: true }).click();
    await page.getByRole('heading', { name: `company ${account}` }).waitFor();
    const card = page.getByRole('region', { name: 'Health score health' });
    await card.waitFor();
    const health = await api<{ health_scores: { score: number; band: string; components: { metric: string; value: number | null }[] }[] }>(
      `/api/2/groups/company/${encodeURIComponent(account)}/health`,
    );
    const [h] = health.health_scores;
    expect(await card.getByLabel('health score', { exact: true }).textContent()).toBe(String(h!.score));
    expect(await card.getByText(h!.band === 'at_risk' ? 'at risk' : h!.band, { exact: true }).count()).toBe(1);
    const components = card.getByRole('table', { name: 'Components of health' }).locator('tbody tr');
    expect(await components.count()).toBe(3);
    const usage = await api<{ metrics: Record<string, number> }>(`/api/2/groups/company/${encodeURIComponent(account)}/usage`);
    const events7 = page.getByRole('list', { name: 'Usage metrics' }).getByRole('listitem', { name: 'Events (7 days)' });
    expect(await events7.textContent()).toContain(String(usage.metrics.events_7d));
    // the score was written by the health-score job: the history says so
    await page.getByRole('table', { name: 'Property changes' }).getByRole('cell', { name: 'health_score' }).first().waitFor();
    await card.scrollIntoViewIfNeeded();
    await shot(page, '14-account-health');
  });
});
