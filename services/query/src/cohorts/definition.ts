// Behavioral cohort definitions: conditions ANDed, each "did <event> (with filters) <op> N times in the last D days".
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

export function parseCohortDefinition(raw: unknown): EventCondition[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new CohortDefinitionError('definition', 'definition must be a non-empty array of conditions');
  if (raw.length > MAX_CONDITIONS) throw new CohortDefinitionError('definition', `at most ${MAX_CONDITIONS} conditions`);
  return raw.map((c, i): EventCondition => {
    const at = `definition[${i}]`;
    if (!isObject(c)) throw new CohortDefinitionError(at, `${at} must be an object`);
    if (c.type !== 'event') throw new CohortDefinitionError(`${at}.type`, `${at}.type must be "event"`);
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
    const days = c.time_value ?? 30;
    if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 3650) {
      throw new CohortDefinitionError(`${at}.time_value`, `${at}.time_value must be a number of days from 1 to 3650`);
    }
    return { type: 'event', event_type: c.event_type, filters: structuredClone(filters), op: op as CountOp, value, time_type: 'rolling', time_value: days };
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
