import { decodeMark, isMark, markMessage, MARK_HEADER } from './marks';

describe('marks', () => {
  it('round-trips a mark and names its partition and producer', () => {
    const m = markMessage({ producer_id: 'gw-1', pos: 1_762_000_000_000_000, leave: false }, 3);
    expect(m).toMatchObject({ key: 'gw-1', partition: 3, headers: { [MARK_HEADER]: '1' } });
    expect(isMark(m.headers)).toBe(true);
    expect(decodeMark(m.value)).toEqual({ producer_id: 'gw-1', pos: 1_762_000_000_000_000, leave: false });
    expect(decodeMark(markMessage({ producer_id: 'gw-1', pos: 5, leave: true }, 0).value).leave).toBe(true);
  });

  it('tells records from marks by the header', () => {
    expect(isMark({ 'gs-schema': 'abc' })).toBe(false);
    expect(isMark(undefined)).toBe(false);
    expect(isMark({ [MARK_HEADER]: Buffer.from('1') })).toBe(true);
  });

  it.each([
    ['no value', null],
    ['not JSON', Buffer.from('x')],
    ['no producer', Buffer.from('{"pos":5}')],
    ['empty producer', Buffer.from('{"producer_id":"","pos":5}')],
    ['no position', Buffer.from('{"producer_id":"gw"}')],
    ['a zero position', Buffer.from('{"producer_id":"gw","pos":0}')],
    ['a fractional position', Buffer.from('{"producer_id":"gw","pos":1.5}')],
  ])('refuses a mark with %s', (_name, value) => {
    expect(() => decodeMark(value)).toThrow();
  });
});
