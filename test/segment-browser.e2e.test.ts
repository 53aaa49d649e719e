// Segment's official browser library, @segment/analytics-next, bundled into a page as a site would bundle it and run
// in headless Chromium, sending to the gateway from another origin (real CORS: preflights for its Authorization
// header, nothing disabled in the browser). Through the whole pipeline to the query API: identify, group, track and
// page, one request per call and in batching mode, including the batch the library sends when the page goes away.
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { queryRows, sql, param, trusted } from '@groupscope/clickhouse';
import { ProjectRegistry, type NewKeys } from '@groupscope/projects';
import { waitFor } from '@groupscope/testing';
import type { Request } from 'playwright-core';
import { launchBrowser, type Page, type TestBrowser } from './browser';
import { startStack, type Stack } from './stack';
import type { SegmentTestPage } from './segment-browser/page';

jest.setTimeout(180_000);

const dir = mkdtempSync(join(tmpdir(), 'gs-segment-browser-'));
const projectsFile = join(dir, 'projects.json');
const registry = new ProjectRegistry(projectsFile);
// the group trait settings of the reference's example, so group() traits name the account and become its properties
const single = registry.create('segment-browser');
registry.setSegment(single.project_id, { group_type_trait: 'group_type', group_value_trait: 'name' });
const batched = registry.create('segment-browser-batching');
registry.setSegment(batched.project_id, { group_type_trait: 'group_type', group_value_trait: 'name' });

let stack: Stack;
let site: Server;
/** the page's origin: not the gateway's, so every call to the gateway is a cross-origin request */
let siteUrl = '';

