import { ApiError, SESSION_EXPIRED, createApi, errorFromReply, messageOf, queryString } from './client';

interface Call {
  url: string;
  init: RequestInit;
}

/** A fetch that answers from a table and records what it was asked. */
function fakeFetch(answer: (url: string, init: RequestInit) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetch = (async (input: RequestInfo | URL, init: RequestInit = {}) => {
    calls.push({ url: String(input), init });
    return answer(String(input), init);
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const apiError = (status: number, code: string, message: string, details: unknown[] = []) => json(status, { error: { code, message, details } });

async function caught(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

describe('API client', () => {
  it('sends parameters (repeated ones too), JSON bodies and the cookie, and returns the JSON', async () => {
    const f = fakeFetch(() => json(200, { data: [] }));
    const api = createApi({ fetch: f.fetch });
    await api.funnels([['e', '{"event_type":"A"}'], ['e', '{"event_type":"B"}'], ['countGroup', 'company']]);
    expect(f.calls[0]!.url).toBe('/api/2/funnels?e=%7B%22event_type%22%3A%22A%22%7D&e=%7B%22event_type%22%3A%22B%22%7D&countGroup=company');
    expect(f.calls[0]!.init.credentials).toBe('same-origin');
    await api.createCohort({ name: 'n', countGroup: 'company', definition: [] });
    expect(f.calls[1]!.init.method).toBe('POST');
    expect((f.calls[1]!.init.headers as Record<string, string>)['content-type']).toBe('application/json');
    expect(JSON.parse(String(f.calls[1]!.init.body))).toEqual({ name: 'n', countGroup: 'company', definition: [] });
  });

  it('uploads a file as text/plain with name and countGroup in the query', async () => {
    const f = fakeFetch(() => json(201, { id: 'c1', matched: 2, total: 3, unknown_sample: ['x'] }));
    const api = createApi({ fetch: f.fetch });
    const reply = await api.uploadCohort('Churned', 'company', 'a\nb\nx\n');
    expect(reply.matched).toBe(2);
    expect(f.calls[0]!.url).toBe('/api/3/cohorts/upload?name=Churned&countGroup=company');
    expect((f.calls[0]!.init.headers as Record<string, string>)['content-type']).toMatch(/^text\/plain/);
    expect(f.calls[0]!.init.body).toBe('a\nb\nx\n');
  });

  it('escapes path segments (group values may hold slashes)', async () => {
    const f = fakeFetch(() => json(200, { events: [] }));
    await createApi({ fetch: f.fetch }).activity('workspace', 'acct-1/ws-2', { limit: 50, offset: 100 });
    expect(f.calls[0]!.url).toBe('/api/2/groups/workspace/acct-1%2Fws-2/activity?limit=50&offset=100&direction=latest');
  });

  it("shows the API's own error message, code and details", async () => {
    const f = fakeFetch(() => apiError(400, 'unknown_group_type', 'unknown group type "team" (in countGroup)', [{ param: 'countGroup' }]));
    const err = await caught(createApi({ fetch: f.fetch }).segmentation({ e: '{}' }));
    expect(err).toMatchObject({ status: 400, code: 'unknown_group_type', message: 'unknown group type "team" (in countGroup)', details: [{ param: 'countGroup' }] });
    expect(messageOf(err)).toBe('unknown group type "team" (in countGroup)');
  });

  it.each([
    [502, '<html>Bad Gateway</html>', 'HTTP 502: the query service is unreachable (bad gateway)'],
    [504, '', 'HTTP 504: the query took too long'],
    [500, '{"error": "boom"}', 'HTTP 500: the query service failed'],
    [418, '{"error": {"code": "x"}}', 'HTTP 418: the request was refused'],
    [599, 'x', 'HTTP 599: the query service failed'],
  ])('describes a reply without the error shape by its status (%i)', (status, body, message) => {
    expect(errorFromReply(status, body)).toMatchObject({ status, code: 'http_error', message });
  });

  it('a 401 on a signed-in call ends the session: the app is told, the error says so', async () => {
    const expired: string[] = [];
    const f = fakeFetch(() => apiError(401, 'unauthorized', 'your session has expired; sign in again'));
    const api = createApi({ fetch: f.fetch, onSessionExpired: (m) => expired.push(m) });
    const err = await caught(api.cohorts());
    expect(err.code).toBe(SESSION_EXPIRED);
    expect(err.status).toBe(401);
    expect(err.message).toBe('Your session has expired. Sign in again.');
    expect(expired).toEqual(['Your session has expired. Sign in again.']);
  });

  it('wrong keys at sign-in are an error to show, not an expired session', async () => {
    const expired: string[] = [];
    const f = fakeFetch(() => apiError(401, 'unauthorized', 'invalid api_key or secret_key'));
    const api = createApi({ fetch: f.fetch, onSessionExpired: (m) => expired.push(m) });
    const err = await caught(api.signIn('k', 'wrong'));
    expect(err).toMatchObject({ status: 401, code: 'unauthorized', message: 'invalid api_key or secret_key' });
    expect(expired).toEqual([]);
    expect(JSON.parse(String(f.calls[0]!.init.body))).toEqual({ api_key: 'k', secret_key: 'wrong' });
  });

  it('session(): the project when signed in, null when not; sign-out accepts 204', async () => {
    const signedIn = fakeFetch(() => json(200, { project: { id: 1, name: 'demo' }, expires_at: '2026-11-16T00:00:00Z' }));
    expect(await createApi({ fetch: signedIn.fetch }).session()).toEqual({ project: { id: 1, name: 'demo' }, expires_at: '2026-11-16T00:00:00Z' });
    const signedOut = fakeFetch(() => apiError(401, 'unauthorized', 'not signed in'));
    expect(await createApi({ fetch: signedOut.fetch, onSessionExpired: () => { throw new Error('not an expiry'); } }).session()).toBeNull();
    const out = fakeFetch(() => new Response(null, { status: 204 }));
    await expect(createApi({ fetch: out.fetch }).signOut()).resolves.toBeUndefined();
    expect(out.calls[0]!.init.method).toBe('DELETE');
  });

  it('a network failure is an error naming the cause', async () => {
    const f = fakeFetch(() => {
      throw new TypeError('Failed to fetch');
    });
    const err = await caught(createApi({ fetch: f.fetch }).groupTypes());
    expect(err).toMatchObject({ status: 0, code: 'network', message: 'Cannot reach the query service: Failed to fetch' });
  });

  it('a 2xx that is not JSON is an error, not a crash', async () => {
    const f = fakeFetch(() => new Response('<html>login page</html>', { status: 200 }));
    const err = await caught(createApi({ fetch: f.fetch }).groupTypes());
    expect(err).toMatchObject({ code: 'bad_reply', message: 'The query service sent a reply that is not JSON (HTTP 200)' });
  });

  it('an aborted request stays an abort (a screen that moved on ignores it)', async () => {
    const f = fakeFetch((_url, init) => {
      if (init.signal?.aborted) throw new DOMException('The operation was aborted.', 'AbortError');
      return json(200, {});
    });
    const ctl = new AbortController();
    ctl.abort();
    await expect(createApi({ fetch: f.fetch }).groupTypes(ctl.signal)).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('download URLs carry the parameters and format=csv', () => {
    const api = createApi({ baseUrl: 'http://127.0.0.1:9' });
    expect(api.microscopeCsvUrl([['chart', 'funnels'], ['step', '3']])).toBe('http://127.0.0.1:9/api/2/microscope?chart=funnels&step=3&format=csv');
    expect(api.cohortMembersCsvUrl('c 1')).toBe('http://127.0.0.1:9/api/3/cohorts/c%201/members?format=csv');
  });

  it('query strings skip undefined values and keep repeats', () => {
    expect(queryString({ a: 1, b: undefined, c: 'x y', d: false })).toBe('?a=1&c=x+y&d=false');
    expect(queryString([['e', '1'], ['e', '2']])).toBe('?e=1&e=2');
    expect(queryString({})).toBe('');
  });
});
