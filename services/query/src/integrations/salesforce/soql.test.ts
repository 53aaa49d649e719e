import { byNamesSoql, changedRowsSoql, chunkByNames, describePath, nextPage, parseSfDateTime, queryPath, selectFields, soqlDateTime, soqlString, SoqlError } from './soql';

const mapping = {
  sobject: 'Account',
  name_field: 'Name',
  properties: [
    { sf_field: 'Industry', group_property: 'industry' },
    { sf_field: 'AnnualRevenue', group_property: 'revenue' },
    { sf_field: 'name', group_property: 'account name' },
  ],
};

describe('SOQL building', () => {
  it.each([
    ['plain', 'Acme', "'Acme'"],
    ['single quote', "Bob's BBQ", "'Bob\\'s BBQ'"],
    ['double quote', 'say "hi"', "'say \\\"hi\\\"'"],
    ['backslash', 'C:\\dir', "'C:\\\\dir'"],
    ['an attempt to close the string', "x') OR Name != ('", "'x\\') OR Name != (\\''"],
    ['backslash before a quote', "\\'", "'\\\\\\''"],
    ['newline, return, tab', 'a\nb\rc\td', "'a\\nb\\rc\\td'"],
    ['other control characters', 'a\u0000b\u0007c\u007f', "'a\\u0000b\\u0007c\\u007f'"],
    ['unicode', 'Société Générale ✓ 株式会社', "'Société Générale ✓ 株式会社'"],
    ['empty', '', "''"],
  ])('quotes a string: %s', (_label, value, expected) => {
    expect(soqlString(value)).toBe(expected);
  });

  it.each([
    [Date.parse('2017-09-01T10:00:00.000Z'), '2017-09-01T10:00:00Z'],
    [Date.parse('2017-09-01T10:00:00.999Z'), '2017-09-01T10:00:00Z'],
    [0, '1970-01-01T00:00:00Z'],
  ])('writes dateTime %i as %s', (ms, expected) => {
    expect(soqlDateTime(ms)).toBe(expected);
  });

  it.each([
    ['2017-09-01T10:00:00.000+0000', Date.parse('2017-09-01T10:00:00Z')],
    ['2017-09-01T10:00:00.123Z', Date.parse('2017-09-01T10:00:00.123Z')],
    ['2017-09-01T12:00:00.000+0200', Date.parse('2017-09-01T10:00:00Z')],
    ['2017-09-01T05:30:00-04:30', Date.parse('2017-09-01T10:00:00Z')],
    ['2017-09-01T10:00:00Z', Date.parse('2017-09-01T10:00:00Z')],
    ['2017-09-01', NaN],
    ['yesterday', NaN],
    [12345, NaN],
    [null, NaN],
  ])('reads Salesforce dateTime %p', (value, expected) => {
    expect(parseSfDateTime(value)).toEqual(expected);
  });

  it('selects Id, SystemModstamp, the name field and each mapped field once', () => {
    expect(selectFields(mapping)).toEqual(['Id', 'SystemModstamp', 'Name', 'Industry', 'AnnualRevenue']);
  });

  it('reads everything on a first sync and changed rows after, oldest first', () => {
    expect(changedRowsSoql(mapping, null)).toBe('SELECT Id, SystemModstamp, Name, Industry, AnnualRevenue FROM Account ORDER BY SystemModstamp ASC, Id ASC');
    expect(changedRowsSoql(mapping, Date.parse('2017-09-01T10:00:00.500Z'))).toBe(
      'SELECT Id, SystemModstamp, Name, Industry, AnnualRevenue FROM Account WHERE SystemModstamp >= 2017-09-01T10:00:00Z ORDER BY SystemModstamp ASC, Id ASC',
    );
  });

  it('asks for group values by name with every value quoted', () => {
    expect(byNamesSoql(mapping, ['acme', "o'brien"])).toBe(
      "SELECT Id, SystemModstamp, Name, Industry, AnnualRevenue FROM Account WHERE Name IN ('acme', 'o\\'brien') ORDER BY SystemModstamp ASC, Id ASC",
    );
    expect(() => byNamesSoql(mapping, [])).toThrow(SoqlError);
  });

  it.each([
    ['object', { ...mapping, sobject: 'Account; DELETE' }],
    ['object with a space', { ...mapping, sobject: 'Account WHERE' }],
    ['name field', { ...mapping, name_field: "Name'" }],
    ['mapped field', { ...mapping, properties: [{ sf_field: 'Industry, (SELECT Id FROM Contacts)', group_property: 'x' }] }],
    ['empty field', { ...mapping, properties: [{ sf_field: '', group_property: 'x' }] }],
    ['a digit first', { ...mapping, sobject: '1Account' }],
  ])('refuses a name that is not an API name: %s', (_label, m) => {
    expect(() => changedRowsSoql(m, null)).toThrow(SoqlError);
  });

  it('builds REST paths and refuses a malformed API version', () => {
    expect(queryPath('v62.0', 'SELECT Id FROM Account')).toBe('/services/data/v62.0/query?q=SELECT%20Id%20FROM%20Account');
    expect(describePath('v62.0', 'My_Object__c')).toBe('/services/data/v62.0/sobjects/My_Object__c/describe');
    expect(() => queryPath('62.0', 'x')).toThrow(SoqlError);
    expect(() => describePath('v62.0', '../limits')).toThrow(SoqlError);
  });
});

