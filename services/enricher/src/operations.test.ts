import { applyUpdate, isEmptyUpdate, parseUpdate, sameJson, toNumber, type Props } from './operations';

function run(before: Props, body: unknown, admit?: (name: string) => boolean) {
  const parsed = parseUpdate(JSON.stringify(body));
  if (!parsed.ok) throw new Error(parsed.error);
  return { ...applyUpdate(before, parsed.update, admit), ignored: parsed.update.ignored };
}

describe('parseUpdate', () => {
  it.each([
    ['not JSON', '{oops', 'properties are not valid JSON'],
    ['an array', '[1,2]', 'properties are not a JSON object'],
    ['a string', '"x"', 'properties are not a JSON object'],
    ['null', 'null', 'properties are not a JSON object'],
  ])('rejects %s', (_name, text, error) => {
    expect(parseUpdate(text)).toEqual({ ok: false, error });
  });

  it.each([[''], ['{}'], [null], [undefined]])('treats %p as an empty update', (text) => {
    const r = parseUpdate(text as string);
    expect(r.ok && isEmptyUpdate(r.update)).toBe(true);
  });

  it('lists operations sent with unusable values as ignored', () => {
    const r = parseUpdate(JSON.stringify({ $set: 3, $add: { a: 'x', b: 2 }, $unset: 5, $append: 'no' }));
    expect(r.ok && r.update.ignored.sort()).toEqual(['$add', '$append', '$set', '$unset']);
    expect(r.ok && r.update.add).toEqual([['b', 2]]);
  });
});

describe('applyUpdate: each operation', () => {
  const cases: [string, Props, unknown, Props][] = [
    ['plain keys mean $set', { a: 1 }, { a: 2, b: 'x' }, { a: 2, b: 'x' }],
    ['$set overwrites', { a: 1 }, { $set: { a: [1, 2], b: null } }, { a: [1, 2], b: null }],
    ['$setOnce sets only an unset property', { a: 1 }, { $setOnce: { a: 2, b: 3 } }, { a: 1, b: 3 }],
    ['$setOnce keeps a property set to null', { a: null }, { $setOnce: { a: 2 } }, { a: null }],
    ['$add increments', { n: 2 }, { $add: { n: 3 } }, { n: 5 }],
    ['$add on unset counts from 0', {}, { $add: { n: -4 } }, { n: -4 }],
    ['$add accepts numeric strings both ways', { n: '10' }, { $add: { n: '2.5' } }, { n: 12.5 }],
    ['$add on a non-number counts from 0', { n: 'abc' }, { $add: { n: 1 } }, { n: 1 }],
    ['$append to a list', { l: [1] }, { $append: { l: 2 } }, { l: [1, 2] }],
    ['$append a list of values', { l: [1] }, { $append: { l: [2, 1] } }, { l: [1, 2, 1] }],
    ['$append to unset', {}, { $append: { l: 'a' } }, { l: ['a'] }],
    ['$append to a scalar makes a list', { l: 'a' }, { $append: { l: 'b' } }, { l: ['a', 'b'] }],
    ['$prepend', { l: [1] }, { $prepend: { l: [2, 3] } }, { l: [2, 3, 1] }],
    ['$prepend to unset', {}, { $prepend: { l: 1 } }, { l: [1] }],
    ['$postInsert adds only absent values', { l: [1, 2] }, { $postInsert: { l: [2, 3, 3] } }, { l: [1, 2, 3] }],
    ['$preInsert adds only absent values', { l: [1, 2] }, { $preInsert: { l: [0, 1] } }, { l: [0, 1, 2] }],
    ['$postInsert compares objects by content', { l: [{ a: 1 }] }, { $postInsert: { l: [{ a: 1 }, { a: 2 }] } }, { l: [{ a: 1 }, { a: 2 }] }],
    ['$remove removes every occurrence', { l: [1, 2, 1, 3] }, { $remove: { l: 1 } }, { l: [2, 3] }],
    ['$remove several values', { l: ['a', 'b', 'c'] }, { $remove: { l: ['a', 'c'] } }, { l: ['b'] }],
    ['$remove on unset does nothing', {}, { $remove: { l: 1 } }, {}],
    ['$remove on a matching scalar leaves an empty list', { l: 'a' }, { $remove: { l: 'a' } }, { l: [] }],
    ['$unset deletes (value ignored)', { a: 1, b: 2 }, { $unset: { a: '-' } }, { b: 2 }],
    ['$unset accepts a list of names', { a: 1, b: 2 }, { $unset: ['a', 'b'] }, {}],
    ['$clearAll deletes everything', { a: 1, b: 2 }, { $clearAll: '-' }, {}],
    ['a $-prefixed non-operation key is a property name', {}, { $custom: 1 }, { $custom: 1 }],
  ];
  it.each(cases)('%s', (_name, before, body, after) => {
    expect(run(before, body).props).toEqual(after);
  });

  it('does not modify its input', () => {
    const before = { l: [1], n: 1 };
    run(before, { $append: { l: 2 }, $add: { n: 1 }, $unset: { x: '-' } });
    expect(before).toEqual({ l: [1], n: 1 });
  });
});

