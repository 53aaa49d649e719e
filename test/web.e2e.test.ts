// The web UI in headless Chromium against the real stack (gateway -> Kafka -> enricher -> writer -> ClickHouse ->
// query API serving the built UI), with generated B2B data sent through the gateway. What a user does, checked
// against what the query API answers for the same request: sign in; a 3-step funnel counted by company; the last
// step's drop-off in the microscope, its CSV, saved as a cohort, used as a segment; a dynamic property from a chart;
// `plan = pro` in the account search, an account page and its Raw activity; an expired session; a chart reopened
// from its URL. A screenshot of every screen goes to <GROUPSCOPE_DATA_DIR>/screenshots/ (.data by default).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ProjectRegistry } from '@groupscope/projects';
import { waitFor } from '@groupscope/testing';
import { dataSet, toGateway } from '@groupscope/datagen';
import { launchBrowser, type Page, type TestBrowser } from './browser';
import { startStack, type Stack } from './stack';
import { choose as chooseOn, queryApi, shot as shotOf, SHOTS_DIR } from './web-helpers';

jest.setTimeout(600_000);

const root = resolve(__dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'gs-web-'));
const projectsFile = join(dir, 'projects.json');
const registry = new ProjectRegistry(projectsFile);
const project = registry.create('web');
// a data set whose account funnel Trial Started -> Invoice Sent -> Payment Received loses accounts at the last step
const data = dataSet({ events: 4000, days: 30, accounts: 30, seed: 7 });
const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

let stack: Stack | undefined;
let browser: TestBrowser;
let page: Page;
let queryUrl = '';

const api = queryApi(() => queryUrl, project);

/** A chart's URL names its API request: the same parameters, less the screen's own (chart type, drawing style). */
function apiParamsOf(url: string): [string, string][] {
  return [...new URL(url).searchParams].filter(([k]) => k !== 'chart' && k !== 'display');
}

const shot = (name: string) => shotOf(page, name);
const choose = (option: string) => chooseOn(page, option);

/** Waits until the chart on screen is the one the URL names, answered (not a previous one still shown). */
async function chartReady(): Promise<void> {
  await waitFor(
    async () => {
      const el = page.getByTestId('chart-result');
      if ((await el.count()) === 0) return false;
      const [search, busy] = await Promise.all([el.getAttribute('data-search'), el.getAttribute('aria-busy')]);
      return busy === 'false' && `?${search}` === new URL(page.url()).search;
    },
    { timeoutMs: 90_000, intervalMs: 200, message: 'the chart of the URL drawn' },
  );
}

/** The numbers a funnel table shows, by step: reached and dropped off. */
async function funnelNumbers(): Promise<{ reached: number[]; dropped: number[] }> {
  await chartReady();
  const rows = page.getByRole('table', { name: 'Funnel data' }).locator('tbody tr');
  // columns after the step: reached, conversion, from previous step, dropped off, median time
  const cells = await rows.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
  const n = (t: string) => Number(t.replaceAll(',', ''));
  return { reached: cells.map((c) => n(c[0]!)), dropped: cells.slice(1).map((c) => n(c[3]!)) };
}

