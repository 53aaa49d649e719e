import { insertIsolating } from './refusals';

/** An INSERT of numbers that ClickHouse would refuse whole when one of them is bad (code 25: a data error). */
function fakeInsert(bad: Set<number>, infra?: number) {
  const stored: number[] = [];
  let calls = 0;
  const insert = async (items: readonly number[]) => {
    calls++;
    if (infra !== undefined && items.includes(infra)) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    if (items.some((i) => bad.has(i))) throw Object.assign(new Error('Cannot parse escape sequence'), { code: '25', type: 'CANNOT_PARSE_ESCAPE_SEQUENCE' });
    stored.push(...items);
  };
  return { insert, stored, calls: () => calls };
}

describe('insertIsolating', () => {
  const items = Array.from({ length: 1000 }, (_, i) => i);

  it.each([
    ['none bad', []],
    ['the first', [0]],
    ['the last', [999]],
    ['one in the middle', [500]],
    ['neighbours', [10, 11, 12]],
    ['scattered', [3, 250, 251, 777, 998]],
  ])('stores every good item once, in order, and refuses exactly the bad ones: %s', async (_n, badList) => {
    const bad = new Set(badList);
    const f = fakeInsert(bad);
    const refused: number[] = [];
    await insertIsolating(items, f.insert, (i, failure) => {
      expect(failure).toMatchObject({ kind: 'data', code: 25, name: 'CANNOT_PARSE_ESCAPE_SEQUENCE' });
      refused.push(i);
    });
    expect(refused).toEqual(badList);
    expect(f.stored).toEqual(items.filter((i) => !bad.has(i)));
    // a lone bad item costs about two inserts per halving, not one per item
    expect(f.calls()).toBeLessThanOrEqual(1 + badList.length * 2 * Math.ceil(Math.log2(items.length)));
  });

  it('does not split on an infrastructure failure: it is thrown, nothing is refused', async () => {
    const f = fakeInsert(new Set([5]), 700);
    const refused: number[] = [];
    await expect(insertIsolating(items, f.insert, (i) => refused.push(i))).rejects.toThrow(/ECONNREFUSED/);
    expect(refused).toEqual([]);
    expect(f.calls()).toBe(1);
  });
});