/** The page: an HTML file and the page script bundled with the library, as a site would serve them. */
async function buildSite(): Promise<{ html: string; js: Buffer }> {
  const out = join(dir, 'page.js');
  await build({
    entryPoints: [join(__dirname, 'segment-browser', 'page.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome110',
    outfile: out,
    logLevel: 'error',
  });
  return { html: '<!doctype html><html><head><meta charset="utf-8"><script src="/page.js"></script></head><body>groupscope</body></html>', js: readFileSync(out) };
}

beforeAll(async () => {
  const files = await buildSite();
  site = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://site').pathname;
    if (path === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(files.html);
    else if (path === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(files.js);
    else if (path === '/favicon.ico') res.writeHead(204).end();
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  stack = await startStack({ projectsFile, dataDir: dir });
});

afterAll(async () => {
  await stack?.stop();
  await new Promise((resolve) => site?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

interface Seen {
  method: string;
  url: string;
  /** null until answered; 0 when the request failed */
  status: number | null;
  headers: Record<string, string>;
  body: string | null;
}

/**
 * A fresh browser (its own profile) with every request it makes recorded, and the CORS preflights the DevTools
 * protocol reports (the page's request events leave them out). `load` opens the page with the library's options.
 */
async function openBrowser() {
  const browser: TestBrowser = await launchBrowser();
  const page: Page = browser.page;
  const seen: Seen[] = [];
  const preflights: string[] = [];
  // recorded when sent (in order), completed when answered
  const entries = new Map<Request, Seen>();
  page.on('request', (req) => {
    const entry: Seen = { method: req.method(), url: req.url(), status: null, headers: {}, body: req.postData() };
    entries.set(req, entry);
    seen.push(entry);
    void req.allHeaders().then((h) => (entry.headers = h));
  });
  page.on('requestfinished', (req) => {
    void req.response().then((res) => (entries.get(req)!.status = res?.status() ?? 0));
  });
  page.on('requestfailed', (req) => (entries.get(req)!.status = 0));
  const cdp = await browser.context.newCDPSession(page);
  cdp.on('Network.requestWillBeSent', (e) => {
    if (e.initiator.type === 'preflight') preflights.push(`${e.request.method} ${e.request.url}`);
  });
  await cdp.send('Network.enable');

  const call = <K extends keyof SegmentTestPage>(name: K, ...args: Parameters<SegmentTestPage[K]>) =>
    page.evaluate(
      ([n, a]) => {
        const calls = (globalThis as unknown as { segmentTest: Record<string, (...x: unknown[]) => Promise<unknown>> }).segmentTest;
        return calls[n]!(...a);
      },
      [name, args] as [string, unknown[]],
    ) as ReturnType<SegmentTestPage[K]>;
  /** opens the page, which loads the library with the project's write key and the gateway as its CDN */
  const load = async (keys: NewKeys, batching?: { size: number; timeout: number }) => {
    const query = new URLSearchParams({ writeKey: keys.api_key, cdnURL: stack.gatewayUrl });
    if (batching) query.set('batching', `${batching.size},${batching.timeout}`);
    await page.goto(`${siteUrl}/?${query}`);
    await call('ready');
  };
  return { browser, page, seen, preflights, call, load };
}

const count = async (keys: NewKeys, where = sql`1`, table = 'events') =>
  Number(
    (await queryRows<{ n: number }>(stack.ch, sql`SELECT count() AS n FROM ${trusted(stack.ch.table(table))} WHERE project_id = ${param(keys.project_id, 'UInt32')} AND ${where}`))[0]!.n,
  );
/**
 * Waits until event_groups holds `n` rows of the project: the writer inserts them after the events' rows (the
 * account-level counts and the account page read them), so stored events do not yet mean attributed ones.
 */
const attributed = (keys: NewKeys, n: number) =>
  waitFor(async () => (await count(keys, sql`1`, 'event_groups')) === n, { timeoutMs: 60_000, message: `${n} rows in event_groups` });

interface StoredEvent {
  event_type: string;
  user_id: string;
  device_id: string;
  insert_id: string;
  platform: string;
  user_agent: string;
  ip: string;
  /** event time, ms */
  time: number;
  plan: string;
  /** the values of the Organization group the event is attributed to */
  organization: string[];
  n: number;
}
/** Every stored event of the project, one row per insert_id with how many events carry it ($identify is no event). */
const storedEvents = (keys: NewKeys) =>
  queryRows<StoredEvent>(
    stack.ch,
    sql`SELECT insert_id, any(event_type) AS event_type, any(user_id) AS user_id, any(device_id) AS device_id,
          any(context['platform']) AS platform,
          any(context['user_agent']) AS user_agent, any(context['ip']) AS ip, toFloat64(toUnixTimestamp64Milli(any(event_time))) AS time,
          any(user_properties['plan']) AS plan, any(groups['Organization']) AS organization, count() AS n
        FROM ${trusted(stack.ch.table('events'))} WHERE project_id = ${param(keys.project_id, 'UInt32')}
        GROUP BY insert_id ORDER BY min(event_time), insert_id`,
  );

async function api<T>(keys: NewKeys, path: string, params: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const qs = new URLSearchParams(params).toString();
  const res = await fetch(`${stack.queryUrl}${path}${qs ? `?${qs}` : ''}`, {
    headers: { authorization: `Basic ${Buffer.from(`${keys.api_key}:${keys.secret_key}`).toString('base64')}` },
  });
  return { status: res.status, body: (await res.json()) as T };
}

const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
const range = { start: ymd(Date.now() - 86_400_000), end: ymd(Date.now() + 86_400_000) };
/** The event's count in the query API's segmentation: uniques (users, or accounts with countGroup) or totals. */
async function segmentation(keys: NewKeys, eventType: string, opts: { countGroup?: string; m?: string } = {}): Promise<number> {
  const res = await api<{ data: { seriesCollapsed: { value: number }[][] } }>(keys, '/api/2/events/segmentation', {
    e: JSON.stringify({ event_type: eventType }),
    ...range,
    ...opts,
  });
  expect(res.status).toBe(200);
  return res.body.data.seriesCollapsed[0]![0]!.value;
}

interface AccountPage {
  group: { group_type: string; group_value: string; properties: Record<string, unknown>; num_users: number };
  users: { user_id: string | null }[];
}

/** The Segment messages of the page's answered requests to the gateway, from their bodies: single calls and batches. */
function sentMessages(seen: Seen[]): { type: string; messageId: string; userId?: string; anonymousId: string; writeKey: string }[] {
  const gatewayPosts = seen.filter((s) => s.method === 'POST' && s.url.startsWith(stack.gatewayUrl) && s.body && s.status !== null);
  return gatewayPosts.flatMap((s) => {
    const body = JSON.parse(s.body!) as { batch?: unknown[] };
    return (body.batch ?? [body]) as ReturnType<typeof sentMessages>;
  });
}

const path = (url: string) => new URL(url).pathname;
const started = Date.now();
const ORG = 'Acme Browser, Inc.';

describe('@segment/analytics-next in headless Chromium, from another origin, to the query API', () => {
  it('one request per call: identify, group, track and page are stored and attributed to the account', async () => {
    const { browser, seen, preflights, call, load } = await openBrowser();
    try {
      await load(single);
      expect(await call('identify', 'alice@acme.test', { plan: 'pro', name: 'Alice' })).toBe('delivered');
      expect(await call('group', 'acme-0001', { group_type: 'Organization', name: ORG, employees: 42, email: 'hello@acme.test' })).toBe('delivered');
      // group properties apply to what the gateway receives after them: the account exists before the events
      await waitFor(async () => (await api(single, `/api/2/groups/Organization/${encodeURIComponent(ORG)}`)).status === 200, { message: 'the account stored' });
      for (const format of ['pdf', 'csv', 'xlsx']) expect(await call('track', 'Report Exported', { format })).toBe('delivered');
      expect(await call('page')).toBe('delivered');
      const ids = await call('ids');
      expect(ids.userId).toBe('alice@acme.test');

      // the browser's side: settings first, then one request per call to the gateway's short paths, all answered 200
      await waitFor(() => seen.filter((s) => s.url.startsWith(stack.gatewayUrl) && s.status !== null).length >= 7, { message: 'the requests answered' });
      const toGateway = seen.filter((s) => s.url.startsWith(stack.gatewayUrl));
      expect(toGateway.map((s) => `${s.method} ${path(s.url)} ${s.status}`)).toEqual([
        `GET /v1/projects/${single.api_key}/settings 200`,
        'POST /v1/i 200',
        'POST /v1/g 200',
        'POST /v1/t 200',
        'POST /v1/t 200',
        'POST /v1/t 200',
        'POST /v1/p 200',
      ]);
      for (const s of toGateway.slice(1)) {
        expect(s.headers).toMatchObject({ origin: siteUrl, 'content-type': 'text/plain', authorization: `Basic ${Buffer.from(`${single.api_key}:`).toString('base64')}` });
      }
      // the Authorization header makes the posts preflighted (the browser caches a preflight's answer per URL)
      expect([...new Set(preflights)].sort()).toEqual(['i', 'g', 't', 'p'].map((p) => `OPTIONS ${stack.gatewayUrl}/v1/${p}`).sort());
      // nothing went anywhere but the site and the gateway (no Segment CDN, API or metrics host)
      expect(seen.filter((s) => !s.url.startsWith(stack.gatewayUrl) && !s.url.startsWith(siteUrl))).toEqual([]);

      // stored: each track and page once, by its messageId, with the user, the visitor's anonymous id, the
      // destination's event names, the identify's traits as user properties and the account stamped on it
      const sent = sentMessages(seen);
      expect(sent.map((m) => m.type)).toEqual(['identify', 'group', 'track', 'track', 'track', 'page']);
      await waitFor(async () => (await count(single)) >= 4, { message: 'the events written' });
      const stored = await storedEvents(single);
      expect(stored.map((e) => e.event_type).sort()).toEqual(['Loaded a Page', 'Report Exported', 'Report Exported', 'Report Exported']);
      expect(stored.map((e) => e.insert_id).sort()).toEqual(sent.filter((m) => m.type === 'track' || m.type === 'page').map((m) => m.messageId).sort());
      for (const e of stored) {
        expect(e).toMatchObject({ n: 1, user_id: 'alice@acme.test', device_id: ids.anonymousId, platform: 'Web', plan: 'pro', organization: [ORG] });
        // the browser's context, and the request's address where the library sends none
        expect(e.user_agent).toContain('HeadlessChrome');
        expect(e.ip).toBe('127.0.0.1');
        // the message's timestamp, corrected by its sentAt (one clock here: no skew to remove)
        expect(e.time).toBeGreaterThanOrEqual(started - 5000);
        expect(e.time).toBeLessThanOrEqual(Date.now());
      }

      // the query API: the events counted by account, and the account holding the group() traits as properties
      await attributed(single, 4);
      expect(await segmentation(single, 'Report Exported', { m: 'totals' })).toBe(3);
      expect(await segmentation(single, 'Report Exported', { countGroup: 'Organization' })).toBe(1);
      expect(await segmentation(single, 'Loaded a Page', { countGroup: 'Organization' })).toBe(1);
      const account = await api<AccountPage>(single, `/api/2/groups/Organization/${encodeURIComponent(ORG)}`);
      expect(account.body.group).toMatchObject({ group_type: 'Organization', group_value: ORG, num_users: 1 });
      expect(account.body.group.properties).toEqual({ group_type: 'Organization', name: ORG, employees: 42, email: 'hello@acme.test' });
      expect(account.body.users.map((u) => u.user_id)).toEqual(['alice@acme.test']);
    } finally {
      await browser.close();
    }
  });

  it('batching mode: the calls go in batches to /v1/b, and what is buffered when the page goes away is sent too; each stored once', async () => {
    const { browser, page, seen, call, load } = await openBrowser();
    try {
      // batches of 4; a partial batch goes after 500 ms
      await load(batched, { size: 4, timeout: 500 });
      await call('identify', 'bob@globex.test', { plan: 'team' });
      await call('group', 'globex-7', { group_type: 'Organization', name: 'Globex', tier: 'gold' });
      await waitFor(async () => (await api(batched, '/api/2/groups/Organization/Globex')).status === 200, { message: 'the account stored' });
      for (let i = 1; i <= 9; i++) await call('track', 'Invoice Sent', { n: i });
      await call('page');
      const sent = await waitFor(
        () => {
          const messages = sentMessages(seen);
          return messages.length >= 12 ? messages : undefined;
        },
        { message: 'every batch answered' },
      );
      const toGateway = seen.filter((s) => s.url.startsWith(stack.gatewayUrl));
      expect(toGateway[0]).toMatchObject({ method: 'GET', url: `${stack.gatewayUrl}/v1/projects/${batched.api_key}/settings`, status: 200 });
      const posts = toGateway.slice(1);
      // 12 messages in batches of at most 4
      expect(posts.length).toBeGreaterThanOrEqual(3);
      expect(posts.map((s) => `${s.method} ${path(s.url)} ${s.status}`)).toEqual(posts.map(() => 'POST /v1/b 200'));
      expect(sent.map((m) => m.type)).toEqual(['identify', 'group', ...Array<string>(9).fill('track'), 'page']);

      // the page again, now holding events for 10 minutes: only leaving the page can send these three in time
      await load(batched, { size: 100, timeout: 600_000 });
      const ids = await call('ids');
      expect(ids.userId).toBe('bob@globex.test');
      for (let i = 10; i <= 12; i++) await call('track', 'Invoice Sent', { n: i });
      await page.goto('about:blank');

      // every message stored exactly once: 12 Invoice Sent (3 sent on leaving) and the page, all attributed
      await waitFor(async () => (await count(batched, sql`event_type = 'Invoice Sent'`)) >= 12, { message: 'the events written, the last batch included' });
      const stored = await storedEvents(batched);
      expect(stored.map((e) => e.event_type).sort()).toEqual([...Array<string>(12).fill('Invoice Sent'), 'Loaded a Page']);
      for (const e of stored) {
        expect(e).toMatchObject({ n: 1, user_id: 'bob@globex.test', device_id: ids.anonymousId, plan: 'team', organization: ['Globex'] });
        // a batch's messages lose their own sentAt: the batch's corrects their timestamps
        expect(e.time).toBeGreaterThanOrEqual(started - 5000);
        expect(e.time).toBeLessThanOrEqual(Date.now());
      }
      expect(stored.map((e) => e.insert_id)).toEqual(expect.arrayContaining(sent.filter((m) => m.type !== 'identify' && m.type !== 'group').map((m) => m.messageId)));
      await attributed(batched, 13);
      expect(await segmentation(batched, 'Invoice Sent', { m: 'totals' })).toBe(12);
      expect(await segmentation(batched, 'Invoice Sent', { countGroup: 'Organization' })).toBe(1);
      const account = await api<AccountPage>(batched, '/api/2/groups/Organization/Globex');
      expect(account.body.group.properties).toEqual({ group_type: 'Organization', name: 'Globex', tier: 'gold' });
    } finally {
      await browser.close();
    }
  });
});
