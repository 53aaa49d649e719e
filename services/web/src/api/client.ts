// The one client of the query API. Same origin, the session cookie does the auth. Every failure becomes an
// ApiError whose message the screen shows as it is: the API's own {"error": {code, message, details}}, a plain
// description of an HTTP status, or a network failure. A 401 anywhere but at sign-in means the session ended:
// `onSessionExpired` runs, so the app can return to the sign-in screen with a notice.
import type {
  AccountListReply, AccountReply, ActivityEvent, HealthReply, HistoryEntry, UsageReply, Cohort, CohortCondition, DynamicProperty, DynamicWindow, EventListReply, FunnelRow, GroupSummary,
  MicroscopeReply, PropertyListReply, RetentionData, SegmentationData, SessionInfo, UploadReply, ValueListReply,
} from './types';

export interface ErrorDetail {
  param?: string;
  [key: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    /** the HTTP status; 0 when no reply came */
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const SESSION_EXPIRED = 'session_expired';

export type Params = [string, string][] | Record<string, string | number | boolean | undefined>;

export interface ApiOptions {
  /** defaults to the page's own fetch */
  fetch?: typeof fetch;
  /** '' (same origin) unless the API lives elsewhere */
  baseUrl?: string;
  onSessionExpired?: (message: string) => void;
}

interface RequestOptions {
  method?: 'GET' | 'POST' | 'DELETE';
  params?: Params;
  json?: unknown;
  text?: string;
  signal?: AbortSignal;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'the request was refused',
  401: 'not signed in',
  403: 'not allowed',
  404: 'not found',
  409: 'it already exists',
  413: 'the request is too large',
  429: 'too many requests; try again shortly',
  500: 'the query service failed',
  502: 'the query service is unreachable (bad gateway)',
  503: 'a service the query API needs is unavailable',
  504: 'the query took too long',
};

export function queryString(params: Params | undefined): string {
  if (!params) return '';
  const entries = Array.isArray(params)
    ? params
    : Object.entries(params).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)] as [string, string]]));
  const qs = new URLSearchParams(entries).toString();
  return qs ? `?${qs}` : '';
}

/** The message to show for a reply that is not 2xx. */
export function errorFromReply(status: number, body: string): ApiError {
  try {
    const json = JSON.parse(body) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    const e = json?.error;
    if (e && typeof e.message === 'string' && e.message !== '') {
      const details = Array.isArray(e.details) ? (e.details.filter((d) => d && typeof d === 'object') as ErrorDetail[]) : [];
      return new ApiError(status, typeof e.code === 'string' ? e.code : 'error', e.message, details);
    }
  } catch {
    // not JSON: a proxy's page, a crash; described by its status below
  }
  const what = STATUS_TEXT[status] ?? (status >= 500 ? 'the query service failed' : 'the request was refused');
  return new ApiError(status, 'http_error', `HTTP ${status}: ${what}`);
}

const isAbort = (err: unknown) => typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError';

