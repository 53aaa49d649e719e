// Health scores: the definition (validated here) and the formula. Pure: no I/O, no clock.
//
// A score is a weighted mean of normalised usage metrics, on a scale of 0 to 100:
//   n_i   = clamp((v_i - poor_i) / (healthy_i - poor_i), 0, 1)     each component's metric, normalised
//   score = round(100 * sum(w_i * n_i) / sum(w_i))                   over the components that have a value
// `poor` is where a component contributes nothing and `healthy` where it contributes fully; a metric where less is
// better (days since last seen) has poor > healthy. A component without a value (a % change against an empty
// period, days since last seen of a group never seen) is left out and the others' weights are scaled up; with no
// component valued there is no score. The band: healthy when score >= thresholds.healthy, at risk when score >=
// thresholds.at_risk, else critical.
import { NUMERIC_COLUMNS } from '../sql/usage';

export interface Component {
  /** a usage metric column (sql/usage.ts) or days_since_last_seen */
  metric: string;
  weight: number;
  poor: number;
  healthy: number;
}

export interface Thresholds {
  healthy: number;
  at_risk: number;
}

export interface HealthDefinition {
  components: Component[];
  thresholds: Thresholds;
}

export type Band = 'healthy' | 'at_risk' | 'critical';
export const BANDS: readonly Band[] = ['healthy', 'at_risk', 'critical'];

export interface HealthScoreInput {
  group_type: string;
  name: string;
  definition: HealthDefinition;
}

export class HealthDefinitionError extends Error {
  constructor(
    readonly param: string,
    message: string,
    readonly code = 'invalid_definition',
  ) {
    super(message);
  }
}

export const MAX_COMPONENTS = 10;
export const DEFAULT_THRESHOLDS: Thresholds = { healthy: 70, at_risk: 40 };
const MAX_NAME = 200;
const BAND_SUFFIX = '_band';

/** The group properties a score writes: its value and its band. */
export function propertyNames(name: string): { score: string; band: string } {
  return { score: name, band: `${name}${BAND_SUFFIX}` };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function fail(param: string, message: string, code?: string): never {
  throw new HealthDefinitionError(param, message, code);
}

function parseName(raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '') fail('name', 'name is required: it names the group property the score is written to');
  const name = raw.trim();
  if (name.length > MAX_NAME) fail('name', `name is longer than ${MAX_NAME} characters`);
  if (name.startsWith('$')) fail('name', 'name must not start with $ (operations and built-in properties do)');
  return name;
}

function parseComponents(raw: unknown): Component[] {
  if (!Array.isArray(raw) || raw.length === 0) fail('components', `components must be a non-empty array (at most ${MAX_COMPONENTS})`);
  if (raw.length > MAX_COMPONENTS) fail('components', `at most ${MAX_COMPONENTS} components`);
  return raw.map((c, i): Component => {
    const at = `components[${i}]`;
    if (!isObject(c)) fail(at, `${at} must be an object {metric, weight, poor, healthy}`);
    if (typeof c.metric !== 'string' || !NUMERIC_COLUMNS.includes(c.metric)) {
      fail(`${at}.metric`, `${at}.metric must be one of: ${NUMERIC_COLUMNS.join(', ')}`, 'unknown_metric');
    }
    const weight = c.weight ?? 1;
    if (!finite(weight) || weight <= 0 || weight > 1000) fail(`${at}.weight`, `${at}.weight must be a number above 0 and at most 1000`);
    if (!finite(c.poor)) fail(`${at}.poor`, `${at}.poor must be a number: the value that scores nothing`);
    if (!finite(c.healthy)) fail(`${at}.healthy`, `${at}.healthy must be a number: the value that scores fully`);
    if (c.poor === c.healthy) fail(`${at}.healthy`, `${at}: poor and healthy must differ`);
    return { metric: c.metric, weight, poor: c.poor, healthy: c.healthy };
  });
}

function parseThresholds(raw: unknown): Thresholds {
  if (raw === undefined) return { ...DEFAULT_THRESHOLDS };
  if (!isObject(raw)) fail('thresholds', 'thresholds must be an object {healthy, at_risk}');
  const healthy = raw.healthy ?? DEFAULT_THRESHOLDS.healthy;
  const atRisk = raw.at_risk ?? DEFAULT_THRESHOLDS.at_risk;
  if (!finite(healthy) || healthy < 0 || healthy > 100) fail('thresholds.healthy', 'thresholds.healthy must be a number from 0 to 100');
  if (!finite(atRisk) || atRisk < 0 || atRisk > 100) fail('thresholds.at_risk', 'thresholds.at_risk must be a number from 0 to 100');
  if (atRisk > healthy) fail('thresholds.at_risk', 'thresholds.at_risk must not be above thresholds.healthy');
  return { healthy, at_risk: atRisk };
}

/** A request body {group_type, name, components, thresholds?} as a definition, or a HealthDefinitionError naming the field. */
export function parseHealthScore(body: unknown): HealthScoreInput {
  if (!isObject(body)) fail('body', 'the body must be a JSON object {group_type, name, components, thresholds}');
  if (typeof body.group_type !== 'string' || body.group_type === '') fail('group_type', 'group_type is required');
  return { group_type: body.group_type, name: parseName(body.name), definition: { components: parseComponents(body.components), thresholds: parseThresholds(body.thresholds) } };
}

export interface ComponentScore extends Component {
  value: number | null;
  /** 0..1, null when the metric has no value */
  normalised: number | null;
  /** the points it adds to the score (its share of the weights times its normalised value, times 100) */
  points: number | null;
}

export interface Score {
  score: number | null;
  band: Band | null;
  components: ComponentScore[];
}

export function normalise(c: Pick<Component, 'poor' | 'healthy'>, value: number): number {
  const n = (value - c.poor) / (c.healthy - c.poor);
  return Math.min(1, Math.max(0, n));
}

export function bandOf(score: number, t: Thresholds): Band {
  if (score >= t.healthy) return 'healthy';
  if (score >= t.at_risk) return 'at_risk';
  return 'critical';
}

/** The score of one group from its usage numbers (sql/usage.ts usageNumbers), with each component's part. */
export function scoreOf(def: HealthDefinition, numbers: Record<string, number | null>): Score {
  const valued = def.components.filter((c) => numbers[c.metric] !== null && numbers[c.metric] !== undefined);
  const total = valued.reduce((s, c) => s + c.weight, 0);
  const components = def.components.map((c): ComponentScore => {
    const v = numbers[c.metric];
    if (v === null || v === undefined) return { ...c, value: null, normalised: null, points: null };
    const n = normalise(c, v);
    return { ...c, value: v, normalised: n, points: (100 * c.weight * n) / total };
  });
  if (valued.length === 0) return { score: null, band: null, components };
  const score = Math.round(components.reduce((s, c) => s + (c.points ?? 0), 0));
  return { score, band: bandOf(score, def.thresholds), components };
}
