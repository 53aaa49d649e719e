// A Salesforce-compatible HTTP server for the sync's tests (no real org is reachable here). It answers the way
// Salesforce documents its REST API:
//   POST /services/oauth2/token (client credentials flow, form body) -> {access_token, signature, instance_url, id,
//     token_type: "Bearer", issued_at, scope}; bad client -> 400 {error: "invalid_client", error_description}
//   GET /services/data/vXX.X/sobjects/{object}/describe -> {name, label, queryable, fields: [{name, type, label,
//     filterable, nillable, length}], urls}; an unknown object -> 404 [{errorCode: "NOT_FOUND", message}]
//   GET /services/data/vXX.X/query?q=SOQL -> {totalSize, done, nextRecordsUrl?, records: [{attributes: {type, url},
//     Id, ...}]}, the next page at GET nextRecordsUrl (/services/data/vXX.X/query/<locator>-<offset>); dateTimes
//     in records as 2017-09-01T10:00:00.000+0000
//   errors: a list [{message, errorCode}]: 401 INVALID_SESSION_ID (token unknown or expired), 403
//     REQUEST_LIMIT_EXCEEDED, 400 INVALID_FIELD / INVALID_TYPE / MALFORMED_QUERY, 500 UNKNOWN_EXCEPTION
// The SOQL it understands is what the sync sends: SELECT fields FROM object [WHERE field >= dateTime | field IN
// ('...', ...) | field = '...'] [ORDER BY field [ASC|DESC], ...] [LIMIT n], string literals with SOQL's escape
// sequences (an unknown escape is MALFORMED_QUERY, as in Salesforce). Faults are injected per request kind.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FieldSpec {
  name: string;
  type: string;
  filterable?: boolean;
}

type Kind = 'token' | 'describe' | 'query' | 'queryMore';

export interface Fault {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface RequestLog {
  kind: Kind | 'other';
  path: string;
  soql?: string;
  status: number;
}

export interface FakeSalesforce {
  /** the login URL, which is also the instance URL */
  url: string;
  clientId: string;
  clientSecret: string;
  /** every request, in order */
  requests: RequestLog[];
  /** tokens issued so far */
  tokensIssued(): number;
  /** the query service's settings that point a project at this server */
  env(projectId: number): Record<string, string>;
  defineObject(name: string, fields: FieldSpec[]): void;
  /** creates or changes a record; its SystemModstamp becomes `at` */
  upsert(object: string, id: string, values: Record<string, unknown>, at: number): void;
  /** renames a field (its values move along), as an admin would in Setup */
  renameField(object: string, from: string, to: string): void;
  /** forgets every issued token, as a session timeout or revocation does */
  expireTokens(): void;
  /** the next `times` requests of `kind` get this reply */
  fail(kind: Kind, fault: Fault, times?: number): void;
  /** the next `times` requests of `kind` are refused for the org's API limit */
  rateLimit(kind: Kind, times?: number): void;
  /** records per page (Salesforce's default is 2000; the Sforce-Query-Options batch size can lower it) */
  pageSize: number;
  stop(): Promise<void>;
}

export const REQUEST_LIMIT_EXCEEDED: Fault = { status: 403, body: [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }] };
export const SERVER_ERROR: Fault = { status: 500, body: [{ message: 'An unexpected error occurred. Please include this ErrorId if you contact support: 1234-5678 (-1)', errorCode: 'UNKNOWN_EXCEPTION' }] };

interface ObjectData {
  name: string;
  fields: FieldSpec[];
  records: Map<string, Record<string, unknown>>;
}

class SoqlSyntaxError extends Error {}
class SoqlFieldError extends Error {}

type Token = { t: 'id'; v: string } | { t: 'str'; v: string } | { t: 'dt'; v: number } | { t: 'num'; v: number } | { t: 'op'; v: string } | { t: 'punct'; v: string };

const ESCAPES: Record<string, string> = { n: '\n', N: '\n', r: '\r', R: '\r', t: '\t', T: '\t', b: '\b', B: '\b', f: '\f', F: '\f', '"': '"', "'": "'", '\\': '\\' };

