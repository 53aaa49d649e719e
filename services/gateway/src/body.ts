// Reading request bodies safely: a byte limit on the wire and on the decompressed body (a gzip bomb stops at the
// limit), gzip/deflate, and form fields from url-encoded or multipart bodies and query strings.
import type { IncomingMessage } from 'node:http';
import { gunzip, inflate, type InputType, type ZlibOptions } from 'node:zlib';
import busboy from 'busboy';
import type { FormFields } from './protocol';

export type BodyResult =
  | { ok: true; body: Buffer }
  | { ok: false; error: 'too_large'; /** the whole body was read (the connection can stay open) */ drained: boolean }
  | { ok: false; error: 'bad_encoding' | 'unsupported_encoding' | 'aborted' };

type Inflater = (buf: InputType, opts: ZlibOptions, cb: (err: Error | null, out: Buffer) => void) => void;
const inflaters: Record<string, Inflater | null> = { '': null, identity: null, gzip: gunzip, 'x-gzip': gunzip, deflate: inflate };

/** Compressed bodies may exceed the decompressed limit by a little (tiny or incompressible payloads). */
const WIRE_SLACK = 64 * 1024;

/**
 * Reads the whole body; decompressed size may not exceed `limit` bytes. An oversized body is still read to its end
 * and thrown away, up to `discardMax` bytes on the wire: a client that sends its whole body before reading the
 * reply (every SDK, curl) then gets the 413, where closing on it mid-upload would make its next write fail with a
 * reset connection. A body declared or found larger than that is not drained (`drained: false`): the caller
 * closes the connection after replying.
 */
export async function readBody(req: IncomingMessage, limit: number, discardMax = 0): Promise<BodyResult> {
  const encoding = String(req.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (!Object.hasOwn(inflaters, encoding)) return { ok: false, error: 'unsupported_encoding' };
  const inflater = inflaters[encoding] ?? null;
  const wireLimit = inflater ? limit + WIRE_SLACK : limit;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > Math.max(wireLimit, discardMax)) return { ok: false, error: 'too_large', drained: false };

  const raw = await new Promise<BodyResult>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    let oversized = false;
    const finish = (r: BodyResult) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      resolve(r);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= wireLimit) chunks.push(chunk);
      else if (size > discardMax) finish({ ok: false, error: 'too_large', drained: false });
      else if (!oversized) {
        oversized = true;
        chunks.length = 0; // what was kept is no use now; the rest only counts until the end
      }
    };
    req.on('data', onData);
    req.once('end', () => finish(oversized ? { ok: false, error: 'too_large', drained: true } : { ok: true, body: Buffer.concat(chunks, size) }));
    req.once('error', () => finish({ ok: false, error: 'aborted' }));
    req.once('close', () => finish({ ok: false, error: 'aborted' }));
  });
  if (!raw.ok || !inflater) return raw;
  return new Promise<BodyResult>((resolve) => {
    inflater(raw.body, { maxOutputLength: limit }, (err, out) => {
      if (!err) resolve({ ok: true, body: out });
      else if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) resolve({ ok: false, error: 'too_large', drained: true });
      else resolve({ ok: false, error: 'bad_encoding' });
    });
  });
}

const FORM_KEYS = ['api_key', 'identification', 'options'] as const;

function pick(get: (k: string) => string | null | undefined): FormFields {
  const out: FormFields = {};
  for (const k of FORM_KEYS) {
    const v = get(k);
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}

/** Fields from a query string (GET /identify?api_key=...&identification=...). */
export function queryFields(url: string): FormFields {
  const q = url.indexOf('?');
  const params = new URLSearchParams(q >= 0 ? url.slice(q + 1) : '');
  return pick((k) => params.get(k));
}

/**
 * Fields of a POST body: multipart/form-data via busboy, a JSON object, or url-encoded (the default whatever the
 * Content-Type says). Undefined when the body cannot be read as any of them.
 */
export async function formFields(contentType: string | undefined, body: Buffer): Promise<FormFields | undefined> {
  const type = (contentType ?? '').toLowerCase();
  if (type.startsWith('multipart/form-data')) return multipartFields(contentType!, body);
  if (type.includes('json')) {
    try {
      const obj: unknown = JSON.parse(body.toString('utf8'));
      if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
      const rec = obj as Record<string, unknown>;
      // identification may arrive as a JSON value rather than JSON text
      return pick((k) => {
        const v = rec[k];
        return v === undefined || v === null ? undefined : typeof v === 'string' ? v : JSON.stringify(v);
      });
    } catch {
      return undefined;
    }
  }
  const params = new URLSearchParams(body.toString('utf8'));
  return pick((k) => params.get(k));
}

function multipartFields(contentType: string, body: Buffer): Promise<FormFields | undefined> {
  return new Promise((resolve) => {
    const values = new Map<string, string>();
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: { 'content-type': contentType }, limits: { fieldSize: body.length + 1, fields: 50, files: 10, parts: 60 } });
    } catch {
      resolve(undefined);
      return;
    }
    bb.on('field', (name, value) => {
      if (!values.has(name)) values.set(name, value);
    });
    // some HTTP clients send every form field as a file part: read those as fields too
    bb.on('file', (name, stream) => {
      const parts: Buffer[] = [];
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('end', () => {
        if (!values.has(name)) values.set(name, Buffer.concat(parts).toString('utf8'));
      });
    });
    bb.on('close', () => resolve(pick((k) => values.get(k))));
    bb.on('error', () => resolve(undefined));
    bb.end(body);
  });
}
