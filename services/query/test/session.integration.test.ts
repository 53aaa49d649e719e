// Web UI sessions over HTTP: sign in with the project's keys, the cookie's flags, the cookie in place of Basic auth on
// /api/2 and /api/3, wrong keys, sign-out, a key rotation ending the session, cross-origin changes refused, and
// failed sign-ins limited.
import type { NewKeys } from '@groupscope/projects';
import { testClickHouse, type TestClickHouse } from '@groupscope/testing';
import { startTestService, type Reply, type TestService } from './service';

let ch: TestClickHouse;
let svc: TestService;
let A: NewKeys;

beforeAll(async () => {
  ch = await testClickHouse();
  svc = await startTestService(ch, { env: { QUERY_SESSION_TTL_S: '3600' } });
  A = svc.projects[0]!;
});

afterAll(async () => {
  await svc?.stop();
  await ch?.cleanup();
});

const signIn = (keys: { api_key: string; secret_key: string }, headers: Record<string, string> = {}) =>
  svc.call(null, 'POST', '/api/session', { api_key: keys.api_key, secret_key: keys.secret_key }, headers);
const setCookie = (r: Reply) => r.headers.get('set-cookie') ?? '';
const tokenOf = (r: Reply) => /gs_session=([^;]*)/.exec(setCookie(r))?.[1] ?? '';
const withCookie = (token: string, headers: Record<string, string> = {}) => ({ cookie: `other=1; gs_session=${token}`, ...headers });
const host = () => new URL(svc.url).host;

