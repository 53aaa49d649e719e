import { globBody, globPattern, literalBody, prefixPattern } from './patterns';

// JavaScript runs the same regular expressions as RE2 for what these patterns use (escapes, classes, `.`, `*`,
// flags i and s), so the semantics are checked here and ClickHouse runs them in the integration tests.
const globMatches = (glob: string, text: string) => new RegExp(`^(?:${globBody(glob)})$`, 'isu').test(text);

describe('globBody', () => {
  it.each([
    // * stays within one path segment, ** crosses slashes
    ['/org/*/chart/*', '/org/acme/chart/7', true],
    ['/org/*/chart/*', '/org/acme/eu/chart/7', false],
    ['/org/**/chart/*', '/org/acme/eu/chart/7', true],
    ['**blog**', 'www.example.com/blogs/blog_id', true],
    ['*blog*', 'www.example.com/blogs/blog_id', false],
    ['*', '', true],
    ['*', 'a/b', false],
    ['**', 'a/b', true],
    ['***', 'a/b/c', true],
    // ? is exactly one character
    ['v?', 'v2', true],
    ['v?', 'v', false],
    ['v?', 'v10', false],
    ['a?b', 'a/b', true],
    // case-insensitive, Unicode included
    ['ÜBER*', 'über-uns', true],
    ['Beta*', 'beta/tester', false],
    ['Beta**', 'beta/tester', true],
    // everything else is literal: regex syntax, brackets, backslashes, newlines
    ['a.b', 'axb', false],
    ['a.b', 'a.b', true],
    ['[abc]', 'a', false],
    ['[abc]', '[abc]', true],
    ['(x|y)+', 'x', false],
    ['(x|y)+', '(x|y)+', true],
    ['back\\slash', 'back\\slash', true],
    ['^$', '^$', true],
    ['line\nbreak*', 'line\nbreaking', true],
    ['', '', true],
    ['', 'x', false],
  ])('%j against %j: %p', (glob, text, expected) => {
    expect(globMatches(glob, text)).toBe(expected);
  });

  it('escapes control characters as hex', () => {
    expect(globBody('a\u0000b')).toBe('a\\x00b');
  });
});

describe('patterns', () => {
  it('joins several globs into one case-insensitive, whole-text alternative', () => {
    expect(globPattern(['a*', 'b?'])).toBe('(?is)^(?:a[^/]*|b.)$');
  });

  it('matches prefixes literally and case-insensitively', () => {
    expect(prefixPattern(['Ap', 'x.*'])).toBe('(?is)^(?:Ap|x\\.\\*)');
    const re = new RegExp(`^(?:${['Ap', 'x.*'].map(literalBody).join('|')})`, 'isu');
    expect(['apple', 'APPLE', 'x.*y'].map((t) => re.test(t))).toEqual([true, true, true]);
    expect(['pineapple', 'xy'].map((t) => re.test(t))).toEqual([false, false]);
  });
});
