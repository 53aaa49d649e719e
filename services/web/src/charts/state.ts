// A chart as plain data, its URL (so a chart can be bookmarked and shared) and the query API parameters it asks for.
// The URL uses the query API's own parameter names and JSON (`e`, `s`, `countGroup`, ...), so a chart's link reads
// like its API request. Pure: no DOM, no fetch; `today` is passed in.

export const CHART_KINDS = ['segmentation', 'funnels', 'retention'] as const;
export type ChartKind = (typeof CHART_KINDS)[number];

export const METRICS = ['uniques', 'totals', 'average', 'sums', 'value_avg'] as const;
export type Metric = (typeof METRICS)[number];

export const INTERVALS = ['1', '7', '30', '-3600000'] as const;
export type Interval = (typeof INTERVALS)[number];
/** retention counts days, weeks or months */
export const RETENTION_INTERVALS: readonly Interval[] = ['1', '7', '30'];

export const FUNNEL_MODES = ['ordered', 'unordered', 'sequential'] as const;
export type FunnelMode = (typeof FUNNEL_MODES)[number];

export const GP_MODES = ['event', 'current'] as const;
export type GpMode = (typeof GP_MODES)[number];

export const OPS = [
  'is', 'is not', 'contains', 'does not contain', 'less', 'less or equal', 'greater', 'greater or equal',
  'set is', 'set is not', 'set contains', 'set does not contain', 'starts with', 'does not start with', 'glob match',
  'glob does not match',
] as const;

export const PROP_TYPES = ['event', 'user', 'group'] as const;
export type PropType = (typeof PROP_TYPES)[number];

/** An event filter: a property of the event, of its user, or of one of its groups (`groupType`). */
export interface Filter {
  type: PropType;
  groupType?: string;
  key: string;
  op: string;
  values: string[];
}

/** A group-by: a property, or with type `group` and no key, the group itself ("by account"). */
export interface GroupBy {
  type: PropType;
  groupType?: string;
  key?: string;
}

/** `event` is an event type, or `_active` / `_all` (any event); a retention start event may be `_new`. */
export interface EventSpec {
  event: string;
  filters: Filter[];
}

/** A segment condition as the API takes it: `gp:<prop>`, `group:<type>:<prop>`, a built-in, or `cohort`. */
export interface Segment {
  prop: string;
  op: string;
  values: string[];
}

export interface ChartState {
  chart: ChartKind;
  /** segmentation: 1 or 2 series; funnels: the steps (2 to 10); retention: [start event, return event] */
  events: EventSpec[];
  /** applied to every segmentation series, the first funnel step, the retention start event */
  groupBy: GroupBy[];
  /** sums / value_avg: the numeric event property */
  valueProp: string;
  /** 'User' or a group type */
  countGroup: string;
  /** YYYYMMDD, inclusive */
  start: string;
  end: string;
  interval: Interval;
  metric: Metric;
  mode: FunnelMode;
  /** conversion window, seconds */
  cs: number;
  gpMode: GpMode;
  segments: Segment[];
  /** retention: unbounded ("on or after") instead of n-day */
  rolling: boolean;
  /** segmentation drawn as lines or bars (the screen's choice, not the API's) */
  display: 'line' | 'bar';
}

export const MAX_STEPS = 10;
export const DEFAULT_CS = 2_592_000;
export const MAX_CS = 366 * 86_400;
const DAY_MS = 86_400_000;

export function ymd(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
}

