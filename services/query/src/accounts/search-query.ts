// Parses the account search box: `name = value` (a property search over every value the property ever held)
// or plain text (a prefix of the group value). Pure: no SQL here.

export type SearchQuery =
  | { kind: 'all' }
  | { kind: 'prefix'; prefix: string }
  | { kind: 'property'; property: string; value: string };

export class SearchQueryError extends Error {}

/** a token: "quoted text" (with \" and \\ escapes) or a bare run of characters */
function readToken(s: string, at: number, stopAtEquals: boolean): { text: string; quoted: boolean; end: number } {
  if (s[at] === '"') {
    let out = '';
    let i = at + 1;
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\' && i + 1 < s.length) i++;
      out += s[i];
      i++;
    }
    if (i >= s.length) throw new SearchQueryError('unterminated quote');
    return { text: out, quoted: true, end: i + 1 };
  }
  let i = at;
  while (i < s.length && !(stopAtEquals && s[i] === '=')) i++;
  return { text: s.slice(at, i).trim(), quoted: false, end: i };
}

const skipSpaces = (s: string, i: number) => {
  while (i < s.length && /\s/.test(s[i]!)) i++;
  return i;
};

function checkBare(text: string, what: 'name' | 'value'): string {
  if (/[,;]/.test(text)) {
    throw new SearchQueryError('commas and semicolons are not allowed: search one property at a time, as name = value');
  }
  if (/\s/.test(text)) throw new SearchQueryError(`a multi-word ${what} needs quotes, e.g. ${what === 'name' ? '"Account Name" = Acme' : 'name = "Acme Corp"'}`);
  if (text.includes('"')) throw new SearchQueryError('a quote may only open or close a quoted name or value');
  return text;
}

export function parseSearchQuery(raw: string | undefined): SearchQuery {
  const q = (raw ?? '').trim();
  if (q === '') return { kind: 'all' };
  // plain text (no '=' outside quotes) is a prefix of the group value, taken literally
  if (!q.includes('=')) return { kind: 'prefix', prefix: q };
  let i = skipSpaces(q, 0);
  const name = readToken(q, i, true);
  i = skipSpaces(q, name.end);
  if (q[i] !== '=') throw new SearchQueryError('expected name = value');
  i = skipSpaces(q, i + 1);
  if (i >= q.length) throw new SearchQueryError('missing value after =');
  const value = readToken(q, i, false);
  i = skipSpaces(q, value.end);
  if (i < q.length) {
    throw new SearchQueryError(/[,;]/.test(q.slice(i)) ? 'commas and semicolons are not allowed: search one property at a time, as name = value' : 'unexpected text after the value; use quotes for multi-word values');
  }
  const property = name.quoted ? name.text : checkBare(name.text, 'name');
  const val = value.quoted ? value.text : checkBare(value.text, 'value');
  if (!value.quoted && val.includes('=')) throw new SearchQueryError('only one name = value condition is allowed');
  if (property === '') throw new SearchQueryError('missing property name before =');
  return { kind: 'property', property, value: val };
}
