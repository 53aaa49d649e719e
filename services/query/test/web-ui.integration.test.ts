// The built web UI served at /: hashed assets cached for long, index.html revalidated, page addresses of the
// single-page app answered with index.html, and the API and operations endpoints untouched. The UI itself is built
// elsewhere; a small dist folder stands in for it here.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testClickHouse, type TestClickHouse } from '@groupscope/testing';
import { startTestService, type TestService } from './service';

let ch: TestClickHouse;
let svc: TestService;
const INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-B2x9Qa7c.js"></script></head><body><div id="root"></div></body></html>';
const SCRIPT = 'console.log("groupscope");';
const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

beforeAll(async () => {
  const dist = mkdtempSync(join(tmpdir(), 'gs-web-dist-'));
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), INDEX);
  writeFileSync(join(dist, 'assets', 'index-B2x9Qa7c.js'), SCRIPT);
  writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  ch = await testClickHouse({ migrate: false });
  svc = await startTestService(ch, { env: { WEB_DIST_DIR: dist } });
});

afterAll(async () => {
  await svc?.stop();
  await ch?.cleanup();
});

const get = (path: string, headers: Record<string, string> = {}) => svc.call(null, 'GET', path, undefined, headers);

describe('web UI', () => {
  it('serves index.html at / and revalidates it on every load', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.text).toBe(INDEX);
    expect((await get('/index.html')).headers.get('cache-control')).toBe('no-cache');
  });

  it('caches hashed assets for a year, other files not', async () => {
    const script = await get('/assets/index-B2x9Qa7c.js');
    expect(script.status).toBe(200);
    expect(script.text).toBe(SCRIPT);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const icon = await get('/favicon.svg');
    expect(icon.status).toBe(200);
    expect(icon.headers.get('cache-control')).toBe('no-cache');
  });

  it('answers page addresses of the app with index.html, but not missing files or the API', async () => {
    for (const path of ['/accounts/company/acme', '/charts?e=%7B%7D', '/cohorts/']) {
      const page = await get(path, HTML);
      expect({ path, status: page.status, body: page.text }).toEqual({ path, status: 200, body: INDEX });
      expect(page.headers.get('cache-control')).toBe('no-cache');
    }
    expect((await get('/assets/index-gone1234.js', { accept: '*/*' })).status).toBe(404);
    const api = await get('/api/2/groups/types', HTML);
    expect(api.status).toBe(401);
    expect(api.body.error.code).toBe('unauthorized');
    expect((await get('/api/nothing', HTML)).status).toBe(401);
    expect((await get('/health', HTML)).body).toEqual({ status: 'ok', service: 'query' });
    expect((await get('/metrics', HTML)).text).toContain('groupscope_query_request_seconds');
    // only GET and HEAD are pages
    expect((await svc.call(null, 'POST', '/accounts', 'x', HTML)).status).toBe(404);
  });

  it('serves no UI when the dist folder has no build', async () => {
    const bare = await startTestService(ch);
    try {
      expect((await bare.call(null, 'GET', '/', undefined, HTML)).status).toBe(404);
      expect((await bare.call(null, 'GET', '/health')).status).toBe(200);
    } finally {
      await bare.stop();
    }
  });
});
