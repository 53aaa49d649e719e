import type { GroupsMap } from '@groupscope/events';
import { admitTypes, countValues, effectiveGroups, limitValues, mergeUserGroups, normalizeGroups, type GroupTypeRegistry } from './groups';

describe('normalizeGroups', () => {
  const cases: [string, GroupsMap | null, GroupsMap][] = [
    ['a single value', { org: ['15'] }, { org: ['15'] }],
    ['array-valued groups keep their order', { org: ['b', 'a', 'c'] }, { org: ['b', 'a', 'c'] }],
    ['duplicate values once', { org: ['a', 'a', 'b'] }, { org: ['a', 'b'] }],
    ['empty values dropped', { org: ['', 'a'] }, { org: ['a'] }],
    ['a type left empty is dropped', { org: [''], team: [] }, {}],
    ['an empty type name is dropped', { '': ['x'], org: ['a'] }, { org: ['a'] }],
    ['null', null, {}],
  ];
  it.each(cases)('%s', (_name, input, out) => {
    expect(normalizeGroups(input)).toEqual(out);
  });
});

describe('user-level and event-level groups', () => {
  it('an identify overwrites the types it names and keeps the others', () => {
    expect(mergeUserGroups({ org: ['1'], team: ['t'] }, { org: ['2', '3'] })).toEqual({ org: ['2', '3'], team: ['t'] });
  });

  it('a type cannot be removed: an empty list never reaches the merge', () => {
    expect(mergeUserGroups({ org: ['1'] }, normalizeGroups({ org: [] }))).toEqual({ org: ['1'] });
  });

  const precedence: [string, GroupsMap, GroupsMap, GroupsMap][] = [
    ['user-level only', { org: ['1'] }, {}, { org: ['1'] }],
    ['event-level only', {}, { org: ['9'] }, { org: ['9'] }],
    ['the event value wins for its type', { org: ['1'], team: ['t'] }, { org: ['9'] }, { org: ['9'], team: ['t'] }],
    ['an event array replaces the user array', { org: ['1', '2'] }, { org: ['3'] }, { org: ['3'] }],
    ['different types combine', { org: ['1'] }, { team: ['t'] }, { org: ['1'], team: ['t'] }],
  ];
  it.each(precedence)('effective groups: %s', (_name, user, event, out) => {
    expect(effectiveGroups(user, event)).toEqual(out);
  });
});

describe('limitValues', () => {
  const cases: [string, GroupsMap, number, GroupsMap, number][] = [
    ['under the limit', { a: ['1', '2'] }, 10, { a: ['1', '2'] }, 0],
    ['exactly the limit', { a: ['1', '2'], b: ['3'] }, 3, { a: ['1', '2'], b: ['3'] }, 0],
    ['cut inside a type', { a: ['1', '2', '3'] }, 2, { a: ['1', '2'] }, 1],
    ['later types dropped', { a: ['1', '2'], b: ['3'], c: ['4'] }, 2, { a: ['1', '2'] }, 2],
    ['twelve values of one type', { a: Array.from({ length: 12 }, (_, i) => String(i)) }, 10, { a: Array.from({ length: 10 }, (_, i) => String(i)) }, 2],
  ];
  it.each(cases)('%s', (_name, groups, max, out, dropped) => {
    const r = limitValues(groups, max);
    expect(r.groups).toEqual(out);
    expect(r.dropped).toBe(dropped);
    expect(countValues(r.groups)).toBeLessThanOrEqual(max);
  });
});

describe('admitTypes', () => {
  const registry = (known: string[]): GroupTypeRegistry => ({
    hasType: (_p, t) => known.includes(t),
    typeCount: () => known.length,
  });
  const cases: [string, string[], GroupsMap, number, string[], string[], string[]][] = [
    ['known types pass', ['org'], { org: ['1'] }, 5, ['org'], [], []],
    ['new types admitted while there is room', ['org'], { team: ['1'], org: ['2'] }, 5, ['team', 'org'], ['team'], []],
    ['a sixth type is dropped', ['a', 'b', 'c', 'd', 'e'], { f: ['1'], a: ['2'] }, 5, ['a'], [], ['f']],
    ['room for one of two new types', ['a', 'b', 'c', 'd'], { x: ['1'], y: ['2'] }, 5, ['x'], ['x'], ['y']],
  ];
  it.each(cases)('%s', (_name, known, groups, max, kept, newTypes, dropped) => {
    const r = admitTypes(1, groups, registry(known), max);
    expect(Object.keys(r.groups)).toEqual(kept);
    expect(r.newTypes).toEqual(newTypes);
    expect(r.droppedTypes).toEqual(dropped);
  });
});
