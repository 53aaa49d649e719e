// A Salesforce REST client for the sync, as Salesforce documents the API:
//   token     POST {login_url}/services/oauth2/token, grant_type=client_credentials (a connected app's client id and
//             secret) -> {access_token, instance_url, token_type: "Bearer", issued_at, ...}; errors
//             {error, error_description}
//   describe  GET {instance_url}/services/data/vXX.X/sobjects/{object}/describe -> {name, queryable, fields: [{name,
//             type, filterable, ...}]}
//   query     GET .../query?q=SOQL -> {totalSize, done, nextRecordsUrl?, records: [{attributes, Id, ...}]}; the next
//             page is a GET of nextRecordsUrl until done is true
//   errors    [{"message", "errorCode"}]: 401 INVALID_SESSION_ID (expired or revoked token), 403
//             REQUEST_LIMIT_EXCEEDED (API limits), 400 INVALID_FIELD / MALFORMED_QUERY, 404 NOT_FOUND, 5xx
// An expired token (INVALID_SESSION_ID) is replaced by a new one and the request made again, once. Rate limits,
// 429, 5xx and network failures are retried with exponential back-off (Retry-After honoured); anything else, or a
// retryable failure that outlasts the retries, is a SalesforceError for the caller to report. Neither the secret
// nor a token is ever logged or put into an error.
import { Counter } from 'prom-client';
import { backoffMs, type Backoff } from './schedule';
import { describePath, nextPage, queryPath } from './soql';
import type { Describe } from './mapping';

export interface SalesforceCredentials {
  login_url: string;
  client_id: string;
  client_secret: string;
}