function tokenize(q: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let v = '';
      i++;
      for (;;) {
        if (i >= q.length) throw new SoqlSyntaxError('unterminated string');
        const d = q[i]!;
        if (d === "'") {
          i++;
          break;
        }
        if (d === '\\') {
          const e = q[i + 1];
          if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(q.slice(i + 2, i + 6))) {
            v += String.fromCharCode(parseInt(q.slice(i + 2, i + 6), 16));
            i += 6;
            continue;
          }
          if (e === undefined || ESCAPES[e] === undefined) throw new SoqlSyntaxError(`invalid escape sequence \\${e ?? ''}`);
          v += ESCAPES[e];
          i += 2;
          continue;
        }
        v += d;
        i++;
      }
      out.push({ t: 'str', v });
    } else if (/\d/.test(c)) {
      const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:Z|[+-]\d\d:\d\d))|^(\d+)/.exec(q.slice(i));
      if (!m) throw new SoqlSyntaxError(`unexpected ${c}`);
      if (m[1]) out.push({ t: 'dt', v: Date.parse(m[1]) });
      else out.push({ t: 'num', v: Number(m[2]) });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(q.slice(i))!;
      out.push({ t: 'id', v: m[0] });
      i += m[0].length;
    } else if (/[<>=!]/.test(c)) {
      const m = /^(>=|<=|!=|<>|=|<|>)/.exec(q.slice(i))!;
      out.push({ t: 'op', v: m[0] });
      i += m[0].length;
    } else if (c === ',' || c === '(' || c === ')') {
      out.push({ t: 'punct', v: c });
      i++;
    } else {
      throw new SoqlSyntaxError(`unexpected character ${c}`);
    }
  }
  return out;
}

interface Parsed {
  fields: string[];
  object: string;
  where?: { field: string; op: string; values: (string | number)[] };
  order: { field: string; desc: boolean }[];
  limit?: number;
}

function parseSoql(q: string): Parsed {
  const toks = tokenize(q);
  let i = 0;
  const peek = () => toks[i];
  const kw = (w: string) => peek()?.t === 'id' && (peek()!.v as string).toUpperCase() === w;
  const expectKw = (w: string) => {
    if (!kw(w)) throw new SoqlSyntaxError(`expected ${w}`);
    i++;
  };
  const ident = () => {
    const t = toks[i++];
    if (t?.t !== 'id') throw new SoqlSyntaxError('expected a name');
    return t.v;
  };
  const punct = (p: string) => peek()?.t === 'punct' && peek()!.v === p;
  expectKw('SELECT');
  const fields = [ident()];
  while (punct(',')) {
    i++;
    fields.push(ident());
  }
  expectKw('FROM');
  const object = ident();
  const parsed: Parsed = { fields, object, order: [] };
  if (kw('WHERE')) {
    i++;
    const field = ident();
    if (kw('IN')) {
      i++;
      if (!punct('(')) throw new SoqlSyntaxError('expected (');
      i++;
      const values: string[] = [];
      for (;;) {
        const t = toks[i++];
        if (t?.t !== 'str') throw new SoqlSyntaxError('expected a string');
        values.push(t.v);
        if (punct(',')) {
          i++;
          continue;
        }
        if (punct(')')) {
          i++;
          break;
        }
        throw new SoqlSyntaxError('expected , or )');
      }
      parsed.where = { field, op: 'IN', values };
    } else {
      const op = toks[i++];
      if (op?.t !== 'op') throw new SoqlSyntaxError('expected an operator');
      const v = toks[i++];
      if (v?.t !== 'str' && v?.t !== 'dt' && v?.t !== 'num') throw new SoqlSyntaxError('expected a value');
      parsed.where = { field, op: op.v, values: [v.v] };
    }
  }
  if (kw('ORDER')) {
    i++;
    expectKw('BY');
    for (;;) {
      const field = ident();
      let desc = false;
      if (kw('ASC')) i++;
      else if (kw('DESC')) {
        i++;
        desc = true;
      }
      parsed.order.push({ field, desc });
      if (!punct(',')) break;
      i++;
    }
  }
  if (kw('LIMIT')) {
    i++;
    const n = toks[i++];
    if (n?.t !== 'num') throw new SoqlSyntaxError('expected a number');
    parsed.limit = n.v;
  }
  if (i < toks.length) throw new SoqlSyntaxError(`unexpected token ${JSON.stringify(toks[i]!.v)}`);
  return parsed;
}

/** Salesforce's JSON form of a dateTime. */
const sfDateTime = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  return (a as number | string) < (b as number | string) ? -1 : 1;
}

