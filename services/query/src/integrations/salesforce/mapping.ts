// A Salesforce mapping: one object to one group type, a name field whose value is the group value, a one-to-one
// list of fields -> group properties, and a cadence. Pure validation: the shape first (parseMapping), then the
// names against the object's describe (resolveFields), which also takes Salesforce's spelling of each name.
import { API_NAME } from './soql';
import type { Cadence } from './schedule';

export interface PropertyMap {
  sf_field: string;
  group_property: string;
}

export interface MappingDef {
  sobject: string;
  group_type: string;
  name_field: string;
  properties: PropertyMap[];
  cadence: Cadence;
}

/** The JSON form of a cadence: "hourly", "daily", or {"days": N}. */
export type CadenceJson = 'hourly' | 'daily' | { days: number };

export const MAX_PROPERTIES = 100;
export const MAX_DAYS = 366;
export const MAX_MAPPINGS = 50;

export class MappingError extends Error {
  constructor(
    readonly param: string,
    message: string,
    readonly code = 'invalid_mapping',
  ) {
    super(message);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** "hourly", "daily", "weekly" (7 days), "monthly" (30 days), {"days": N} (N = 1 is daily). */
export function parseCadence(raw: unknown, param: string): Cadence {
  if (raw === 'hourly') return { type: 'hourly' };
  if (raw === 'daily') return { type: 'daily' };
  if (raw === 'weekly') return { type: 'days', days: 7 };
  if (raw === 'monthly') return { type: 'days', days: 30 };
  if (isObject(raw) && Object.keys(raw).length === 1 && 'days' in raw) {
    const d = raw.days;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > MAX_DAYS) throw new MappingError(`${param}.days`, `days must be an integer from 1 to ${MAX_DAYS}`);
    return d === 1 ? { type: 'daily' } : { type: 'days', days: d };
  }
  throw new MappingError(param, 'cadence must be "hourly", "daily", "weekly", "monthly" or {"days": N}');
}

export const cadenceJson = (c: Cadence): CadenceJson => (c.type === 'days' ? { days: c.days } : c.type);

function apiNameParam(v: unknown, param: string, what: string): string {
  if (typeof v !== 'string' || v === '') throw new MappingError(param, `${what} is required`);
  if (!API_NAME.test(v)) throw new MappingError(param, `${what} ${JSON.stringify(v.slice(0, 200))} is not a Salesforce API name (letters, digits, underscores)`);
  return v;
}

/** Validates the shape of a mapping (`prefix` locates it in an import, e.g. "mappings[2]."). */
export function parseMapping(body: unknown, prefix = ''): MappingDef {
  if (!isObject(body)) throw new MappingError(prefix ? prefix.slice(0, -1) : 'body', 'a mapping must be a JSON object');
  const sobject = apiNameParam(body.sobject, `${prefix}sobject`, 'sobject');
  const group_type = body.group_type;
  if (typeof group_type !== 'string' || group_type === '') throw new MappingError(`${prefix}group_type`, 'group_type is required');
  if (group_type.length > 1024) throw new MappingError(`${prefix}group_type`, 'group_type is longer than 1024 characters');
  const name_field = apiNameParam(body.name_field, `${prefix}name_field`, 'name_field');
  if (!Array.isArray(body.properties) || body.properties.length === 0) throw new MappingError(`${prefix}properties`, 'properties must be a non-empty list of {sf_field, group_property}');
  if (body.properties.length > MAX_PROPERTIES) throw new MappingError(`${prefix}properties`, `at most ${MAX_PROPERTIES} properties per mapping`);
  const fields = new Map<string, number>();
  const names = new Map<string, number>();
  const properties = body.properties.map((p: unknown, i: number): PropertyMap => {
    const at = `${prefix}properties[${i}]`;
    if (!isObject(p)) throw new MappingError(at, 'each property must be {sf_field, group_property}');
    const sf_field = apiNameParam(p.sf_field, `${at}.sf_field`, 'sf_field');
    const gp = p.group_property;
    if (typeof gp !== 'string' || gp.trim() === '') throw new MappingError(`${at}.group_property`, 'group_property is required');
    if (gp.length > 1024) throw new MappingError(`${at}.group_property`, 'group_property is longer than 1024 characters');
    if (gp.startsWith('$')) throw new MappingError(`${at}.group_property`, 'a group property name may not start with $');
    // one-to-one: a field feeds one property and a property comes from one field (field names ignore case)
    const dupField = fields.get(sf_field.toLowerCase());
    if (dupField !== undefined) throw new MappingError(`${at}.sf_field`, `${sf_field} is mapped twice (also properties[${dupField}])`, 'duplicate_field');
    const dupName = names.get(gp);
    if (dupName !== undefined) throw new MappingError(`${at}.group_property`, `${JSON.stringify(gp)} is mapped twice (also properties[${dupName}])`, 'duplicate_property');
    fields.set(sf_field.toLowerCase(), i);
    names.set(gp, i);
    return { sf_field, group_property: gp };
  });
  const cadence = parseCadence(body.cadence ?? 'daily', `${prefix}cadence`);
  return { sobject, group_type, name_field, properties, cadence };
}

/** The export format: {"version": 1, "mappings": [...]}; a bare list is accepted on import too. */
export function parseImport(body: unknown): MappingDef[] {
  const list = Array.isArray(body) ? body : isObject(body) ? body.mappings : undefined;
  if (isObject(body) && body.version !== undefined && body.version !== 1) throw new MappingError('version', 'unsupported export version (expected 1)');
  if (!Array.isArray(list)) throw new MappingError('mappings', 'expected {"version": 1, "mappings": [...]} or a list of mappings');
  if (list.length > MAX_MAPPINGS) throw new MappingError('mappings', `at most ${MAX_MAPPINGS} mappings per project`);
  const defs = list.map((m: unknown, i: number) => parseMapping(m, `mappings[${i}].`));
  const seen = new Map<string, number>();
  defs.forEach((d, i) => {
    const k = JSON.stringify([d.sobject.toLowerCase(), d.group_type]);
    const j = seen.get(k);
    if (j !== undefined) throw new MappingError(`mappings[${i}]`, `${d.sobject} -> ${d.group_type} appears twice (also mappings[${j}])`, 'duplicate_mapping');
    seen.set(k, i);
  });
  return defs;
}

/** What the sync needs of an object's describe. */
export interface Describe {
  name: string;
  queryable?: boolean;
  fields: { name: string; type: string; filterable?: boolean }[];
}

/** Types a group value can come from: text that a SOQL `IN ('...')` can match. */
export const NAME_FIELD_TYPES = new Set(['string', 'id', 'reference', 'email', 'phone', 'url', 'picklist', 'combobox']);
/** Compound and binary fields are not property values. */
export const UNMAPPABLE_TYPES = new Set(['address', 'location', 'base64', 'complexvalue']);

/**
 * Checks every name of a mapping against the object's describe; a field that does not exist (renamed or deleted in
 * Salesforce) is a MappingError naming it. Returns the mapping with Salesforce's spelling of each name.
 */
export function resolveFields(def: MappingDef, d: Describe, prefix = ''): MappingDef {
  if (d.queryable === false) throw new MappingError(`${prefix}sobject`, `${d.name} cannot be queried`, 'unknown_sobject');
  const byName = new Map(d.fields.map((f) => [f.name.toLowerCase(), f]));
  const field = (name: string, param: string) => {
    const f = byName.get(name.toLowerCase());
    if (!f) throw new MappingError(param, `${d.name} has no field ${name} (renamed or deleted in Salesforce?)`, 'unknown_field');
    return f;
  };
  const nf = field(def.name_field, `${prefix}name_field`);
  if (!NAME_FIELD_TYPES.has(nf.type)) {
    throw new MappingError(`${prefix}name_field`, `${nf.name} is of type ${nf.type}; the group name field must be text (${[...NAME_FIELD_TYPES].join(', ')})`, 'invalid_field_type');
  }
  if (nf.filterable === false) throw new MappingError(`${prefix}name_field`, `${nf.name} cannot be filtered on in SOQL`, 'invalid_field_type');
  const properties = def.properties.map((p, i) => {
    const f = field(p.sf_field, `${prefix}properties[${i}].sf_field`);
    if (UNMAPPABLE_TYPES.has(f.type)) throw new MappingError(`${prefix}properties[${i}].sf_field`, `${f.name} is of type ${f.type}, which cannot be a group property`, 'invalid_field_type');
    return { sf_field: f.name, group_property: p.group_property };
  });
  for (const required of ['Id', 'SystemModstamp']) field(required, `${prefix}sobject`);
  return { ...def, sobject: d.name, name_field: nf.name, properties };
}

/** Whether two definitions read the same data (a change of cadence alone keeps the sync state). */
export const sameData = (a: MappingDef, b: MappingDef): boolean =>
  JSON.stringify([a.sobject, a.group_type, a.name_field, a.properties]) === JSON.stringify([b.sobject, b.group_type, b.name_field, b.properties]);
