// Validation of a dynamic group property definition (POST /api/3/dynamic-properties). Pure. What is stored is a
// copy of the metric and window, so nothing edited elsewhere later changes an existing property.
import type { Window } from './window';

export interface DynamicDefinition {
  group_type: string;
  name: string;
  metric: { e: Record<string, unknown>; m: 'uniques' | 'totals' };
  window: Window;
}

export class DefinitionError extends Error {
  constructor(
    readonly param: string,
    message: string,
    readonly code = 'invalid_definition',
  ) {
    super(message);
  }
}

const FREQUENCY_OR_DISTRIBUTION = new Set(['frequency', 'histogram', 'pct_dau', 'prop_sum', 'prop_avg', 'sums', 'value_avg', 'average', 'props', 'prop_dist', 'distribution']);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseDynamicDefinition(body: unknown): DynamicDefinition {
  if (!isObject(body)) throw new DefinitionError('body', 'the body must be a JSON object');
  const { group_type, name, metric, window } = body;
  if (typeof group_type !== 'string' || group_type === '') throw new DefinitionError('group_type', 'group_type is required');
  if (typeof name !== 'string' || name.trim() === '') throw new DefinitionError('name', 'name is required');
  if (name.length > 1024) throw new DefinitionError('name', 'name is longer than 1024 characters');
  if (name.startsWith('$')) throw new DefinitionError('name', 'a property name may not start with $');
  if ('start' in body || 'end' in body) throw new DefinitionError('window', 'fixed date ranges are not supported: use a rolling or calendar window', 'unsupported_window');

  if (!isObject(metric)) throw new DefinitionError('metric', 'metric must be an object {e, m}');
  if ('formula' in metric || metric.m === 'formula') throw new DefinitionError('metric.m', 'formulas are not supported: use a single uniques or totals metric', 'unsupported_metric');
  if (Array.isArray(metric.e) && metric.e.length !== 1) throw new DefinitionError('metric.e', 'only a single series is supported', 'unsupported_metric');
  if ('e2' in metric || 'series' in metric) throw new DefinitionError('metric', 'only a single series is supported', 'unsupported_metric');
  const m = metric.m ?? 'uniques';
  if (typeof m !== 'string') throw new DefinitionError('metric.m', 'm must be uniques or totals');
  if (FREQUENCY_OR_DISTRIBUTION.has(m)) {
    throw new DefinitionError('metric.m', `${m} is a frequency or property-distribution metric: dynamic properties support uniques or totals only`, 'unsupported_metric');
  }
  if (m !== 'uniques' && m !== 'totals') throw new DefinitionError('metric.m', 'm must be uniques or totals');
  if (metric.countGroup !== undefined && metric.countGroup !== 'User') {
    throw new DefinitionError('metric.countGroup', 'the metric must be user-level (countGroup User); it is computed per group of group_type');
  }
  if ('start' in metric || 'end' in metric) throw new DefinitionError('metric', 'fixed date ranges are not supported: use a rolling or calendar window', 'unsupported_window');
  const e: unknown = Array.isArray(metric.e) ? metric.e[0] : metric.e;
  if (!isObject(e) || typeof e.event_type !== 'string' || e.event_type === '') throw new DefinitionError('metric.e', 'metric.e must be an event definition with an event_type');
  if (Array.isArray(e.group_by) && e.group_by.length > 0) throw new DefinitionError('metric.e.group_by', 'a group-by makes more than one series: not supported', 'unsupported_metric');

  if (!isObject(window)) throw new DefinitionError('window', 'window must be {"type": "rolling", "days": N} or {"type": "calendar", "unit": "day"|"week"|"month"}');
  let w: Window;
  if (window.type === 'rolling') {
    const days = window.days;
    if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 365) throw new DefinitionError('window.days', 'days must be an integer from 1 to 365');
    w = { type: 'rolling', days };
  } else if (window.type === 'calendar') {
    if (window.unit !== 'day' && window.unit !== 'week' && window.unit !== 'month') throw new DefinitionError('window.unit', 'unit must be day, week or month');
    w = { type: 'calendar', unit: window.unit };
  } else if (window.type === 'fixed' || window.type === 'absolute' || 'start' in window || 'end' in window) {
    throw new DefinitionError('window', 'fixed date ranges are not supported: use a rolling or calendar window', 'unsupported_window');
  } else {
    throw new DefinitionError('window.type', 'window.type must be rolling or calendar');
  }
  // a deep copy: the stored definition shares nothing with the request
  return { group_type, name: name.trim(), metric: { e: structuredClone(e), m }, window: w };
}
