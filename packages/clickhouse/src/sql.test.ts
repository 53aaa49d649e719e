import { sql, param, ident, trusted, join, SqlIdentifierError } from './sql';

describe('sql builder', () => {
  it('binds values as numbered typed parameters', () => {
    const q = sql`SELECT ${ident('event_type', ['event_type'])} FROM ${trusted('db.events')} WHERE project_id = ${param(3, 'UInt32')} AND x IN ${param(['a', "b'"], 'Array(String)')}`.build();
    expect(q.query).toBe('SELECT `event_type` FROM db.events WHERE project_id = {p0:UInt32} AND x IN {p1:Array(String)}');
    expect(q.params).toEqual({ p0: 3, p1: ['a', "b'"] });
  });

  it('numbers parameters across nested fragments and joins', () => {
    const conds = [sql`a = ${param(1, 'UInt8')}`, sql`b = ${param('x', 'String')}`];
    const q = sql`SELECT 1 WHERE ${join(conds, ' AND ')} AND c = ${param(2, 'UInt8')}`.build();
    expect(q.query).toBe('SELECT 1 WHERE a = {p0:UInt8} AND b = {p1:String} AND c = {p2:UInt8}');
    expect(q.params).toEqual({ p0: 1, p1: 'x', p2: 2 });
  });

  it.each(["x'); DROP TABLE events; --", 'a`b', 'event_type; SELECT 1', '', 'ünï'])('rejects identifier %p not in the allow-list', (name) => {
    expect(() => ident(name, ['event_type'])).toThrow(SqlIdentifierError);
  });

  it('refuses to interpolate raw strings or numbers', () => {
    expect(() => sql`SELECT ${'1; DROP TABLE x' as never}`).toThrow(/refusing/);
    expect(() => sql`SELECT ${42 as never}`).toThrow(/refusing/);
  });

  it('rejects a malformed parameter type', () => {
    expect(() => param(1, 'UInt32} OR 1=1 --')).toThrow(/invalid parameter type/);
  });
});
