import { identifyRecord, latestPerGroup, toRow, type SfRow } from './records';

const def = {
  name_field: 'Name',
  properties: [
    { sf_field: 'Industry', group_property: 'industry' },
    { sf_field: 'AnnualRevenue', group_property: 'revenue' },
    { sf_field: 'IsActive__c', group_property: 'active' },
  ],
};
const rec = (o: Record<string, unknown>) => ({ attributes: { type: 'Account', url: '/x' }, Id: '001A', SystemModstamp: '2017-09-01T10:00:00.000+0000', Name: 'acme', Industry: 'Retail', AnnualRevenue: 1.5e6, IsActive__c: true, ...o });

describe('Salesforce rows', () => {
  it.each<[string, Record<string, unknown>, Partial<SfRow> | string]>([
    ['every field', {}, { id: '001A', groupValue: 'acme', set: { industry: 'Retail', revenue: 1.5e6, active: true }, unset: [] }],
    ['an empty field is unset', { Industry: null, AnnualRevenue: '' }, { set: { active: true }, unset: ['industry', 'revenue'] }],
    ['false is a value', { IsActive__c: false }, { set: { industry: 'Retail', revenue: 1.5e6, active: false } }],
    ['no name: no group', { Name: null }, { groupValue: null }],
    ['an empty name: no group', { Name: '' }, { groupValue: null }],
    ['a numeric name', { Name: 42 }, { groupValue: '42' }],
    ['keys in another case', { Name: undefined, name: 'acme2' }, { groupValue: 'acme2' }],
    ['no Id', { Id: undefined }, 'a record has no Id'],
    ['no SystemModstamp', { SystemModstamp: null }, 'record 001A has no usable SystemModstamp'],
  ])('reads a record: %s', (_label, patch, expected) => {
    const out = toRow(def, rec(patch));
    if (typeof expected === 'string') expect(out).toEqual({ kind: 'invalid', error: expected });
    else expect(out).toEqual({ kind: 'ok', row: expect.objectContaining({ ...expected, modstamp: Date.parse('2017-09-01T10:00:00Z') }) });
  });

  it('keeps the newest row of each group value', () => {
    const row = (id: string, g: string | null, ms: number): SfRow => ({ id, modstamp: ms, groupValue: g, set: { n: id }, unset: [] });
    const latest = latestPerGroup([row('1', 'a', 1), row('2', 'b', 1), row('3', 'a', 3), row('4', null, 4), row('5', 'a', 2), row('6', 'b', 1)]);
    expect([...latest].map(([g, r]) => [g, r.id])).toEqual([
      ['a', '3'],
      ['b', '6'],
    ]);
  });

  it('makes a group identify with the source and an insert_id that names the row version', () => {
    const r = toRow(def, rec({ Industry: null }));
    if (r.kind !== 'ok') throw new Error(r.error);
    const gi = identifyRecord({ project_id: 7, id: 'sf_1', revision: 99, group_type: 'company' }, { ...r.row, groupValue: 'acme' }, 5000);
    expect(gi).toEqual({
      project_id: 7,
      uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      receive_time: 5000,
      event_time: 5000,
      group_type: 'company',
      group_value: 'acme',
      group_properties: JSON.stringify({ $unset: { industry: '-' }, $set: { revenue: 1.5e6, active: true } }),
      source: 'salesforce',
      user_id: null,
      device_id: null,
      insert_id: `sf:sf_1:99:001A:${Date.parse('2017-09-01T10:00:00Z')}`,
    });
  });
});