export async function startFakeSalesforce(opts: { port?: number; apiVersion?: string } = {}): Promise<FakeSalesforce> {
  const objects = new Map<string, ObjectData>();
  const tokens = new Set<string>();
  let issued = 0;
  const faults: Record<Kind, Fault[]> = { token: [], describe: [], query: [], queryMore: [] };
  const cursors = new Map<string, Record<string, unknown>[]>();
  const requests: RequestLog[] = [];
  const clientId = `3MVG9${randomBytes(8).toString('hex')}`;
  const clientSecret = randomBytes(16).toString('hex');
  let url = '';

  const obj = (name: string) => objects.get(name.toLowerCase());
  const fieldOf = (o: ObjectData, name: string) => o.fields.find((f) => f.name.toLowerCase() === name.toLowerCase());

  const fake: FakeSalesforce = {
    url: '',
    clientId,
    clientSecret,
    requests,
    pageSize: 2000,
    tokensIssued: () => issued,
    env: (projectId) => ({
      [`SALESFORCE_${projectId}_LOGIN_URL`]: url,
      [`SALESFORCE_${projectId}_CLIENT_ID`]: clientId,
      [`SALESFORCE_${projectId}_CLIENT_SECRET`]: clientSecret,
    }),
    defineObject(name, fields) {
      const base: FieldSpec[] = [
        { name: 'Id', type: 'id', filterable: true },
        { name: 'SystemModstamp', type: 'datetime', filterable: true },
      ];
      objects.set(name.toLowerCase(), { name, fields: [...base, ...fields.filter((f) => !base.some((b) => b.name === f.name))], records: new Map() });
    },
    upsert(object, id, values, at) {
      const o = obj(object);
      if (!o) throw new Error(`no object ${object}`);
      const prior = o.records.get(id) ?? { Id: id };
      const next: Record<string, unknown> = { ...prior, SystemModstamp: at };
      for (const [k, v] of Object.entries(values)) {
        const f = fieldOf(o, k);
        if (!f) throw new Error(`no field ${k} on ${object}`);
        next[f.name] = v;
      }
      o.records.set(id, next);
    },
    renameField(object, from, to) {
      const o = obj(object)!;
      const f = fieldOf(o, from)!;
      for (const r of o.records.values()) {
        r[to] = r[f.name];
        delete r[f.name];
      }
      f.name = to;
    },
    expireTokens() {
      tokens.clear();
    },
    fail(kind, fault, times = 1) {
      for (let n = 0; n < times; n++) faults[kind].push(fault);
    },
    rateLimit(kind, times = 1) {
      fake.fail(kind, REQUEST_LIMIT_EXCEEDED, times);
    },
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const send = (res: ServerResponse, log: RequestLog, status: number, body: unknown, headers: Record<string, string> = {}) => {
    log.status = status;
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers });
    res.end(JSON.stringify(body));
  };
  const sfError = (code: string, message: string) => [{ message, errorCode: code }];

  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      let s = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (s += d));
      req.on('end', () => resolve(s));
      req.on('error', reject);
    });

  function page(res: ServerResponse, log: RequestLog, version: string, locator: string, offset: number, size: number) {
    const all = cursors.get(locator);
    if (!all) return send(res, log, 400, sfError('INVALID_QUERY_LOCATOR', 'invalid query locator'));
    const records = all.slice(offset, offset + size);
    const done = offset + size >= all.length;
    const body: Record<string, unknown> = { totalSize: all.length, done, records };
    if (done) cursors.delete(locator);
    else body.nextRecordsUrl = `/services/data/${version}/query/${locator}-${offset + size}`;
    send(res, log, 200, body);
  }

  function runQuery(soql: string): Record<string, unknown>[] {
    const p = parseSoql(soql);
    const o = obj(p.object);
    if (!o) throw new SoqlFieldError(`sObject type '${p.object}' is not supported.`);
    const fields = p.fields.map((n) => {
      const f = fieldOf(o, n);
      if (!f) throw new SoqlFieldError(`\n${p.fields.join(', ')} FROM ${p.object}\n^\nERROR at Row:1:Column:8\nNo such column '${n}' on entity '${o.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.`);
      return f;
    });
    let rows = [...o.records.values()];
    if (p.where) {
      const f = fieldOf(o, p.where.field);
      if (!f) throw new SoqlFieldError(`No such column '${p.where.field}' on entity '${o.name}'.`);
      const { op, values } = p.where;
      rows = rows.filter((r) => {
        const v = r[f.name];
        if (op === 'IN') return values.includes(v as string);
        const w = values[0];
        const c = compare(v, w);
        return op === '=' ? c === 0 : op === '!=' || op === '<>' ? c !== 0 : op === '>=' ? c >= 0 : op === '>' ? c > 0 : op === '<=' ? c <= 0 : c < 0;
      });
    }
    if (p.order.length > 0) {
      const keys = p.order.map((k) => {
        const f = fieldOf(o, k.field);
        if (!f) throw new SoqlFieldError(`No such column '${k.field}' on entity '${o.name}'.`);
        return { name: f.name, desc: k.desc };
      });
      rows.sort((a, b) => {
        for (const k of keys) {
          const c = compare(a[k.name], b[k.name]);
          if (c !== 0) return k.desc ? -c : c;
        }
        return 0;
      });
    }
    if (p.limit !== undefined) rows = rows.slice(0, p.limit);
    return rows.map((r) => {
      const out: Record<string, unknown> = { attributes: { type: o.name, url: `/services/data/v62.0/sobjects/${o.name}/${String(r.Id)}` } };
      for (const f of fields) {
        const v = r[f.name];
        out[f.name] = v === undefined ? null : f.type === 'datetime' && typeof v === 'number' ? sfDateTime(v) : v;
      }
      return out;
    });
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const log: RequestLog = { kind: 'other', path: u.pathname, status: 0 };
      requests.push(log);
      const fault = (kind: Kind) => {
        log.kind = kind;
        const f = faults[kind].shift();
        if (f) send(res, log, f.status, f.body, f.headers);
        return f !== undefined;
      };
      const authorized = () => {
        const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
        if (m && tokens.has(m[1]!)) return true;
        send(res, log, 401, sfError('INVALID_SESSION_ID', 'Session expired or invalid'));
        return false;
      };
      if (req.method === 'POST' && u.pathname === '/services/oauth2/token') {
        const body = new URLSearchParams(await readBody(req));
        if (fault('token')) return;
        if (body.get('grant_type') !== 'client_credentials') return send(res, log, 400, { error: 'unsupported_grant_type', error_description: 'grant type not supported' });
        if (body.get('client_id') !== clientId || body.get('client_secret') !== clientSecret) return send(res, log, 400, { error: 'invalid_client', error_description: 'invalid client credentials' });
        const token = `00D5g000004Xyz!AQ${randomBytes(24).toString('base64url')}`;
        tokens.add(token);
        issued++;
        return send(res, log, 200, {
          access_token: token,
          signature: randomBytes(32).toString('base64'),
          scope: 'api',
          instance_url: url,
          id: `${url}/id/00D5g000004XyzAAA/0055g00000AbcdeAAA`,
          token_type: 'Bearer',
          issued_at: String(Date.now()),
        });
      }
      let m = /^\/services\/data\/(v\d+\.\d)\/sobjects\/([^/]+)\/describe\/?$/.exec(u.pathname);
      if (req.method === 'GET' && m) {
        if (fault('describe') || !authorized()) return;
        const o = obj(decodeURIComponent(m[2]!));
        if (!o) return send(res, log, 404, sfError('NOT_FOUND', 'The requested resource does not exist'));
        return send(res, log, 200, {
          name: o.name,
          label: o.name,
          queryable: true,
          custom: o.name.endsWith('__c'),
          fields: o.fields.map((f) => ({ name: f.name, type: f.type, label: f.name, filterable: f.filterable ?? true, nillable: f.name !== 'Id', length: f.type === 'string' ? 255 : 0 })),
          urls: { sobject: `/services/data/${m[1]}/sobjects/${o.name}`, describe: `/services/data/${m[1]}/sobjects/${o.name}/describe` },
        });
      }
      m = /^\/services\/data\/(v\d+\.\d)\/query\/?$/.exec(u.pathname);
      if (req.method === 'GET' && m) {
        const soql = u.searchParams.get('q') ?? '';
        log.soql = soql;
        if (fault('query') || !authorized()) return;
        const batch = Number(/batchSize=(\d+)/.exec(String(req.headers['sforce-query-options'] ?? ''))?.[1] ?? 2000);
        let rows: Record<string, unknown>[];
        try {
          rows = runQuery(soql);
        } catch (err) {
          if (err instanceof SoqlSyntaxError) return send(res, log, 400, sfError('MALFORMED_QUERY', err.message));
          if (err instanceof SoqlFieldError) return send(res, log, 400, sfError(err.message.startsWith('sObject type') ? 'INVALID_TYPE' : 'INVALID_FIELD', err.message));
          throw err;
        }
        const locator = `01g5g00000${randomBytes(4).toString('hex').toUpperCase()}`;
        cursors.set(locator, rows);
        return page(res, log, m[1]!, locator, 0, Math.min(fake.pageSize, batch));
      }
      m = /^\/services\/data\/(v\d+\.\d)\/query\/([A-Za-z0-9]+)-(\d+)$/.exec(u.pathname);
      if (req.method === 'GET' && m) {
        if (fault('queryMore') || !authorized()) return;
        const batch = Number(/batchSize=(\d+)/.exec(String(req.headers['sforce-query-options'] ?? ''))?.[1] ?? 2000);
        return page(res, log, m[1]!, m[2]!, Number(m[3]), Math.min(fake.pageSize, batch));
      }
      send(res, log, 404, sfError('NOT_FOUND', 'The requested resource does not exist'));
    })().catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify([{ message: String(err), errorCode: 'UNKNOWN_EXCEPTION' }]));
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', () => resolve()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.url = url;
  return fake;
}