describe('applyUpdate: the spec order within one update', () => {
  const cases: [string, Props, unknown, Props][] = [
    ['$clearAll before $set', { a: 1, b: 2 }, { $set: { c: 3 }, $clearAll: '-' }, { c: 3 }],
    ['$unset before $set: the $set wins', { a: 1 }, { $set: { a: 2 }, $unset: { a: '-' } }, { a: 2 }],
    ['$set before $setOnce: $setOnce sees the set value', {}, { $setOnce: { a: 1 }, $set: { a: 2 } }, { a: 2 }],
    ['$set before $add', { n: 100 }, { $add: { n: 1 }, $set: { n: 5 } }, { n: 6 }],
    ['$unset before $add: counts from 0', { n: 100 }, { $add: { n: 1 }, $unset: { n: '-' } }, { n: 1 }],
    ['$append before $prepend', {}, { $prepend: { l: 'p' }, $append: { l: 'a' } }, { l: ['p', 'a'] }],
    ['$prepend before $preInsert (which then skips a present value)', {}, { $preInsert: { l: ['x', 'y'] }, $prepend: { l: 'x' } }, { l: ['y', 'x'] }],
    ['$preInsert before $postInsert', {}, { $postInsert: { l: ['a', 'b'] }, $preInsert: { l: 'a' } }, { l: ['a', 'b'] }],
    ['$remove last', { l: ['a'] }, { $remove: { l: 'b' }, $append: { l: 'b' } }, { l: ['a'] }],
    ['$clearAll then $unset then $setOnce', { a: 1 }, { $setOnce: { a: 9 }, $clearAll: '-', $unset: { a: '-' } }, { a: 9 }],
  ];
  it.each(cases)('%s', (_name, before, body, after) => {
    expect(run(before, body).props).toEqual(after);
  });
});

describe('applyUpdate: mixed plain keys and operations', () => {
  const cases: [string, Props, unknown, Props][] = [
    ['plain keys join $set', { n: 1 }, { plan: 'pro', $add: { n: 1 } }, { n: 2, plan: 'pro' }],
    ['plain keys with an explicit $set', {}, { a: 1, $set: { b: 2 } }, { a: 1, b: 2 }],
    ['an explicit $set wins over a plain key of the same name', {}, { a: 1, $set: { a: 2 } }, { a: 2 }],
    ['plain keys are applied at $set time ($unset first)', { a: 1 }, { a: 5, $unset: { a: '-' } }, { a: 5 }],
    ['plain keys then $add of the same name', {}, { n: 10, $add: { n: 1 } }, { n: 11 }],
  ];
  it.each(cases)('%s', (_name, before, body, after) => {
    expect(run(before, body).props).toEqual(after);
  });
});

describe('applyUpdate: changed, removed and rejected names', () => {
  it('reports what changed and what was removed', () => {
    const r = run({ a: 1, b: [1], c: 'x', d: 1 }, { $set: { a: 1, c: 'y', e: 0 }, $append: { b: 2 }, $unset: { d: '-' } });
    expect(r.changed.sort()).toEqual(['b', 'c', 'e']);
    expect(r.removed).toEqual(['d']);
  });

  it('reports nothing for a no-op update', () => {
    const r = run({ a: 1, l: [1] }, { $set: { a: 1 }, $setOnce: { a: 2 }, $postInsert: { l: 1 }, $remove: { x: 1 } });
    expect(r.changed).toEqual([]);
    expect(r.removed).toEqual([]);
  });

  it('asks admit before creating a name, once per name, and reports refusals', () => {
    const asked: string[] = [];
    const r = run({ a: 1 }, { $set: { a: 2, b: 1, c: 1 }, $add: { b: 1 } }, (name) => {
      asked.push(name);
      return name !== 'c';
    });
    expect(asked).toEqual(['b', 'c']);
    expect(r.props).toEqual({ a: 2, b: 2 });
    expect(r.rejected).toEqual(['c']);
  });
});

describe('helpers', () => {
  it.each([
    [1, 1],
    ['2', 2],
    [' 3 ', 3],
    ['', undefined],
    ['x', undefined],
    [null, undefined],
    [true, undefined],
    [[1], undefined],
  ])('toNumber(%p) = %p', (v, n) => {
    expect(toNumber(v as never)).toBe(n);
  });

  it('sameJson compares lists and objects by content', () => {
    expect(sameJson([1, { a: 2 }], [1, { a: 2 }])).toBe(true);
    expect(sameJson([1], [2])).toBe(false);
    expect(sameJson('1', 1)).toBe(false);
    expect(sameJson(null, null)).toBe(true);
  });
});
