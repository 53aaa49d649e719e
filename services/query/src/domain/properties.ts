// What a chart, a cohort or a dynamic property says about events: property references, property conditions and
// event definitions, as typed data. Parsed from requests in charts/request.ts, compiled to SQL in sql/conditions.ts.

export const OPS = [
  'is', 'is not', 'contains', 'does not contain', 'less', 'less or equal', 'greater', 'greater or equal', 'set is', 'set is not',
  'set contains', 'set does not contain', 'starts with', 'does not start with', 'glob match', 'glob does not match',
] as const;
export type Op = (typeof OPS)[number];
export const NUMERIC_OPS: readonly Op[] = ['less', 'less or equal', 'greater', 'greater or equal'];
/** The value that stands for "not set" in `is` / `is not` (as in Amplitude's pickers and our group-by labels). */
export const NONE = '(none)';

/** Built-in event properties that are columns of the row, by their API name. */
export const EVENT_COLUMNS = { $revenue: 'revenue' } as const;
export type EventColumn = (typeof EVENT_COLUMNS)[keyof typeof EVENT_COLUMNS];

/** Amplitude's built-in user properties that are columns of the row. */
export const BUILTIN_COLUMNS = ['user_id', 'device_id'] as const;
export type BuiltinColumn = (typeof BUILTIN_COLUMNS)[number];

export type PropRef =
  | { kind: 'event'; key: string }
  /** a built-in event property kept in a column ($revenue) */
  | { kind: 'eventColumn'; name: keyof typeof EVENT_COLUMNS; column: EventColumn }
  | { kind: 'user'; key: string }
  | { kind: 'column'; column: BuiltinColumn }
  | { kind: 'context'; key: string }
  | { kind: 'group'; groupType: string; key: string }
  | { kind: 'groupValue'; groupType: string };

export interface PropCondition {
  kind: 'prop';
  prop: PropRef;
  op: Op;
  /** the values as given; for `is` / `is not` without "(none)", which sets `none` instead */
  values: string[];
  /** `is` / `is not` named "(none)": not set (or the empty string) */
  none?: boolean;
  /** the bound number for numeric operators */
  number?: number;
  /** where it came from, for error messages: e.g. "e.filters[0]" or "s[1]" */
  param: string;
}

/** A segment condition that is not a property test (cohort membership), compiled by a handler registered at start. */
export interface ExtCondition {
  kind: 'ext';
  name: string;
  op: string;
  values: string[];
  param: string;
}

export type Condition = PropCondition | ExtCondition;

export const ANY_EVENT = ['_active', '_all'] as const;

export interface EventDef {
  /** a real event type, or '_active' / '_all' (any event) */
  eventType: string;
  filters: PropCondition[];
  groupBy: PropRef[];
  /** the parameter it came from, e.g. "e", "e2", "e[1]" */
  param: string;
}

export const isAnyEvent = (eventType: string) => (ANY_EVENT as readonly string[]).includes(eventType);

/** Group properties as stamped on each event at ingest, or the group's properties now. */
export type GpMode = 'event' | 'current';

export function describeProp(p: PropRef): string {
  switch (p.kind) {
    case 'event':
      return `event property "${p.key}"`;
    case 'eventColumn':
      return `event property "${p.name}"`;
    case 'user':
      return `user property "${p.key}"`;
    case 'column':
      return `user property "${p.column}"`;
    case 'context':
      return `user property "${p.key}"`;
    case 'group':
      return `group property "${p.key}" of group type "${p.groupType}"`;
    case 'groupValue':
      return `group type "${p.groupType}"`;
  }
}

/** The group type a property belongs to, if any. */
export function groupTypeOf(p: PropRef): string | undefined {
  return p.kind === 'group' || p.kind === 'groupValue' ? p.groupType : undefined;
}
