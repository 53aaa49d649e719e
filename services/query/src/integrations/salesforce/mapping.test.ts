import { MappingError, parseCadence, parseImport, parseMapping, resolveFields, sameData, type Describe } from './mapping';

const body = (patch: Record<string, unknown> = {}) => ({
  sobject: 'Account',
  group_type: 'company',
  name_field: 'Name',
  properties: [
    { sf_field: 'Industry', group_property: 'industry' },
    { sf_field: 'AnnualRevenue', group_property: 'revenue' },
  ],
  cadence: 'daily',
  ...patch,
});

const describe_: Describe = {
  name: 'Account',
  queryable: true,
  fields: [
    { name: 'Id', type: 'id', filterable: true },
    { name: 'SystemModstamp', type: 'datetime', filterable: true },
    { name: 'Name', type: 'string', filterable: true },
    { name: 'Industry', type: 'picklist', filterable: true },
    { name: 'AnnualRevenue', type: 'currency', filterable: true },
    { name: 'BillingAddress', type: 'address', filterable: false },
    { name: 'NumberOfEmployees', type: 'int', filterable: true },
    { name: 'Description', type: 'textarea', filterable: false },
    { name: 'Plan__c', type: 'string', filterable: true },
  ],
};

function fails(fn: () => unknown): MappingError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MappingError);
    return err as MappingError;
  }
  throw new Error('accepted');
}

describe('Salesforce mappings', () => {
  it('accepts a mapping and defaults the cadence to daily', () => {
    const { cadence: _c, ...noCadence } = body();
    expect(parseMapping(noCadence)).toEqual({ ...body(), cadence: { type: 'daily' } });
  });

  it.each([
    ['hourly', { type: 'hourly' }],
    ['daily', { type: 'daily' }],
    ['weekly', { type: 'days', days: 7 }],
    ['monthly', { type: 'days', days: 30 }],
    [{ days: 7 }, { type: 'days', days: 7 }],
    [{ days: 1 }, { type: 'daily' }],
    [{ days: 366 }, { type: 'days', days: 366 }],
  ])('reads cadence %j', (raw, expected) => {
    expect(parseCadence(raw, 'cadence')).toEqual(expected);
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ['no object', { sobject: '' }, 'sobject', 'invalid_mapping'],
    ['an object that is not an API name', { sobject: "Account'; --" }, 'sobject', 'invalid_mapping'],
    ['no group type', { group_type: '' }, 'group_type', 'invalid_mapping'],
    ['no name field', { name_field: undefined }, 'name_field', 'invalid_mapping'],
    ['no properties', { properties: [] }, 'properties', 'invalid_mapping'],
    ['properties not a list', { properties: { sf_field: 'Industry' } }, 'properties', 'invalid_mapping'],
    ['a property that is not an object', { properties: ['Industry'] }, 'properties[0]', 'invalid_mapping'],
    ['a field that is not an API name', { properties: [{ sf_field: 'Owner.Name', group_property: 'owner' }] }, 'properties[0].sf_field', 'invalid_mapping'],
    ['no property name', { properties: [{ sf_field: 'Industry', group_property: ' ' }] }, 'properties[0].group_property', 'invalid_mapping'],
    ['a $ property name', { properties: [{ sf_field: 'Industry', group_property: '$set' }] }, 'properties[0].group_property', 'invalid_mapping'],
    [
      'a field mapped twice (any case)',
      { properties: [{ sf_field: 'Industry', group_property: 'a' }, { sf_field: 'industry', group_property: 'b' }] },
      'properties[1].sf_field',
      'duplicate_field',
    ],
    [
      'a property fed twice',
      { properties: [{ sf_field: 'Industry', group_property: 'a' }, { sf_field: 'Name', group_property: 'a' }] },
      'properties[1].group_property',
      'duplicate_property',
    ],
    ['an unknown cadence', { cadence: 'yearly' }, 'cadence', 'invalid_mapping'],
    ['zero days', { cadence: { days: 0 } }, 'cadence.days', 'invalid_mapping'],
    ['fractional days', { cadence: { days: 1.5 } }, 'cadence.days', 'invalid_mapping'],
    ['too many days', { cadence: { days: 367 } }, 'cadence.days', 'invalid_mapping'],
  ])('rejects %s', (_label, patch, param, code) => {
    const err = fails(() => parseMapping(body(patch)));
    expect([err.param, err.code]).toEqual([param, code]);
  });

  it('takes Salesforce spelling of each name from the describe', () => {
    const def = resolveFields(parseMapping(body({ sobject: 'account', name_field: 'NAME', properties: [{ sf_field: 'plan__C', group_property: 'plan' }] })), describe_);
    expect(def).toMatchObject({ sobject: 'Account', name_field: 'Name', properties: [{ sf_field: 'Plan__c', group_property: 'plan' }] });
  });

  it.each<[string, Record<string, unknown>, string, string, RegExp]>([
    // a field renamed in Salesforce after the mapping was written is reported by name
    ['a renamed field', { properties: [{ sf_field: 'Industry', group_property: 'industry' }, { sf_field: 'Plan_Tier__c', group_property: 'plan' }] }, 'properties[1].sf_field', 'unknown_field', /Account has no field Plan_Tier__c/],
    ['an unknown name field', { name_field: 'Account_Key__c' }, 'name_field', 'unknown_field', /no field Account_Key__c/],
    ['a numeric name field', { name_field: 'NumberOfEmployees' }, 'name_field', 'invalid_field_type', /type int/],
    ['an unfilterable name field', { name_field: 'Description' }, 'name_field', 'invalid_field_type', /type textarea/],
    ['a compound field', { properties: [{ sf_field: 'BillingAddress', group_property: 'address' }] }, 'properties[0].sf_field', 'invalid_field_type', /type address/],
  ])('rejects against the describe: %s', (_label, patch, param, code, message) => {
    const err = fails(() => resolveFields(parseMapping(body(patch)), describe_));
    expect([err.param, err.code]).toEqual([param, code]);
    expect(err.message).toMatch(message);
  });

  it('imports the export format or a bare list, naming the bad mapping', () => {
    expect(parseImport({ version: 1, mappings: [body()] })).toHaveLength(1);
    expect(parseImport([body(), body({ group_type: 'team' })])).toHaveLength(2);
    expect(fails(() => parseImport({ version: 1, mappings: [body(), body({ properties: [{ sf_field: 'Industry' }] })] })).param).toBe('mappings[1].properties[0].group_property');
    expect(fails(() => parseImport([body(), body()])).code).toBe('duplicate_mapping');
    expect(fails(() => parseImport({ version: 2, mappings: [] })).param).toBe('version');
    expect(fails(() => parseImport({ mapping: [] })).param).toBe('mappings');
  });

  it('tells a change of data from a change of cadence', () => {
    const a = parseMapping(body());
    expect(sameData(a, parseMapping(body({ cadence: 'hourly' })))).toBe(true);
    expect(sameData(a, parseMapping(body({ properties: [{ sf_field: 'Industry', group_property: 'industry' }] })))).toBe(false);
    expect(sameData(a, parseMapping(body({ name_field: 'Id' })))).toBe(false);
  });
});
