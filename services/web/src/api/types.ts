// The query API's replies as the UI reads them (see the query API contract).

export interface SessionInfo {
  project: { id: number; name: string };
  expires_at: string;
}

export interface SegmentationData {
  series: number[][];
  seriesLabels: (number | [number, string])[];
  seriesCollapsed: { setId: string; value: number }[][];
  xValues: string[];
}

export interface FunnelRow {
  meta: { segmentIndex: number };
  groupValue?: string;
  events: string[];
  cumulativeRaw: number[];
  cumulative: number[];
  stepByStep: number[];
  medianTransTimes: number[];
  avgTransTimes: number[];
}

export interface RetentionCell {
  count: number;
  outof: number;
  incomplete: boolean;
}

export interface RetentionData {
  series: { dates: string[]; values: Record<string, RetentionCell[]>; combined: RetentionCell[] }[];
  seriesMeta: { segmentIndex: number; groupValue?: string }[];
}

export interface MicroscopeReply {
  members: { id: string; first_time: string | null }[];
  countGroup: string;
  total?: number;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };
export type Properties = Record<string, JsonValue>;

export interface GroupSummary {
  group_type: string;
  group_value: string;
  properties: Properties;
  first_seen?: string | null;
  last_seen: string | null;
  /** members; not every server sends it in search results */
  num_users?: number;
}

export interface AccountReply {
  group: GroupSummary & { num_events: number; num_users: number };
  users: { user_id: string; device_id?: string; last_seen: string | null }[];
}

export interface ActivityEvent {
  event_type: string;
  time: string;
  user_id: string | null;
  device_id?: string | null;
  event_properties?: Properties;
  user_properties?: Properties;
  group_properties?: Record<string, Record<string, Properties> | Properties>;
  groups?: Record<string, string[] | string>;
  [key: string]: unknown;
}

export interface Cohort {
  id: string;
  name: string;
  countGroup: string;
  kind?: string;
  size: number;
  computed_at: string | null;
  created_at?: string | null;
}

export interface UploadReply extends Cohort {
  matched: number;
  total: number;
  unknown_sample: string[];
}

/** A behavioral cohort condition: did `event_type` (op) `value` times in the last `time_value` days. */
export interface CohortCondition {
  type: 'event';
  event_type: string;
  filters?: unknown[];
  op: '>=' | '>' | '<=' | '<' | '=' | '!=';
  value: number;
  time_type: 'rolling';
  time_value: number;
}

export type DynamicWindow = { type: 'rolling'; days: number } | { type: 'calendar'; unit: 'day' | 'week' | 'month' };

export interface DynamicProperty {
  id: string;
  group_type: string;
  name: string;
  metric: { e: unknown; m: string };
  window: DynamicWindow;
  created_at: string | null;
  last_run_at: string | null;
  last_groups: number;
}

/** Event catalog, property names and value suggestions (see services/web/README.md for the endpoints). */
export interface EventListReply {
  data: { name: string; totals?: number }[];
}
export interface PropertyListReply {
  properties: { name: string; count?: number }[];
}
export interface ValueListReply {
  values: { value: string; count?: number }[];
}

/** GET /api/2/groups/{type}/list */
export interface AccountListEntry {
  group_value: string;
  properties: Properties;
  first_seen: string | null;
  last_seen: string | null;
  /** every usage metric, its previous period (`_prev`) and % change (`_change`), and days_since_last_seen */
  metrics: Record<string, number | null>;
}
export interface AccountListReply {
  group_type: string;
  as_of: string;
  sort: { column: string; order: 'asc' | 'desc' };
  total: number;
  limit: number;
  offset: number;
  groups: AccountListEntry[];
}

/** GET /api/2/groups/{type}/{value}/usage */
export interface UsageReply {
  as_of: string;
  first_seen: string | null;
  last_seen: string | null;
  metrics: Record<string, number | null>;
  daily: { days: string[]; active_users: number[]; events: number[] };
}

export type Band = 'healthy' | 'at_risk' | 'critical';

export interface HealthComponent {
  metric: string;
  weight: number;
  poor: number;
  healthy: number;
  value: number | null;
  normalised: number | null;
  points: number | null;
}

/** GET /api/2/groups/{type}/{value}/health */
export interface HealthReply {
  health_scores: {
    id: string;
    name: string;
    score: number | null;
    band: Band | null;
    last_run_at: string | null;
    as_of: string;
    thresholds: { healthy: number; at_risk: number };
    computed: { score: number | null; band: Band | null };
    components: HealthComponent[];
  }[];
}

/** GET /api/2/groups/{type}/{value}/history */
export interface HistoryEntry {
  property: string;
  value: string | null;
  removed: boolean;
  time: string;
  source: string | null;
}
