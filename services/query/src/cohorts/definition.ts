// Cohort definitions: conditions ANDed, each either "did <event> (with filters) <op> N times in the last D days" or
// "belongs to a group whose property matches" (group_property: users of companies with plan = enterprise, or, in a
// cohort of groups, the groups themselves), on the group's current properties or those stamped on its events.
// Pure validation; the SQL lives in compute.ts.

export type CountOp = '>=' | '>' | '<=' | '<' | '=' | '!=';
const OPS: readonly CountOp[] = ['>=', '>', '<=', '<', '=', '!='];

export interface EventCondition {
  type: 'event';
  event_type: string;
  filters: unknown[];
  op: CountOp;
  value: number;
  time_type: 'rolling';
  /** days */
  time_value: number;
}

/**
 * A group property condition: the chart filter's fields (`subprop_*`) on a property of `group_type` (no
 * subprop_key: the group value itself). gpMode `current`: the group's properties now; `event`: as stamped on its
 * events. A cohort of users takes the users with an event attributed to such a group in the last time_value days; a
 * cohort of groups (of group_type) takes the groups themselves: every one whose current properties match, or, with
 * gpMode event, those with an event in the last time_value days stamped with matching properties.
 */
export interface GroupPropertyCondition {
  type: 'group_property';
  group_type: string;
  subprop_key?: string;
  subprop_op: string;
  subprop_value: unknown[];
  gpMode: 'current' | 'event';
  /** days */
  time_value: number;
}

export type CohortCondition = EventCondition | GroupPropertyCondition;

export class CohortDefinitionError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export const MAX_CONDITIONS = 10;

function parseDays(at: string, raw: unknown): number {
  const days = raw ?? 30;
  if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 3650) {
    throw new CohortDefinitionError(`${at}.time_value`, `${at}.time_value must be a number of days from 1 to 3650`);
  }
  return days;
}

function parseGroupProperty(at: string, c: Record<string, unknown>): GroupPropertyCondition {
  if (typeof c.group_type !== 'string' || c.group_type === '') throw new CohortDefinitionError(`${at}.group_type`, `${at}.group_type is required`);
  if (c.subprop_key !== undefined && (typeof c.subprop_key !== 'string' || c.subprop_key === '')) {
    throw new CohortDefinitionError(`${at}.subprop_key`, `${at}.subprop_key must be a property name (leave it out to test the group value)`);
  }
  if (typeof c.subprop_op !== 'string') throw new CohortDefinitionError(`${at}.subprop_op`, `${at}.subprop_op is required`);
  if (!Array.isArray(c.subprop_value)) throw new CohortDefinitionError(`${at}.subprop_value`, `${at}.subprop_value must be an array of values`);
  const gpMode = c.gpMode ?? 'current';
  if (gpMode !== 'current' && gpMode !== 'event') throw new CohortDefinitionError(`${at}.gpMode`, `${at}.gpMode must be "current" or "event"`);
  return {
    type: 'group_property',
    group_type: c.group_type,
    ...(c.subprop_key === undefined ? {} : { subprop_key: c.subprop_key }),
    subprop_op: c.subprop_op,
    subprop_value: structuredClone(c.subprop_value),
    gpMode,
    time_value: parseDays(at, c.time_value),
  };
}

export function parseCohortDefinition(raw: unknown): CohortCondition[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new CohortDefinitionError('definition', 'definition must be a non-empty array of conditions');
  if (raw.length > MAX_CONDITIONS) throw new CohortDefinitionError('definition', `at most ${MAX_CONDITIONS} conditions`);
  return raw.map((c, i): CohortCondition => {
    const at = `definition[${i}]`;
    if (!isObject(c)) throw new CohortDefinitionError(at, `${at} must be an object`);
    if (c.type === 'group_property') return parseGroupProperty(at, c);
    if (c.type !== 'event') throw new CohortDefinitionError(`${at}.type`, `${at}.type must be "event" or "group_property"`);
    if (typeof c.event_type !== 'string' || c.event_type === '') throw new CohortDefinitionError(`${at}.event_type`, `${at}.event_type is required`);
    const filters = c.filters ?? [];
    if (!Array.isArray(filters)) throw new CohortDefinitionError(`${at}.filters`, `${at}.filters must be an array`);
    const op = c.op ?? '>=';
    if (typeof op !== 'string' || !(OPS as readonly string[]).includes(op)) throw new CohortDefinitionError(`${at}.op`, `${at}.op must be one of ${OPS.join(' ')}`);
    const value = c.value ?? 1;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1_000_000_000) {
      throw new CohortDefinitionError(`${at}.value`, `${at}.value must be an integer from 0 to 1000000000`);
    }
    const timeType = c.time_type ?? 'rolling';
    if (timeType !== 'rolling') throw new CohortDefinitionError(`${at}.time_type`, `${at}.time_type must be "rolling" (the last time_value days)`);
    return { type: 'event', event_type: c.event_type, filters: structuredClone(filters), op: op as CountOp, value, time_type: 'rolling', time_value: parseDays(at, c.time_value) };
  });
}

/** Does a count of zero satisfy the condition? Then members include those who never did the event. */
export function admitsZero(c: Pick<EventCondition, 'op' | 'value'>): boolean {
  switch (c.op) {
    case '>=':
      return c.value <= 0;
    case '>':
      return false;
    case '<=':
      return true;
    case '<':
      return c.value > 0;
    case '=':
      return c.value === 0;
    case '!=':
      return c.value !== 0;
  }
}