export class SalesforceError extends Error {
  constructor(
    /** Salesforce's errorCode (or OAuth error), or CONNECTION_ERROR / TIMEOUT / HTTP_<status> / BAD_REPLY */
    readonly code: string,
    message: string,
    readonly status: number,
    /** a failure worth trying again later (limits, 5xx, network), as opposed to a request Salesforce refuses */
    readonly retryable: boolean,
    /** Salesforce's Retry-After hint */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

const requests = new Counter({
  name: 'groupscope_query_salesforce_requests_total',
  help: 'Requests to Salesforce by kind (token, describe, query) and outcome (ok, retried, error)',
  labelNames: ['kind', 'outcome'] as const,
});
const retries = new Counter({
  name: 'groupscope_query_salesforce_retries_total',
  help: 'Salesforce requests retried, by error code',
  labelNames: ['code'] as const,
});
const tokenRefreshes = new Counter({
  name: 'groupscope_query_salesforce_token_refreshes_total',
  help: 'Access tokens replaced because Salesforce reported the session expired or invalid',
});

export interface ClientOptions {
  /** read on every token request, so a rotated secret is picked up without a restart */
  credentials: () => Promise<SalesforceCredentials>;
  apiVersion: string;
  requestTimeoutMs: number;
  /** attempts after the first one for retryable failures */
  retries: number;
  backoff: Backoff;
  /** records per query page (Sforce-Query-Options batchSize, 200..2000) */
  batchSize: number;
  /** waits between retries (tests shorten it through the back-off settings) */
  sleep?: (ms: number) => Promise<void>;
  /** called for each retry, for the run's statistics */
  onRetry?: (code: string) => void;
}

type Kind = 'token' | 'describe' | 'query';

interface Token {
  access_token: string;
  instance_url: string;
  /** when present (expires_in), the token is replaced shortly before */
  expires_at?: number;
}

const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Salesforce's error body: a list of {message, errorCode} (or one such object); OAuth: {error, error_description}. */
export function errorOf(status: number, body: unknown): { code: string; message: string } {
  const first = Array.isArray(body) ? body[0] : body;
  if (first && typeof first === 'object') {
    const e = first as Record<string, unknown>;
    if (typeof e.errorCode === 'string') return { code: e.errorCode, message: typeof e.message === 'string' ? e.message : e.errorCode };
    if (typeof e.error === 'string') return { code: e.error, message: typeof e.error_description === 'string' ? e.error_description : e.error };
  }
  return { code: `HTTP_${status}`, message: `Salesforce answered HTTP ${status}` };
}

export const isRetryable = (status: number, code: string): boolean => status >= 500 || status === 429 || code === 'REQUEST_LIMIT_EXCEEDED';

/** Seconds of a Retry-After header, as ms (dates and nonsense are ignored). */
function retryAfterMs(h: string | null): number | undefined {
  if (!h || !/^\d+$/.test(h.trim())) return undefined;
  return Number(h.trim()) * 1000;
}

export class SalesforceClient {
  private token: Promise<Token> | undefined;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: ClientOptions) {
    this.sleep = opts.sleep ?? sleepMs;
  }

  /** Requests a new access token (whether the credentials work now); the instance URL it names. */
  async connect(): Promise<string> {
    this.token = undefined;
    return (await this.currentToken()).instance_url;
  }

  describe(sobject: string): Promise<Describe> {
    return this.get('describe', describePath(this.opts.apiVersion, sobject)) as Promise<Describe>;
  }

  /** The pages of a query's records, following nextRecordsUrl. */
  async *query(soql: string): AsyncGenerator<unknown[]> {
    let path: string | undefined = queryPath(this.opts.apiVersion, soql);
    while (path) {
      const reply = (await this.get('query', path)) as { done?: unknown; nextRecordsUrl?: unknown; records?: unknown };
      if (!reply || typeof reply !== 'object' || !Array.isArray(reply.records)) throw new SalesforceError('BAD_REPLY', 'a query reply without records', 200, false);
      const next = this.nextOf(reply);
      yield reply.records;
      path = next;
    }
  }

  private nextOf(reply: { done?: unknown; nextRecordsUrl?: unknown }): string | undefined {
    try {
      return nextPage(reply);
    } catch (err) {
      throw new SalesforceError('BAD_REPLY', (err as Error).message, 200, false);
    }
  }

  private currentToken(): Promise<Token> {
    const t = this.token;
    if (t) {
      return t.then((tok) => {
        if (tok.expires_at !== undefined && tok.expires_at <= Date.now()) {
          if (this.token === t) this.token = undefined;
          return this.currentToken();
        }
        return tok;
      });
    }
    const fresh = this.retrying('token', () => this.fetchToken());
    this.token = fresh;
    fresh.catch(() => {
      if (this.token === fresh) this.token = undefined;
    });
    return fresh;
  }

  private async fetchToken(): Promise<Token> {
    const c = await this.opts.credentials();
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: c.client_id, client_secret: c.client_secret });
    const res = await this.send(`${c.login_url.replace(/\/+$/, '')}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: body.toString(),
    });
    const json = await this.json(res);
    if (!res.ok) {
      const e = errorOf(res.status, json);
      throw new SalesforceError(e.code, `token request refused: ${e.message}`, res.status, isRetryable(res.status, e.code));
    }
    const r = json as Record<string, unknown>;
    if (typeof r.access_token !== 'string' || typeof r.instance_url !== 'string' || !/^https?:\/\/[^/]+/.test(r.instance_url)) {
      throw new SalesforceError('BAD_REPLY', 'the token reply has no access_token or instance_url', res.status, false);
    }
    const expiresIn = typeof r.expires_in === 'number' ? r.expires_in : typeof r.expires_in === 'string' ? Number(r.expires_in) : NaN;
    const token: Token = { access_token: r.access_token, instance_url: r.instance_url.replace(/\/+$/, '') };
    if (Number.isFinite(expiresIn) && expiresIn > 0) token.expires_at = Date.now() + Math.max(0, expiresIn - 60) * 1000;
    return token;
  }

  private async get(kind: Kind, path: string): Promise<unknown> {
    return this.retrying(kind, async () => {
      let refreshed = false;
      for (;;) {
        const tok = await this.currentToken();
        const res = await this.send(tok.instance_url + path, {
          method: 'GET',
          headers: { authorization: `Bearer ${tok.access_token}`, accept: 'application/json', 'sforce-query-options': `batchSize=${this.opts.batchSize}` },
        });
        const json = await this.json(res);
        if (res.ok) return json;
        const e = errorOf(res.status, json);
        if (res.status === 401 && !refreshed) {
          // the session expired or was revoked: a new token, then the same request once more
          if (this.token) this.token = undefined;
          tokenRefreshes.inc();
          refreshed = true;
          continue;
        }
        throw new SalesforceError(e.code, e.message, res.status, isRetryable(res.status, e.code), retryAfterMs(res.headers.get('retry-after')));
      }
    });
  }

  /** Runs `attempt`, retrying retryable failures with back-off. */
  private async retrying<T>(kind: Kind, attempt: () => Promise<T>): Promise<T> {
    for (let n = 0; ; n++) {
      try {
        const out = await attempt();
        requests.inc({ kind, outcome: 'ok' });
        return out;
      } catch (err) {
        // anything but a Salesforce failure (e.g. missing credentials) is not retried and keeps its own type
        if (!(err instanceof SalesforceError)) {
          requests.inc({ kind, outcome: 'error' });
          throw err;
        }
        const e = err;
        if (!e.retryable || n >= this.opts.retries) {
          requests.inc({ kind, outcome: 'error' });
          throw e;
        }
        requests.inc({ kind, outcome: 'retried' });
        retries.inc({ code: e.code });
        this.opts.onRetry?.(e.code);
        await this.sleep(Math.min(this.opts.backoff.maxMs, Math.max(e.retryAfterMs ?? 0, backoffMs(this.opts.backoff, n + 1))));
      }
    }
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(this.opts.requestTimeoutMs) });
    } catch (err) {
      const e = err as Error;
      if (e.name === 'TimeoutError') throw new SalesforceError('TIMEOUT', `Salesforce did not answer within ${this.opts.requestTimeoutMs} ms`, 0, true);
      // the URL may name the login host but never carries a secret (that travels in the body)
      throw new SalesforceError('CONNECTION_ERROR', `cannot reach Salesforce: ${(e.cause as Error | undefined)?.message ?? e.message}`, 0, true);
    }
  }

  private async json(res: Response): Promise<unknown> {
    const text = await res.text();
    if (text === '') return null;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      if (res.ok) throw new SalesforceError('BAD_REPLY', `Salesforce answered HTTP ${res.status} with a body that is not JSON`, res.status, false);
      return null;
    }
  }
}