/** YYYYMMDD <-> YYYY-MM-DD (a date input's value) */
export const toIsoDate = (d: string) => (/^\d{8}$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}` : '');
export const fromIsoDate = (d: string) => (/^\d{4}-\d{2}-\d{2}$/.test(d) ? d.replaceAll('-', '') : '');

export function validDate(d: string): boolean {
  if (!/^\d{8}$/.test(d)) return false;
  const t = Date.UTC(Number(d.slice(0, 4)), Number(d.slice(4, 6)) - 1, Number(d.slice(6, 8)));
  return ymd(t) === d;
}

const emptyEvent = (event = ''): EventSpec => ({ event, filters: [] });

/** The events a chart of `kind` starts with. */
export function defaultEvents(kind: ChartKind): EventSpec[] {
  switch (kind) {
    case 'segmentation':
      return [emptyEvent('_active')];
    case 'funnels':
      return [emptyEvent(), emptyEvent()];
    case 'retention':
      return [emptyEvent('_new'), emptyEvent('_active')];
  }
}

/** The default chart: daily active users over the last 30 days (today included). */
export function defaultState(today: number, chart: ChartKind = 'segmentation'): ChartState {
  return {
    chart,
    events: defaultEvents(chart),
    groupBy: [],
    valueProp: '',
    countGroup: 'User',
    start: ymd(today - 29 * DAY_MS),
    end: ymd(today),
    interval: '1',
    metric: 'uniques',
    mode: 'ordered',
    cs: DEFAULT_CS,
    gpMode: 'event',
    segments: [],
    rolling: false,
    display: 'line',
  };
}

/** Switches the chart type, keeping what carries over (events as far as they fit, segments, count by, dates). */
export function withChart(state: ChartState, chart: ChartKind): ChartState {
  if (state.chart === chart) return state;
  const picked = state.events.filter((e) => e.event !== '' && !['_new', '_all'].includes(e.event));
  let events: EventSpec[];
  if (chart === 'segmentation') events = picked.slice(0, 2);
  else if (chart === 'funnels') events = picked.filter((e) => !e.event.startsWith('_')).slice(0, MAX_STEPS);
  else events = [picked[0] ?? emptyEvent('_new'), picked[1] ?? emptyEvent('_active')];
  const defaults = defaultEvents(chart);
  while (events.length < defaults.length) events.push(defaults[events.length]!);
  const interval = chart === 'retention' && !RETENTION_INTERVALS.includes(state.interval) ? '1' : state.interval;
  return { ...state, chart, events, interval };
}

// ---------------------------------------------------------------------------------------------------------------
// The API's JSON for events and group-bys

interface ApiFilter {
  subprop_type: PropType;
  subprop_key?: string;
  subprop_op: string;
  subprop_value: string[];
  group_type?: string;
}
interface ApiGroupBy {
  type: PropType;
  value?: string;
  group_type?: string;
}
interface ApiEvent {
  event_type: string;
  filters?: ApiFilter[];
  group_by?: ApiGroupBy[];
}

function filterJson(f: Filter): ApiFilter {
  return {
    subprop_type: f.type,
    ...(f.type === 'group' ? { group_type: f.groupType ?? '' } : {}),
    ...(f.key !== '' ? { subprop_key: f.key } : {}),
    subprop_op: f.op,
    subprop_value: f.values,
  };
}

function groupByJson(g: GroupBy): ApiGroupBy {
  return { type: g.type, ...(g.type === 'group' ? { group_type: g.groupType ?? '' } : {}), ...(g.key ? { value: g.key } : {}) };
}

/** An event definition as the API's `e` JSON; `groupBy` goes into its group_by. */
export function eventJson(e: EventSpec, groupBy: GroupBy[] = []): ApiEvent {
  return {
    event_type: e.event,
    ...(e.filters.length ? { filters: e.filters.map(filterJson) } : {}),
    ...(groupBy.length ? { group_by: groupBy.map(groupByJson) } : {}),
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPropType = (v: unknown): v is PropType => (PROP_TYPES as readonly unknown[]).includes(v);
const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') ? v.map(String) : undefined;

function readFilter(v: unknown): Filter | undefined {
  if (!isRecord(v) || !isPropType(v.subprop_type) || typeof v.subprop_op !== 'string') return undefined;
  const values = strings(v.subprop_value ?? []);
  const key = v.subprop_key === undefined ? '' : v.subprop_key;
  if (!values || typeof key !== 'string') return undefined;
  if (v.subprop_type === 'group') {
    if (typeof v.group_type !== 'string' || v.group_type === '') return undefined;
    return { type: 'group', groupType: v.group_type, key, op: v.subprop_op, values };
  }
  if (key === '') return undefined;
  return { type: v.subprop_type, key, op: v.subprop_op, values };
}

function readGroupBy(v: unknown): GroupBy | undefined {
  if (!isRecord(v) || !isPropType(v.type)) return undefined;
  if (v.value !== undefined && (typeof v.value !== 'string' || v.value === '')) return undefined;
  const key = v.value as string | undefined;
  if (v.type === 'group') {
    if (typeof v.group_type !== 'string' || v.group_type === '') return undefined;
    return key === undefined ? { type: 'group', groupType: v.group_type } : { type: 'group', groupType: v.group_type, key };
  }
  return key === undefined ? undefined : { type: v.type, key };
}

/** Reads one `e` value: JSON, or a bare special (`_new`, `_active`, `_all`) as the retention parameters allow. */
function readEvent(raw: string): { event: EventSpec; groupBy: GroupBy[] } | string {
  if (/^_(new|active|all)$/.test(raw)) return { event: emptyEvent(raw), groupBy: [] };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return 'is not valid JSON';
  }
  if (typeof json === 'string' && json !== '') return { event: emptyEvent(json), groupBy: [] };
  if (!isRecord(json) || typeof json.event_type !== 'string') return 'has no event_type';
  const rawFilters = Array.isArray(json.filters) ? json.filters : [];
  const rawGroupBy = Array.isArray(json.group_by) ? json.group_by : [];
  const filters = rawFilters.map(readFilter);
  const groupBy = rawGroupBy.map(readGroupBy);
  if (filters.some((f) => !f)) return 'has a filter that cannot be read';
  if (groupBy.some((g) => !g)) return 'has a group-by that cannot be read';
  return { event: { event: json.event_type, filters: filters as Filter[] }, groupBy: (groupBy as GroupBy[]).slice(0, 2) };
}

function readSegments(raw: string): Segment[] | undefined {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!Array.isArray(json)) return undefined;
  const out: Segment[] = [];
  for (const c of json) {
    const values = isRecord(c) ? strings(c.values) : undefined;
    if (!isRecord(c) || typeof c.prop !== 'string' || c.prop === '' || typeof c.op !== 'string' || !values) return undefined;
    out.push({ prop: c.prop, op: c.op, values });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// URL

/** The chart's URL query (without '?'): `chart`, one `e` per event, then whatever differs from the defaults. */
export function toSearch(state: ChartState): string {
  const p = new URLSearchParams();
  p.set('chart', state.chart);
  state.events.forEach((e, i) => p.append('e', JSON.stringify(eventJson(e, i === 0 ? urlGroupBy(state) : []))));
  if (state.countGroup !== 'User') p.set('countGroup', state.countGroup);
  p.set('start', state.start);
  p.set('end', state.end);
  if (state.interval !== '1') p.set('i', state.interval);
  if (state.metric !== 'uniques') p.set('m', state.metric);
  if (state.mode !== 'ordered') p.set('mode', state.mode);
  if (state.cs !== DEFAULT_CS) p.set('cs', String(state.cs));
  if (state.gpMode !== 'event') p.set('gpMode', state.gpMode);
  if (state.segments.length) p.set('s', JSON.stringify(state.segments));
  if (state.rolling) p.set('rm', 'rolling');
  if (state.display !== 'line') p.set('display', state.display);
  return p.toString();
}

/** In the URL (as in the API) the value property of sums / value_avg is the first group_by of the first event. */
function urlGroupBy(state: ChartState): GroupBy[] {
  const value = needsValueProp(state) && state.valueProp ? [{ type: 'event' as const, key: state.valueProp }] : [];
  return [...value, ...state.groupBy];
}

export const needsValueProp = (s: Pick<ChartState, 'chart' | 'metric'>) => s.chart === 'segmentation' && (s.metric === 'sums' || s.metric === 'value_avg');

function oneOf<T extends string>(allowed: readonly T[], raw: string | null, dflt: T, name: string, problems: string[]): T {
  if (raw === null || raw === '') return dflt;
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  problems.push(`${name} "${raw}" is not one of ${allowed.join(', ')}`);
  return dflt;
}

/**
 * Reads a chart from its URL query. What cannot be read is replaced by its default and named in `problems`, so a
 * damaged link still opens a chart, and says what was lost.
 */
export function fromSearch(search: string, today: number): { state: ChartState; problems: string[] } {
  const p = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search);
  const problems: string[] = [];
  const chart = oneOf(CHART_KINDS, p.get('chart'), 'segmentation', 'chart type', problems);
  const state = defaultState(today, chart);

  const read = p.getAll('e').map((raw, i) => {
    const r = readEvent(raw);
    if (typeof r === 'string') problems.push(`event ${i + 1} ${r}`);
    return typeof r === 'string' ? undefined : r;
  });
  const events = read.filter((r) => r !== undefined);
  if (events.length) {
    state.events = events.map((r) => r.event);
    state.groupBy = events[0]!.groupBy;
  }
  const max = chart === 'segmentation' ? 2 : chart === 'funnels' ? MAX_STEPS : 2;
  if (state.events.length > max) {
    problems.push(`a ${chart} chart takes at most ${max} events; the rest were dropped`);
    state.events = state.events.slice(0, max);
  }
  const defaults = defaultEvents(chart);
  while (state.events.length < defaults.length) state.events.push(defaults[state.events.length]!);

  const countGroup = p.get('countGroup');
  if (countGroup) state.countGroup = countGroup === 'user' ? 'User' : countGroup;
  for (const key of ['start', 'end'] as const) {
    const v = p.get(key);
    if (v === null || v === '') continue;
    if (validDate(v)) state[key] = v;
    else problems.push(`${key} "${v}" is not a date (YYYYMMDD)`);
  }
  if (state.start > state.end) {
    problems.push(`start ${state.start} is after end ${state.end}; the dates were swapped`);
    [state.start, state.end] = [state.end, state.start];
  }
  state.interval = oneOf(chart === 'retention' ? RETENTION_INTERVALS : INTERVALS, p.get('i'), '1', 'interval', problems);
  state.metric = oneOf(METRICS, p.get('m'), 'uniques', 'metric', problems);
  state.mode = oneOf(FUNNEL_MODES, p.get('mode'), 'ordered', 'funnel mode', problems);
  state.gpMode = oneOf(GP_MODES, p.get('gpMode'), 'event', 'gpMode', problems);
  const cs = p.get('cs');
  if (cs !== null && cs !== '') {
    if (/^\d+$/.test(cs) && Number(cs) >= 1 && Number(cs) <= MAX_CS) state.cs = Number(cs);
    else problems.push(`conversion window "${cs}" is not a number of seconds from 1 to ${MAX_CS}`);
  }
  const s = p.get('s');
  if (s !== null && s !== '') {
    const segments = readSegments(s);
    if (segments) state.segments = segments;
    else problems.push('the segments (s) cannot be read');
  }
  const rm = p.get('rm');
  state.rolling = rm === 'rolling';
  if (rm !== null && rm !== '' && rm !== 'rolling') problems.push(`rm "${rm}" is not "rolling"`);
  state.display = oneOf(['line', 'bar'] as const, p.get('display'), 'line', 'display', problems);

  if (needsValueProp(state) && state.groupBy[0]?.type === 'event' && state.groupBy[0].key) {
    state.valueProp = state.groupBy[0].key;
    state.groupBy = state.groupBy.slice(1);
  }
  return { state, problems };
}

// ---------------------------------------------------------------------------------------------------------------
// API parameters

/** What stops a chart from being asked for, in words for the screen; empty when it can run. */
export function chartIssues(state: ChartState): string[] {
  const out: string[] = [];
  const label = state.chart === 'funnels' ? 'Step' : state.chart === 'retention' ? '' : 'Event';
  state.events.forEach((e, i) => {
    const name = state.chart === 'retention' ? (i === 0 ? 'The start event' : 'The return event') : `${label} ${i + 1}`;
    if (e.event.trim() === '') out.push(`${name} has no event`);
    e.filters.forEach((f, j) => {
      if (f.key === '' && f.type !== 'group') out.push(`${name}: filter ${j + 1} has no property`);
      if (f.values.length === 0) out.push(`${name}: filter ${j + 1} has no value`);
    });
  });
  if (state.chart === 'funnels' && state.events.length < 2) out.push('A funnel needs at least 2 steps');
  if (needsValueProp(state) && !state.valueProp) out.push(`The metric "${state.metric}" needs a numeric event property`);
  state.groupBy.forEach((g, i) => {
    if (g.key === '') out.push(`Group by ${i + 1} has no property`);
  });
  state.segments.forEach((s, i) => {
    if (s.prop === '' || s.prop.endsWith(':')) out.push(`Segment ${i + 1} has no property`);
    else if (s.values.length === 0) out.push(`Segment ${i + 1} has no value`);
  });
  if (!validDate(state.start) || !validDate(state.end)) out.push('The date range is incomplete');
  else if (state.start > state.end) out.push('The start date is after the end date');
  return out;
}

export type Params = [string, string][];

/** The query API request for the chart: its path and parameters. */
export function toApiRequest(state: ChartState): { path: string; params: Params } {
  const params: Params = [];
  const common = () => {
    params.push(['start', state.start], ['end', state.end]);
    if (state.countGroup !== 'User') params.push(['countGroup', state.countGroup]);
    if (state.gpMode !== 'event') params.push(['gpMode', state.gpMode]);
    if (state.segments.length) params.push(['s', JSON.stringify(state.segments)]);
  };
  const json = (e: EventSpec, groupBy: GroupBy[] = []) => JSON.stringify(eventJson(e, groupBy));
  switch (state.chart) {
    case 'segmentation': {
      const [e, e2] = state.events;
      params.push(['e', json(e!, urlGroupBy(state))]);
      if (e2) params.push(['e2', json(e2, urlGroupBy(state))]);
      params.push(['m', state.metric], ['i', state.interval]);
      common();
      return { path: '/api/2/events/segmentation', params };
    }
    case 'funnels':
      state.events.forEach((e, i) => params.push(['e', json(e, i === 0 ? state.groupBy : [])]));
      params.push(['mode', state.mode], ['cs', String(state.cs)]);
      common();
      return { path: '/api/2/funnels', params };
    case 'retention': {
      const [se, re] = state.events;
      const special = (e: EventSpec, allowed: string[], groupBy: GroupBy[]) =>
        allowed.includes(e.event) && e.filters.length === 0 && groupBy.length === 0 ? e.event : json(e, groupBy);
      // a group-by on the special start event `_new` goes in `g` (it has no event definition to carry it)
      const g = state.groupBy.length && se!.event === '_new' ? state.groupBy[0] : undefined;
      params.push(['se', special(se!, ['_new', '_active'], g ? [] : state.groupBy)], ['re', special(re!, ['_all', '_active'], [])]);
      if (g) params.push(['g', gName(g)]);
      params.push(['i', state.interval]);
      if (state.rolling) params.push(['rm', 'rolling']);
      common();
      return { path: '/api/2/retention', params };
    }
  }
}

/** A group-by as a property name of `g` / `s`: `event:x`, `gp:x`, `group:<type>` or `group:<type>:<prop>`. */
export function gName(g: GroupBy): string {
  if (g.type === 'group') return g.key ? `group:${g.groupType}:${g.key}` : `group:${g.groupType}`;
  return g.type === 'event' ? `event:${g.key}` : `gp:${g.key}`;
}

/** The point of a chart the microscope lists the units of. */
export type Point =
  | { chart: 'segmentation'; x: string; segment: number }
  | { chart: 'funnels'; step: number; dropoff: boolean; segment: number }
  | { chart: 'retention'; x: string; n: number; segment: number };

/** The microscope request for a point of the chart: the chart's own parameters plus the point. */
export function microscopeParams(state: ChartState, point: Point): Params {
  const params = toApiRequest(state).params.slice();
  params.push(['chart', point.chart]);
  switch (point.chart) {
    case 'segmentation':
      params.push(['x', point.x], ['segment', String(point.segment)]);
      break;
    case 'funnels':
      params.push(['step', String(point.step)], ['dropoff', String(point.dropoff)], ['segment', String(point.segment)]);
      break;
    case 'retention':
      params.push(['x', point.x], ['n', String(point.n)], ['segment', String(point.segment)]);
      break;
  }
  return params;
}

/** True when the chart can become a dynamic group property: one series, no group-by, a count metric. */
export function dynamicPropertyProblem(state: ChartState): string | undefined {
  if (state.chart !== 'segmentation') return 'only an event segmentation chart can become a dynamic property';
  if (state.events.length !== 1) return 'the chart must have a single series (one event)';
  if (state.groupBy.length) return 'the chart must have a single series (no group-by)';
  if (state.metric !== 'uniques' && state.metric !== 'totals') return 'the metric must be uniques or totals';
  if (state.countGroup !== 'User') return 'the chart must count users (the property is computed per group from its users)';
  if (state.segments.length) return 'the chart must have no segment conditions (the property counts every user of each group)';
  return undefined;
}