describe('sessions', () => {
  it('signs in with the project keys and sets an HttpOnly, SameSite=Strict cookie for the session length', async () => {
    const res = await signIn(A);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ project: { id: A.project_id, name: 'one' }, expires_at: expect.any(String) });
    const expires = Date.parse(res.body.expires_at);
    expect(Math.abs(expires - (Date.now() + 3600_000))).toBeLessThan(120_000);
    const cookie = setCookie(res);
    expect(cookie).toMatch(/^gs_session=v1\.[^;]+; /);
    expect(cookie.split('; ').slice(1).sort()).toEqual(['HttpOnly', 'Max-Age=3600', 'Path=/', 'SameSite=Strict']);
    // behind a TLS-terminating proxy on this host the cookie is Secure
    expect(setCookie(await signIn(A, { 'x-forwarded-proto': 'https' }))).toContain('; Secure');
  });

  it('accepts the cookie instead of Basic auth on /api/2 and /api/3, and tells who is signed in', async () => {
    const token = tokenOf(await signIn(A));
    const types = await svc.call(null, 'GET', '/api/2/groups/types', undefined, withCookie(token));
    expect(types.status).toBe(200);
    expect(types.body).toEqual({ types: [] });
    expect((await svc.call(null, 'GET', '/api/3/cohorts', undefined, withCookie(token))).body).toEqual({ cohorts: [] });
    const who = await svc.call(null, 'GET', '/api/session', undefined, withCookie(token));
    expect(who.status).toBe(200);
    expect(who.body).toEqual({ project: { id: A.project_id, name: 'one' }, expires_at: expect.any(String) });
    // a wrong Authorization header decides, whatever the cookie
    const wrong = await svc.call({ ...A, secret_key: 'nope' }, 'GET', '/api/2/groups/types', undefined, withCookie(token));
    expect(wrong.status).toBe(401);
  });

  it('refuses wrong keys with 401 in the API error shape, and sets no cookie', async () => {
    for (const keys of [{ ...A, secret_key: 'wrong' }, { ...A, api_key: 'nope' }, { api_key: A.api_key, secret_key: svc.projects[1]!.secret_key }]) {
      const res = await signIn(keys);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: { code: 'unauthorized', message: 'Invalid API key or secret key' } });
      expect(setCookie(res)).toBe('');
    }
    const missing = await svc.call(null, 'POST', '/api/session', { api_key: A.api_key });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: 'missing_parameter', details: [{ param: 'secret_key' }] });
  });

  it('answers 401 without a valid session: none, forged, or for the wrong project', async () => {
    expect((await svc.call(null, 'GET', '/api/session')).status).toBe(401);
    const token = tokenOf(await signIn(A));
    const [v, , exp, nonce, mac] = token.split('.');
    const other = svc.projects[1]!.project_id;
    for (const forged of [`${v}.${other}.${exp}.${nonce}.${mac}`, `${v}.${A.project_id}.${Number(exp) + 1000}.${nonce}.${mac}`, 'junk', `${token}x`]) {
      const res = await svc.call(null, 'GET', '/api/2/groups/types', undefined, withCookie(forged));
      expect(res.status).toBe(401);
      // no Basic challenge for a browser session: the UI shows its own sign-in
      expect(res.headers.get('www-authenticate')).toBeNull();
    }
    expect((await svc.call(null, 'GET', '/api/2/groups/types')).headers.get('www-authenticate')).toMatch(/^Basic/);
    // a page's fetch after its cookie expired (the browser no longer sends it): no challenge either
    const fromPage = await svc.call(null, 'GET', '/api/2/groups/types', undefined, { 'sec-fetch-mode': 'cors', 'sec-fetch-site': 'same-origin' });
    expect(fromPage.status).toBe(401);
    expect(fromPage.headers.get('www-authenticate')).toBeNull();
  });

  it('signs out: 204, the cookie is cleared and the token stops working', async () => {
    const token = tokenOf(await signIn(A));
    const out = await svc.call(null, 'DELETE', '/api/session', undefined, withCookie(token));
    expect(out.status).toBe(204);
    expect(setCookie(out)).toMatch(/^gs_session=; .*Max-Age=0/);
    expect((await svc.call(null, 'GET', '/api/2/groups/types', undefined, withCookie(token))).status).toBe(401);
    expect((await svc.call(null, 'GET', '/api/session', undefined, withCookie(token))).status).toBe(401);
    // another session of the same project is not affected
    const other = tokenOf(await signIn(A));
    expect((await svc.call(null, 'GET', '/api/session', undefined, withCookie(other))).status).toBe(200);
  });

  it('ends every session of a project when its keys are rotated', async () => {
    const B = svc.projects[1]!;
    const token = tokenOf(await signIn(B));
    expect((await svc.call(null, 'GET', '/api/2/groups/types', undefined, withCookie(token))).status).toBe(200);
    const rotated = svc.registry.rotate(B.project_id);
    expect((await svc.call(null, 'GET', '/api/2/groups/types', undefined, withCookie(token))).status).toBe(401);
    expect((await signIn(B)).status).toBe(401);
    expect((await signIn(rotated)).status).toBe(200);
  });

  it('refuses a change made with the cookie from another origin, and allows it from the same one', async () => {
    const token = tokenOf(await signIn(A));
    const body = { name: 'x', ids: ['nobody'] };
    const cross = await svc.call(null, 'POST', '/api/3/cohorts/upload', body, withCookie(token, { origin: 'http://evil.example' }));
    expect(cross.status).toBe(403);
    expect(cross.body.error.code).toBe('forbidden');
    expect((await svc.call(null, 'DELETE', '/api/3/cohorts/abc', undefined, withCookie(token, { origin: 'null' }))).status).toBe(403);
    expect((await svc.call(null, 'DELETE', '/api/session', undefined, withCookie(token, { origin: 'http://evil.example' }))).status).toBe(403);
    const same = await svc.call(null, 'POST', '/api/3/cohorts/upload', body, withCookie(token, { origin: `http://${host()}` }));
    expect(same.status).toBe(201);
    // reading from another origin is not a change (and CORS keeps the page from seeing the reply)
    expect((await svc.call(null, 'GET', '/api/3/cohorts', undefined, withCookie(token, { origin: 'http://evil.example' }))).status).toBe(200);
    // Basic auth is not a browser's ambient credential: no Origin check
    expect((await svc.call(A, 'POST', '/api/3/cohorts/upload', body, { origin: 'http://elsewhere.example' })).status).toBe(201);
  });
});

describe('failed sign-ins', () => {
  it('are limited per client: the 11th within a minute is a 429 with Retry-After, whatever the keys', async () => {
    const limited = await startTestService(ch);
    try {
      const keys = limited.projects[0]!;
      const attempt = (secret: string) => limited.call(null, 'POST', '/api/session', { api_key: keys.api_key, secret_key: secret });
      for (let i = 0; i < 10; i++) expect((await attempt(`wrong-${i}`)).status).toBe(401);
      const blocked = await attempt(keys.secret_key);
      expect(blocked.status).toBe(429);
      expect(blocked.body.error.code).toBe('too_many_requests');
      const retryAfter = Number(blocked.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    } finally {
      await limited.stop();
    }
  });
});