export function createApi(opts: ApiOptions = {}) {
  const base = opts.baseUrl ?? '';
  const doFetch = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));

  async function send(path: string, o: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    let body: string | undefined;
    if (o.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(o.json);
    } else if (o.text !== undefined) {
      headers['content-type'] = 'text/plain; charset=utf-8';
      body = o.text;
    }
    let res: Response;
    try {
      res = await doFetch(`${base}${path}${queryString(o.params)}`, { method: o.method ?? 'GET', headers, body, signal: o.signal, credentials: 'same-origin' });
    } catch (err) {
      if (isAbort(err)) throw err;
      throw new ApiError(0, 'network', `Cannot reach the query service: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (res.ok) return res;
    let text = '';
    try {
      text = await res.text();
    } catch (err) {
      if (isAbort(err)) throw err;
    }
    const error = errorFromReply(res.status, text);
    if (res.status === 401 && !path.startsWith('/api/session')) {
      const message = 'Your session has expired. Sign in again.';
      opts.onSessionExpired?.(message);
      throw new ApiError(401, SESSION_EXPIRED, message, error.details);
    }
    throw error;
  }

  async function json<T>(path: string, o: RequestOptions = {}): Promise<T> {
    const res = await send(path, o);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(res.status, 'bad_reply', `The query service sent a reply that is not JSON (HTTP ${res.status})`);
    }
  }

  const enc = encodeURIComponent;
  /** a URL the browser downloads itself (the cookie goes with it) */
  const url = (path: string, params?: Params) => `${base}${path}${queryString(params)}`;

  return {
    url,

    // session
    /** the signed-in project, or null when there is no session */
    async session(signal?: AbortSignal): Promise<SessionInfo | null> {
      try {
        return await json<SessionInfo>('/api/session', { signal });
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) return null;
        throw err;
      }
    },
    signIn: (apiKey: string, secretKey: string) => json<SessionInfo>('/api/session', { method: 'POST', json: { api_key: apiKey, secret_key: secretKey } }),
    signOut: () => json<void>('/api/session', { method: 'DELETE' }),

    // charts
    segmentation: (params: Params, signal?: AbortSignal) => json<{ data: SegmentationData }>('/api/2/events/segmentation', { params, signal }),
    funnels: (params: Params, signal?: AbortSignal) => json<{ data: FunnelRow[] }>('/api/2/funnels', { params, signal }),
    retention: (params: Params, signal?: AbortSignal) => json<{ data: RetentionData }>('/api/2/retention', { params, signal }),
    microscope: (params: Params, signal?: AbortSignal) => json<MicroscopeReply>('/api/2/microscope', { params, signal }),
    microscopeCsvUrl: (params: [string, string][]) => url('/api/2/microscope', [...params, ['format', 'csv']]),
    cohortFromMicroscope: (params: Params, name: string) => json<Cohort>('/api/3/cohorts/from-microscope', { method: 'POST', params, json: { name } }),

    // catalog
    events: (signal?: AbortSignal) => json<EventListReply>('/api/2/events/list', { signal }),
    properties: (q: { type: 'event' | 'user' | 'group'; group_type?: string; event_type?: string }, signal?: AbortSignal) =>
      json<PropertyListReply>('/api/2/properties', { params: q, signal }),
    propertyValues: (q: { type: 'event' | 'user' | 'group'; name: string; group_type?: string; event_type?: string; q?: string }, signal?: AbortSignal) =>
      json<ValueListReply>('/api/2/properties/values', { params: { ...q, limit: 50 }, signal }),

    // accounts
    groupTypes: (signal?: AbortSignal) => json<{ types: { group_type: string; groups: number }[] }>('/api/2/groups/types', { signal }),
    searchGroups: (q: { group_type: string; q: string; limit: number; offset: number }, signal?: AbortSignal) =>
      json<{ matches: GroupSummary[] }>('/api/2/groups/search', { params: q, signal }),
    account: (groupType: string, groupValue: string, signal?: AbortSignal) => json<AccountReply>(`/api/2/groups/${enc(groupType)}/${enc(groupValue)}`, { signal }),
    activity: (groupType: string, groupValue: string, q: { limit: number; offset: number }, signal?: AbortSignal) =>
      json<{ events: ActivityEvent[] }>(`/api/2/groups/${enc(groupType)}/${enc(groupValue)}/activity`, { params: { ...q, direction: 'latest' }, signal }),
    accountList: (groupType: string, params: Params, signal?: AbortSignal) => json<AccountListReply>(`/api/2/groups/${enc(groupType)}/list`, { params, signal }),
    accountListUrl: (groupType: string, params: [string, string][]) => url(`/api/2/groups/${enc(groupType)}/list`, params),
    usage: (groupType: string, groupValue: string, signal?: AbortSignal) => json<UsageReply>(`/api/2/groups/${enc(groupType)}/${enc(groupValue)}/usage`, { signal }),
    health: (groupType: string, groupValue: string, signal?: AbortSignal) => json<HealthReply>(`/api/2/groups/${enc(groupType)}/${enc(groupValue)}/health`, { signal }),
    history: (groupType: string, groupValue: string, q: { limit: number; offset: number }, signal?: AbortSignal) =>
      json<{ history: HistoryEntry[] }>(`/api/2/groups/${enc(groupType)}/${enc(groupValue)}/history`, { params: q, signal }),

    // cohorts
    cohorts: (signal?: AbortSignal) => json<{ cohorts: Cohort[] }>('/api/3/cohorts', { signal }),
    /** the cohorts of a group type that hold one account */
    memberOf: (groupType: string, groupValue: string, signal?: AbortSignal) =>
      json<{ cohorts: Cohort[] }>('/api/3/cohorts', { params: { countGroup: groupType, member: groupValue }, signal }),
    createCohort: (body: { name: string; countGroup: string; definition: CohortCondition[] }) => json<Cohort>('/api/3/cohorts', { method: 'POST', json: body }),
    uploadCohort: (name: string, countGroup: string, text: string) =>
      json<UploadReply>('/api/3/cohorts/upload', { method: 'POST', params: { name, countGroup }, text }),
    cohortMembersCsvUrl: (id: string) => url(`/api/3/cohorts/${enc(id)}/members`, { format: 'csv' }),
    deleteCohort: (id: string) => json<unknown>(`/api/3/cohorts/${enc(id)}`, { method: 'DELETE' }),

    // dynamic group properties
    dynamicProperties: (signal?: AbortSignal) => json<{ properties: DynamicProperty[] }>('/api/3/dynamic-properties', { signal }),
    createDynamicProperty: (body: { group_type: string; name: string; metric: { e: unknown; m: string }; window: DynamicWindow }) =>
      json<DynamicProperty>('/api/3/dynamic-properties', { method: 'POST', json: body }),
    runDynamicProperty: (id: string) => json<{ groups: number }>(`/api/3/dynamic-properties/${enc(id)}/run`, { method: 'POST' }),
    deleteDynamicProperty: (id: string) => json<unknown>(`/api/3/dynamic-properties/${enc(id)}`, { method: 'DELETE' }),
  };
}

export type Api = ReturnType<typeof createApi>;

/** The text to show for any error a call threw. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
