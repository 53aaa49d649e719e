import { prunable, versionAt, type GroupVersion } from './versions';

const v = (e: number, n: number, p = `{"n":${n}}`): GroupVersion => ({ e, n, p });

describe('versionAt', () => {
  const history = [v(100, 1), v(200, 2), v(200, 3), v(300, 4)];
  it.each<[string, GroupVersion[] | undefined, number, { p: string; exact: boolean }]>([
    ['an unknown group has no properties', undefined, 150, { p: '{}', exact: true }],
    ['before the first version: none yet', history, 50, { p: '{}', exact: true }],
    ['at a version\'s own position: the one before (strictly before)', history, 100, { p: '{}', exact: true }],
    ['between versions', history, 150, { p: '{"n":1}', exact: true }],
    ['two versions at one position: the later applied wins after it', history, 201, { p: '{"n":3}', exact: true }],
    ['at that position: the one before both', history, 200, { p: '{"n":1}', exact: true }],
    ['after the newest', history, 301, { p: '{"n":4}', exact: true }],
    ['unordered (position 0): the newest', history, 0, { p: '{"n":4}', exact: true }],
    ['state from before positions (E 0) applies to every positioned event', [v(0, 7)], 1, { p: '{"n":7}', exact: true }],
    ['before the oldest kept version when older ones were pruned: inexact', [v(200, 2), v(300, 3)], 150, { p: '{"n":2}', exact: false }],
    ['at or after the oldest kept one: exact', [v(200, 2), v(300, 3)], 250, { p: '{"n":2}', exact: true }],
  ])('%s', (_name, versions, pos, expected) => {
    expect(versionAt(versions, pos)).toEqual(expected);
  });
});

describe('prunable', () => {
  const list = [v(10, 1), v(20, 2), v(30, 3), v(40, 4), v(50, 5)];
  const big = 1 << 20;
  it.each<[string, GroupVersion[], { horizon: number; maxVersions: number; maxBytes: number }, number[]]>([
    ['nothing older than the horizon', list, { horizon: 5, maxVersions: 10, maxBytes: big }, []],
    ['keeps the newest version at or below the horizon (the state there)', list, { horizon: 35, maxVersions: 10, maxBytes: big }, [1, 2]],
    ['a horizon exactly on a version keeps that version', list, { horizon: 30, maxVersions: 10, maxBytes: big }, [1, 2]],
    ['a horizon past everything keeps only the newest', list, { horizon: 1000, maxVersions: 10, maxBytes: big }, [1, 2, 3, 4]],
    ['at most maxVersions, the oldest first', list, { horizon: 0, maxVersions: 2, maxBytes: big }, [1, 2, 3]],
    ['at most maxBytes, the oldest first', list, { horizon: 0, maxVersions: 10, maxBytes: 16 }, [1, 2, 3]],
    ['never the newest, whatever its size', list, { horizon: 0, maxVersions: 10, maxBytes: 1 }, [1, 2, 3, 4]],
    ['a single version is never dropped', [v(10, 1)], { horizon: 100, maxVersions: 1, maxBytes: 0 }, []],
  ])('%s', (_name, versions, limits, dropped) => {
    expect(prunable(versions, limits).map((x) => x.n)).toEqual(dropped);
  });

  it('after pruning, every position above the horizon finds the same version as before', () => {
    const limits = { horizon: 35, maxVersions: 10, maxBytes: big };
    const drop = new Set(prunable(list, limits));
    const kept = list.filter((x) => !drop.has(x));
    for (let pos = 36; pos <= 60; pos++) expect(versionAt(kept, pos)).toEqual(versionAt(list, pos));
  });
});
