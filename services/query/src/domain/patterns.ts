// Text patterns of the filter operators as regular expressions (RE2 syntax, which ClickHouse's match() runs):
// `glob match` and `starts with`, both case-insensitive. Everything in a value that is not a glob wildcard is
// matched literally. Pure; the expressions travel to ClickHouse as bound parameters.

/** RE2 (and JavaScript) syntax characters, escaped with a backslash when they are meant literally. */
const SYNTAX = new Set(['\\', '^', '$', '.', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}']);

function literal(ch: string): string {
  if (SYNTAX.has(ch)) return `\\${ch}`;
  const code = ch.codePointAt(0)!;
  // control characters (NUL, newline, ...) as hex escapes, so the pattern text stays printable
  if (code < 0x20 || code === 0x7f) return `\\x${code.toString(16).padStart(2, '0')}`;
  return ch;
}

/**
 * One glob as the body of a regular expression: `**` any run of characters, `*` any run without `/`, `?` exactly
 * one character; every other character stands for itself.
 */
export function globBody(glob: string): string {
  const chars = [...glob];
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        out += '.*';
        while (chars[i + 1] === '*') i++;
      } else out += '[^/]*';
    } else if (ch === '?') out += '.';
    else out += literal(ch);
  }
  return out;
}

/** A value matched literally, as the body of a regular expression. */
export function literalBody(text: string): string {
  return [...text].map(literal).join('');
}

/** The whole text matches one of the globs, ignoring case. */
export function globPattern(globs: readonly string[]): string {
  return `(?is)^(?:${globs.map(globBody).join('|')})$`;
}

/** The text starts with one of the prefixes, ignoring case. */
export function prefixPattern(prefixes: readonly string[]): string {
  return `(?is)^(?:${prefixes.map(literalBody).join('|')})`;
}
