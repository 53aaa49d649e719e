import { parseSearchQuery, SearchQueryError } from './search-query';

describe('parseSearchQuery', () => {
  it.each([
    [undefined, { kind: 'all' }],
    ['   ', { kind: 'all' }],
    ['acme', { kind: 'prefix', prefix: 'acme' }],
    ['  Acme, Inc ', { kind: 'prefix', prefix: 'Acme, Inc' }],
    ['plan = trial', { kind: 'property', property: 'plan', value: 'trial' }],
    ['plan=trial', { kind: 'property', property: 'plan', value: 'trial' }],
    ['plan   =trial  ', { kind: 'property', property: 'plan', value: 'trial' }],
    ['name = "Acme Corp"', { kind: 'property', property: 'name', value: 'Acme Corp' }],
    ['"Account Name"="Acme, Inc; EU"', { kind: 'property', property: 'Account Name', value: 'Acme, Inc; EU' }],
    ['note = "say \\"hi\\" \\\\ bye"', { kind: 'property', property: 'note', value: 'say "hi" \\ bye' }],
    ['size = 42', { kind: 'property', property: 'size', value: '42' }],
    ['empty = ""', { kind: 'property', property: 'empty', value: '' }],
    ["x = '); DROP TABLE groups; --", null],
    ['ü = ñ', { kind: 'property', property: 'ü', value: 'ñ' }],
  ])('%p', (q, expected) => {
    if (expected === null) expect(() => parseSearchQuery(q)).toThrow(SearchQueryError);
    else expect(parseSearchQuery(q)).toEqual(expected);
  });

  it.each([
    ['plan = trial, region = EU', /commas and semicolons/],
    ['plan = trial; region = EU', /commas and semicolons/],
    ['plan = "trial"; x', /commas and semicolons/],
    ['plan = Acme Corp', /multi-word value needs quotes/],
    ['account name = x', /multi-word name needs quotes/],
    ['plan =', /missing value/],
    ['= trial', /missing property name/],
    ['plan = "trial', /unterminated quote/],
    ['plan = a=b', /only one/],
    ['plan = tr"ial', /quote/],
    ['"plan" x = y', /expected name = value/],
  ])('rejects %p', (q, message) => {
    expect(() => parseSearchQuery(q)).toThrow(message);
  });
});
