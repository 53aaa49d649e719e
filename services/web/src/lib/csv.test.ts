import { fileName, toCsv } from './csv';
import { formatDuration, formatPct, formatValue } from './format';

describe('CSV of a data table', () => {
  it('quotes what needs quoting, leaves the rest, ends lines with CRLF', () => {
    expect(toCsv([['id', 'name'], ['1', 'Acme, Inc.'], [2, 'say "hi"'], [null, 'two\nlines'], [undefined, '']])).toBe(
      'id,name\r\n1,"Acme, Inc."\r\n2,"say ""hi"""\r\n,"two\nlines"\r\n,\r\n',
    );
  });
  it('makes file names from titles', () => {
    expect(fileName('Funnel: Trial Started → Payment Received', 'csv')).toBe('funnel-trial-started-payment-received.csv');
    expect(fileName('***', 'csv')).toBe('export.csv');
  });
});

describe('formatting', () => {
  it.each([
    [0, '–'],
    [4_000, '4s'],
    [125_000, '2m 5s'],
    [3_600_000, '1h 0m'],
    [3 * 86_400_000 + 7_200_000, '3d 2h'],
  ])('duration %i ms reads %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
  it('shares and values', () => {
    expect(formatPct(0.4567)).toBe('45.7%');
    expect(formatPct(NaN)).toBe('–');
    expect(formatValue(['Movies', 'Music'])).toBe('Movies, Music');
    expect(formatValue({ a: 1 })).toBe('{"a":1}');
    expect(formatValue(null)).toBe('(none)');
    expect(formatValue(12.5)).toBe('12.5');
  });
});