beforeAll(async () => {
  mkdirSync(SHOTS_DIR, { recursive: true });
  // the UI the query service serves: built here when dist/ is missing or older than its sources
  execFileSync('npm', ['-w', '@groupscope/web', 'run', 'ensure-built'], { cwd: root, stdio: 'inherit' });
  // runs on its own schedule only when asked: the test runs its dynamic property itself
  stack = await startStack({ projectsFile, dataDir: dir, env: { DYNAMIC_PROPERTIES_SCHEDULER: 'false' } });
  queryUrl = stack.queryUrl;

  const counts = await toGateway(data.records(), { url: stack.gatewayUrl, apiKey: project.api_key, pauseAfterGroupsMs: 1500 });
  const range: [string, string][] = [['start', ymd(data.start)], ['end', ymd(Date.now())]];
  await waitFor(
    async () => {
      const r = await api<{ data: { seriesCollapsed: { value: number }[][] } }>('/api/2/events/segmentation', [['e', '{"event_type":"_all"}'], ['m', 'totals'], ...range]);
      return r.data.seriesCollapsed[0]![0]!.value >= counts.events;
    },
    { timeoutMs: 300_000, intervalMs: 1000, message: `${counts.events} generated events queryable` },
  );

  browser = await launchBrowser();
  page = browser.page;
  page.setDefaultTimeout(90_000);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('web UI', () => {
  let funnelUrl = '';
  let funnel: { reached: number[]; dropped: number[] };
  let dropoffIds: string[] = [];
  let cohortName = '';

  it('signs in with the project keys (wrong keys show the API error)', async () => {
    await page.goto(`${queryUrl}/`);
    await page.getByLabel('API key').fill(project.api_key);
    await page.getByLabel('Secret key').fill('not-the-secret');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Invalid API key or secret key' }).waitFor();
    await shot('01-sign-in-error');
    await page.getByLabel('Secret key').fill(project.secret_key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Event segmentation' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/charts');
    // the secret lives in an HttpOnly cookie, never in the page's storage
    const stored = await page.evaluate<string>('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie');
    expect(stored).not.toContain(project.secret_key);
    const cookie = (await browser.context.cookies()).find((c) => c.name === 'gs_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
  });

  it('builds a 3-step funnel counted by company, with the numbers the API gives', async () => {
    await choose('Funnel');
    await page.getByRole('button', { name: '+ Add step' }).click();
    for (const [i, event] of ['Trial Started', 'Invoice Sent', 'Payment Received'].entries()) {
      await page.getByRole('combobox', { name: `Step ${i + 1}`, exact: true }).fill(event);
      await page.keyboard.press('Escape');
    }
    await page.getByLabel('Count by').selectOption('company');
    await page.getByLabel('Start date').fill(isoDay(data.start));
    await page.getByText('counted by company').waitFor();
    funnel = await funnelNumbers();
    funnelUrl = page.url();
    const reply = await api<{ data: { cumulativeRaw: number[] }[] }>('/api/2/funnels', apiParamsOf(funnelUrl));
    const raw = reply.data[0]!.cumulativeRaw;
    expect(raw).toHaveLength(3);
    expect(funnel.reached).toEqual(raw);
    expect(funnel.dropped).toEqual([raw[0]! - raw[1]!, raw[1]! - raw[2]!]);
    expect(funnel.dropped[1]).toBeGreaterThan(0);
    expect(new URL(funnelUrl).searchParams.get('countGroup')).toBe('company');
    await page.evaluate('document.activeElement?.blur()');
    await page.locator('label').filter({ hasText: /^Funnel$/ }).scrollIntoViewIfNeeded();
    await shot('02-funnel-by-company');
  });

  it("opens the last step's drop-off in the microscope; its CSV holds the ids the microscope API lists", async () => {
    await page.getByRole('button', { name: /^Step 3 Payment Received: [\d,]+ dropped off$/ }).click();
    const drawer = page.getByRole('dialog');
    const members = drawer.getByRole('table', { name: 'Members' });
    await members.waitFor();
    const shown = await members.locator('tbody tr td:first-child').allTextContents();
    const params: [string, string][] = [...apiParamsOf(funnelUrl), ['chart', 'funnels'], ['step', '3'], ['dropoff', 'true'], ['segment', '0']];
    const reply = await api<{ members: { id: string }[]; countGroup: string }>('/api/2/microscope', params);
    dropoffIds = reply.members.map((m) => m.id).sort();
    expect(reply.countGroup).toBe('company');
    expect(dropoffIds).toHaveLength(funnel.dropped[1]!);
    expect([...shown].sort()).toEqual(dropoffIds);
    await shot('03-microscope-drop-off');

    const [download] = await Promise.all([page.waitForEvent('download'), drawer.getByRole('link', { name: 'Download CSV' }).click()]);
    const csv = readFileSync((await download.path())!, 'utf8').trim().split(/\r?\n/);
    expect(csv[0]).toBe('id,first_time');
    expect(csv.slice(1).map((l) => l.split(',')[0]!).sort()).toEqual(dropoffIds);
  });

  it('saves the drop-off as a cohort and uses it as a segment in a segmentation chart', async () => {
    const drawer = page.getByRole('dialog');
    cohortName = `Dropped before payment ${Date.now()}`;
    await drawer.getByRole('button', { name: 'Save as cohort' }).click();
    await drawer.getByLabel('Cohort name').fill(cohortName);
    await drawer.getByRole('button', { name: 'Save cohort' }).click();
    await drawer.getByText('Cohort saved').waitFor();
    const { cohorts } = await api<{ cohorts: { id: string; name: string; countGroup: string; size: number }[] }>('/api/3/cohorts');
    const cohort = cohorts.find((c) => c.name === cohortName)!;
    expect(cohort).toMatchObject({ countGroup: 'company', size: dropoffIds.length });

    await drawer.getByRole('button', { name: 'Use as segment' }).click();
    await choose('Segmentation');
    await page.getByRole('heading', { name: 'Event segmentation' }).waitFor();
    expect(await page.getByLabel('Segment 1 cohort').inputValue()).toBe(cohort.id);
    const url = new URL(page.url());
    expect(JSON.parse(url.searchParams.get('s')!)).toEqual([{ prop: 'cohort', op: 'is', values: [cohort.id] }]);
    expect(url.searchParams.get('countGroup')).toBe('company');
    // two series (the funnel's first steps); each total as the API computes it for the same URL
    await chartReady();
    const totals = page.getByTestId('series-total');
    expect(await totals.count()).toBe(2);
    const ui = (await totals.allTextContents()).map((t) => Number(t.replaceAll(',', '')));
    const params = apiParamsOf(page.url());
    const es = params.filter(([k]) => k === 'e');
    const rest = params.filter(([k]) => k !== 'e');
    const reply = await api<{ data: { seriesCollapsed: { value: number }[][] } }>('/api/2/events/segmentation', [['e', es[0]![1]], ['e2', es[1]![1]], ...rest]);
    expect(ui).toEqual(reply.data.seriesCollapsed.map((s) => s[0]!.value));
    // every account of the cohort started a trial in the range: the first series counts exactly the cohort
    expect(ui[0]).toBe(dropoffIds.length);
    await shot('04-segmentation-with-cohort');
  });

  it('lists the cohort; its members download matches the microscope', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cohorts' }).click();
    const row = page.getByRole('row').filter({ hasText: cohortName });
    await row.waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('link', { name: `Download members of ${cohortName}` }).click()]);
    const lines = readFileSync((await download.path())!, 'utf8').trim().split(/\r?\n/);
    expect(lines[0]).toBe('id');
    expect(lines.slice(1).sort()).toEqual(dropoffIds);
    await shot('05-cohorts');
  });

  it('saves a single-series chart as a dynamic group property and runs it', async () => {
    await page.goto(`${queryUrl}/charts?chart=segmentation&e=${encodeURIComponent('{"event_type":"_active"}')}&start=${ymd(data.start)}&end=${ymd(Date.now())}`);
    await chartReady();
    await page.getByRole('button', { name: 'Save as dynamic property' }).click();
    const modal = page.getByRole('dialog');
    await modal.getByLabel('Group type').selectOption('company');
    await modal.getByLabel('Property name').fill('Last 7 Day Active Users');
    await modal.getByRole('button', { name: 'Save' }).click();
    await modal.getByText('Dynamic property saved').waitFor();
    await modal.getByRole('link', { name: 'Dynamic properties' }).click();
    const row = page.getByRole('row').filter({ hasText: 'Last 7 Day Active Users' });
    await row.waitFor();
    await row.getByRole('button', { name: 'Run Last 7 Day Active Users now' }).click();
    const done = page.getByRole('status').filter({ hasText: 'ran: written for' });
    await done.waitFor();
    const { properties } = await api<{ properties: { name: string; last_groups: number }[] }>('/api/3/dynamic-properties');
    const p = properties.find((x) => x.name === 'Last 7 Day Active Users')!;
    expect(p.last_groups).toBeGreaterThan(0);
    expect(await done.textContent()).toContain(`written for ${p.last_groups} company groups`);
    await shot('06-dynamic-properties');
  });

  it('finds accounts by `plan = pro` and opens one; Raw shows the properties stamped on its events', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Accounts' }).click();
    await choose('company');
    await page.getByLabel('Search accounts').fill('plan = pro');
    await page.getByLabel('Search accounts').press('Enter');
    const results = page.getByRole('table', { name: 'Matching accounts' });
    await results.waitFor();
    const shown = await results.locator('tbody tr td:first-child').allTextContents();
    const reply = await api<{ matches: { group_value: string }[] }>('/api/2/groups/search', [['group_type', 'company'], ['q', 'plan = pro'], ['limit', '50']]);
    expect(shown.length).toBeGreaterThan(0);
    expect(shown).toEqual(reply.matches.map((m) => m.group_value));
    await shot('07-accounts-search');

    const account = shown[0]!;
    await results.getByRole('link', { name: account, exact: true }).click();
    await page.getByRole('heading', { name: `company ${account}` }).waitFor();
    const events = page.getByRole('list', { name: 'Events' });
    await events.waitFor();
    await page.getByRole('table', { name: 'Current properties' }).getByText('plan').waitFor();
    await page.getByRole('img', { name: 'Active users and events per day' }).waitFor();
    await shot('08-account-page');

    const { events: activity } = await api<{ events: { group_properties: Record<string, Record<string, Record<string, unknown>>> }[] }>(
      `/api/2/groups/company/${encodeURIComponent(account)}/activity`,
      [['limit', '25']],
    );
    // Info shows what happened; the stamped group properties appear only in Raw
    expect(await events.getByLabel('Raw event').count()).toBe(0);
    await choose('Raw');
    const raw = events.getByLabel('Raw event').first();
    await raw.waitFor();
    const first = JSON.parse((await raw.textContent())!) as (typeof activity)[number];
    expect(first).toEqual(activity[0]);
    const stampedPlan = first.group_properties.company?.[account]?.plan;
    expect(['free', 'pro', 'enterprise']).toContain(stampedPlan);
    await shot('09-account-raw');
  });

  it('returns to sign-in with a notice when the session ends, then back to the same page', async () => {
    // signed out elsewhere (another tab): the next request of this page gets a 401
    await page.request.delete(`${queryUrl}/api/session`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cohorts' }).click();
    await page.getByText('Your session has expired. Sign in again.').waitFor();
    const here = page.url();
    expect(new URL(here).pathname).toBe('/cohorts');
    await shot('10-session-expired');
    await page.getByLabel('API key').fill(project.api_key);
    await page.getByLabel('Secret key').fill(project.secret_key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Cohorts' }).waitFor();
    await page.getByRole('row').filter({ hasText: cohortName }).waitFor();
    expect(page.url()).toBe(here);
  });

  it('reopens the funnel from its URL with the same numbers, and shows retention', async () => {
    await page.goto(funnelUrl);
    expect(await funnelNumbers()).toEqual(funnel);
    expect(page.url()).toBe(funnelUrl);
    await choose('Retention');
    await chartReady();
    await page.getByRole('table', { name: 'Retention of All' }).waitFor();
    await shot('11-retention');
  });
});
