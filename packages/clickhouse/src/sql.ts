// A small SQL builder: every value is a bound {name:Type} parameter, every identifier is checked against an
// allow-list, and plain strings cannot be interpolated at all, so request data never reaches SQL as text.

export type ChType = string; // a ClickHouse type name such as 'String', 'UInt32', 'Array(String)', 'DateTime64(3)'

const TYPE_RE = /^[A-Za-z][A-Za-z0-9]*(\((?:[A-Za-z0-9_' ,()]|\\')*\))?$/;

class Param {
  constructor(readonly value: unknown, readonly type: ChType) {
    if (!TYPE_RE.test(type)) throw new Error(`invalid parameter type ${type}`);
  }
}
class Trusted {
  constructor(readonly text: string) {}
}

export class Sql {
  constructor(readonly strings: readonly string[], readonly values: readonly SqlValue[]) {}

  /** Renders to text with {pN:Type} placeholders and the matching query_params. */
  build(): { query: string; params: Record<string, unknown> } {
    const params: Record<string, unknown> = {};
    let n = 0;
    const render = (s: Sql): string => {
      let out = s.strings[0] ?? '';
      s.values.forEach((v, i) => {
        if (v instanceof Param) {
          const name = `p${n++}`;
          params[name] = v.value;
          out += `{${name}:${v.type}}`;
        } else if (v instanceof Trusted) {
          out += v.text;
        } else if (v instanceof Sql) {
          out += render(v);
        } else {
          throw new Error('sql: only param(), ident(), trusted fragments and sql`` may be interpolated');
        }
        out += s.strings[i + 1] ?? '';
      });
      return out;
    };
    return { query: render(this), params };
  }
}

export type SqlValue = Param | Trusted | Sql;

export function sql(strings: TemplateStringsArray, ...values: SqlValue[]): Sql {
  for (const v of values) {
    if (!(v instanceof Param || v instanceof Trusted || v instanceof Sql)) {
      throw new Error(`sql: refusing to interpolate a raw ${typeof v}; use param() or ident()`);
    }
  }
  return new Sql(strings, values);
}

/** A bound value. */
export function param(value: unknown, type: ChType): Param {
  return new Param(value, type);
}

/** An identifier that must be one of `allowed`; quoted with backticks. */
export function ident(name: string, allowed: readonly string[]): Trusted {
  if (!allowed.includes(name)) throw new SqlIdentifierError(name);
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) throw new SqlIdentifierError(name);
  return new Trusted(name.split('.').map((p) => `\`${p}\``).join('.'));
}

/** Text written in the code itself (a function name, a keyword, a table from ClickHouse.table()). Never request data. */
export function trusted(text: string): Trusted {
  return new Trusted(text);
}

/** Joins fragments with a separator (e.g. ' AND ', ', '). */
export function join(parts: Sql[], separator: string): Sql {
  if (parts.length === 0) return sql``;
  const strings = [''];
  const values: SqlValue[] = [];
  parts.forEach((p, i) => {
    if (i > 0) strings[strings.length - 1] += separator;
    values.push(p);
    strings.push('');
  });
  return new Sql(strings, values);
}

export class SqlIdentifierError extends Error {
  constructor(readonly identifier: string) {
    super(`identifier not allowed: ${identifier}`);
  }
}