describe('query paging', () => {
  it.each([
    ['done', { done: true, records: [] }, undefined],
    ['done with a stale url', { done: true, nextRecordsUrl: '/services/data/v62.0/query/01gD0000002HU6KIAW-2000' }, undefined],
    ['more', { done: false, nextRecordsUrl: '/services/data/v62.0/query/01gD0000002HU6KIAW-2000' }, '/services/data/v62.0/query/01gD0000002HU6KIAW-2000'],
    ['more from queryAll', { done: false, nextRecordsUrl: '/services/data/v62.0/queryAll/01gD0000002HU6KIAW-4000' }, '/services/data/v62.0/queryAll/01gD0000002HU6KIAW-4000'],
  ])('follows nextRecordsUrl: %s', (_label, reply, expected) => {
    expect(nextPage(reply)).toBe(expected);
  });

  it.each([
    ['not done and no url', { done: false }],
    ['done missing', { nextRecordsUrl: 3 }],
    ['another host', { done: false, nextRecordsUrl: 'https://evil.example/services/data/v62.0/query/01g-2000' }],
    ['protocol-relative', { done: false, nextRecordsUrl: '//evil.example/services/data/v62.0/query/01g-2000' }],
    ['another resource', { done: false, nextRecordsUrl: '/services/data/v62.0/sobjects/User' }],
    ['a query string', { done: false, nextRecordsUrl: '/services/data/v62.0/query/01g-2000?x=1' }],
    ['dot segments', { done: false, nextRecordsUrl: '/services/data/v62.0/query/../../oauth2' }],
  ])('refuses a next page that is %s', (_label, reply) => {
    expect(() => nextPage(reply)).toThrow(SoqlError);
  });

  it('splits a by-name query so each URL stays under the limit, keeping every value once and in order', () => {
    const values = Array.from({ length: 500 }, (_, i) => `account ${i} 'quoted' ✓`);
    const { chunks, unaskable } = chunkByNames(mapping, 'v62.0', values, 4000);
    expect(unaskable).toEqual([]);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.flat()).toEqual(values);
    for (const c of chunks) expect(queryPath('v62.0', byNamesSoql(mapping, c)).length).toBeLessThanOrEqual(4000);
    // a chunk is as full as it can be: one more value would cross the limit
    expect(queryPath('v62.0', byNamesSoql(mapping, [...chunks[0]!, chunks[1]![0]!])).length).toBeGreaterThan(4000);
  });

  it('sets apart values that cannot be asked for', () => {
    const long = 'x'.repeat(4001);
    const { chunks, unaskable } = chunkByNames(mapping, 'v62.0', ['a', long, 'b'], 12_000);
    expect(chunks).toEqual([['a', 'b']]);
    expect(unaskable).toEqual([long]);
  });
});
