// The account list as plain data that round-trips through the URL, in the query API's own parameter names and JSON
// (`columns`, `sort`, `order`, `filters`, `cohort`), plus the screen's page; and the API request it makes.
import type { Params } from '../../api/client';

export const USAGE_METRICS = ['active_users_1d', 'active_users_7d', 'active_users_30d', 'events_7d', 'events_30d'] as const;
export type UsageMetric = (typeof USAGE_METRICS)[number];
/** Columns that are not properties: the metrics (each shown with its % change) and the activity span. */
export const BUILT_IN_COLUMNS = [...USAGE_METRICS, 'days_since_last_seen', 'first_seen', 'last_seen'] as const;
export const NUMBER_OPS = ['greater', 'greater or equal', 'less', 'less or equal', 'is', 'is not'] as const;

const LABELS: Record<string, string> = {
  active_users_1d: 'Active users (1 day)',
  active_users_7d: 'Active users (7 days)',
  active_users_30d: 'Active users (30 days)',
  events_7d: 'Events (7 days)',
  events_30d: 'Events (30 days)',
  days_since_last_seen: 'Days since last seen',
  first_seen: 'First seen',
  last_seen: 'Last seen',
};

/** How a column reads on screen: built-ins by their label, a metric's change and previous period after it, properties by name. */
export function columnLabel(column: string): string {
  if (LABELS[column]) return LABELS[column]!;
  const change = /^(.*)_change$/.exec(column);
  if (change && LABELS[change[1]!]) return `${LABELS[change[1]!]} % change`;
  const prev = /^(.*)_prev$/.exec(column);
  if (prev && LABELS[prev[1]!]) return `${LABELS[prev[1]!]}, previous period`;
  return column.startsWith('property:') ? column.slice('property:'.length) : column;
}

export const isUsageMetric = (c: string): c is UsageMetric => (USAGE_METRICS as readonly string[]).includes(c);
export const isBuiltIn = (c: string) => (BUILT_IN_COLUMNS as readonly string[]).includes(c) || (/_(change|prev)$/.test(c) && isUsageMetric(c.replace(/_(change|prev)$/, '')));

/** A list filter in the API's shape: on a current property (`group`) or on a usage metric (`metric`). */
export interface ListFilter {
  subprop_type: 'group' | 'metric';
  subprop_key: string;
  subprop_op: string;
  subprop_value: string[];
}

export interface ListState {
  columns: string[];
  sort: string;
  order: 'asc' | 'desc';
  filters: ListFilter[];
  /** a cohort id, '' for none */
  cohort: string;
  page: number;
}

export const PAGE_SIZE = 50;
export const DEFAULT_LIST: ListState = {
  columns: ['active_users_1d', 'active_users_7d', 'active_users_30d', 'events_7d', 'events_30d', 'last_seen'],
  sort: 'active_users_30d',
  order: 'desc',
  filters: [],
  cohort: '',
  page: 1,
};

function parseJson(text: string | null): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const isFilter = (f: unknown): f is ListFilter =>
  typeof f === 'object' && f !== null &&
  ((f as ListFilter).subprop_type === 'group' || (f as ListFilter).subprop_type === 'metric') &&
  typeof (f as ListFilter).subprop_key === 'string' && typeof (f as ListFilter).subprop_op === 'string' &&
  Array.isArray((f as ListFilter).subprop_value) && (f as ListFilter).subprop_value.every((v) => typeof v === 'string');

/** The list from the page's query string; what cannot be read falls back to the default. */
export function listFromSearch(search: URLSearchParams): ListState {
  const columns = parseJson(search.get('columns'));
  const filters = parseJson(search.get('filters'));
  const order = search.get('order');
  return {
    columns: Array.isArray(columns) && columns.length > 0 && columns.every((c) => typeof c === 'string' && c !== '') ? (columns as string[]) : DEFAULT_LIST.columns,
    sort: search.get('sort') || DEFAULT_LIST.sort,
    order: order === 'asc' || order === 'desc' ? order : DEFAULT_LIST.order,
    filters: Array.isArray(filters) ? filters.filter(isFilter) : [],
    cohort: search.get('cohort') ?? '',
    page: Math.max(1, Math.floor(Number(search.get('page'))) || 1),
  };
}

/** The list's part of the query string (defaults left out, so a plain link stays plain). */
export function listToSearch(s: ListState): [string, string][] {
  const out: [string, string][] = [];
  if (JSON.stringify(s.columns) !== JSON.stringify(DEFAULT_LIST.columns)) out.push(['columns', JSON.stringify(s.columns)]);
  if (s.sort !== DEFAULT_LIST.sort) out.push(['sort', s.sort]);
  if (s.order !== DEFAULT_LIST.order) out.push(['order', s.order]);
  if (s.filters.length > 0) out.push(['filters', JSON.stringify(s.filters)]);
  if (s.cohort) out.push(['cohort', s.cohort]);
  if (s.page > 1) out.push(['page', String(s.page)]);
  return out;
}

/** The property columns named (what the API returns in `properties`). */
export const propertyColumns = (s: Pick<ListState, 'columns'>) => s.columns.filter((c) => !isBuiltIn(c));

/** The API columns: each usage metric with its change beside it (the table shows both; CSV gets both). */
export function apiColumns(s: Pick<ListState, 'columns'>): string[] {
  return s.columns.flatMap((c) => (isUsageMetric(c) ? [c, `${c}_change`] : [c]));
}

/** GET /api/2/groups/{type}/list for a page (or the whole list as CSV). */
export function listRequest(s: ListState, format: 'json' | 'csv' = 'json'): Params {
  const p: [string, string][] = [
    ['columns', JSON.stringify(apiColumns(s))],
    ['sort', s.sort],
    ['order', s.order],
  ];
  if (s.filters.length > 0) p.push(['filters', JSON.stringify(s.filters)]);
  if (s.cohort) p.push(['cohort', s.cohort]);
  if (format === 'csv') p.push(['format', 'csv']);
  else p.push(['limit', String(PAGE_SIZE)], ['offset', String((s.page - 1) * PAGE_SIZE)]);
  return p;
}

/** Clicking a column's sort button: that column, descending first; again, the other way. */
export function sortedBy(s: ListState, column: string): ListState {
  const order = s.sort === column ? (s.order === 'desc' ? 'asc' : 'desc') : 'desc';
  return { ...s, sort: column, order, page: 1 };
}

/** A change in %: "+12.5%", "−40%", "0%"; null (nothing in the previous period) reads "new" when there is usage now. */
export function formatChange(change: number | null | undefined, current: number | null | undefined): string {
  if (change === null || change === undefined) return current ? 'new' : '–';
  const sign = change > 0 ? '+' : change < 0 ? '−' : '';
  return `${sign}${Math.abs(change).toLocaleString('en-US', { maximumFractionDigits: 1 })}%`;
}
