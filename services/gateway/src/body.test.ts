import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { deflateSync, gzipSync } from 'node:zlib';
import { formFields, queryFields, readBody } from './body';

function request(chunks: Buffer[], headers: Record<string, string> = {}): IncomingMessage {
  const r = Readable.from(chunks) as unknown as IncomingMessage;
  (r as { headers: Record<string, string> }).headers = headers;
  return r;
}

describe('readBody', () => {
  const json = Buffer.from(JSON.stringify({ api_key: 'k', events: [] }));
  it.each([
    ['plain', [json], {}, { ok: true, body: json }],
    ['gzip', [gzipSync(json)], { 'content-encoding': 'gzip' }, { ok: true, body: json }],
    ['GZIP with spaces', [gzipSync(json)], { 'content-encoding': ' GZIP ' }, { ok: true, body: json }],
    ['deflate', [deflateSync(json)], { 'content-encoding': 'deflate' }, { ok: true, body: json }],
    ['gzip that is not gzip', [Buffer.from('hello')], { 'content-encoding': 'gzip' }, { ok: false, error: 'bad_encoding' }],
    ['truncated gzip', [gzipSync(json).subarray(0, 10)], { 'content-encoding': 'gzip' }, { ok: false, error: 'bad_encoding' }],
    ['empty gzip body', [], { 'content-encoding': 'gzip' }, { ok: false, error: 'bad_encoding' }],
    ['brotli', [json], { 'content-encoding': 'br' }, { ok: false, error: 'unsupported_encoding' }],
    ['declared length over the limit', [json], { 'content-length': '5000' }, { ok: false, error: 'too_large', drained: false }],
    ['streamed past the limit', [Buffer.alloc(600), Buffer.alloc(600)], {}, { ok: false, error: 'too_large', drained: false }],
    ['a gzip bomb', [gzipSync(Buffer.alloc(10_000_000))], { 'content-encoding': 'gzip' }, { ok: false, error: 'too_large', drained: true }],
  ])('%s', async (_n, chunks, headers, want) => {
    expect(await readBody(request(chunks as Buffer[], headers), 1024)).toEqual(want);
  });

  it('reads an oversized body to its end (up to the discard bound) so the reply can follow it', async () => {
    const chunks = Array.from({ length: 10 }, () => Buffer.alloc(600));
    const stream = request(chunks);
    expect(await readBody(stream, 1024, 10_000)).toEqual({ ok: false, error: 'too_large', drained: true });
    expect(stream.readableEnded).toBe(true);
    // declared within the bound: drained too; declared beyond it, or streamed beyond it: cut off
    expect(await readBody(request(chunks, { 'content-length': '6000' }), 1024, 10_000)).toEqual({ ok: false, error: 'too_large', drained: true });
    expect(await readBody(request(chunks, { 'content-length': '60000' }), 1024, 10_000)).toEqual({ ok: false, error: 'too_large', drained: false });
    expect(await readBody(request(chunks), 1024, 3000)).toEqual({ ok: false, error: 'too_large', drained: false });
  });
});

describe('form fields', () => {
  const ident = JSON.stringify({ user_id: 'user-1', user_properties: { a: 'x&y=z' } });
  it('reads url-encoded bodies whatever the content type says', async () => {
    const body = Buffer.from(`api_key=k&identification=${encodeURIComponent(ident)}&options=undefined&other=1`);
    for (const type of ['application/x-www-form-urlencoded', undefined, 'text/plain']) {
      expect(await formFields(type, body)).toEqual({ api_key: 'k', identification: ident, options: 'undefined' });
    }
  });
  it('reads multipart bodies, fields or file parts', async () => {
    const fd = new FormData();
    fd.set('api_key', 'k');
    fd.set('identification', new Blob([ident]), 'identification.json');
    const res = new Response(fd);
    const type = res.headers.get('content-type')!;
    expect(await formFields(type, Buffer.from(await res.arrayBuffer()))).toEqual({ api_key: 'k', identification: ident });
  });
  it('reads a JSON object, identification as a value or as text', async () => {
    expect(await formFields('application/json', Buffer.from(JSON.stringify({ api_key: 'k', identification: [{ user_id: 'u' }] })))).toEqual({
      api_key: 'k', identification: '[{"user_id":"u"}]',
    });
    expect(await formFields('application/json', Buffer.from('[1]'))).toBeUndefined();
    expect(await formFields('application/json', Buffer.from('{'))).toBeUndefined();
  });
  it('gives up on broken multipart without throwing', async () => {
    expect(await formFields('multipart/form-data', Buffer.from('x'))).toBeUndefined();
    // a body cut off before its closing boundary
    expect(await formFields('multipart/form-data; boundary=abc', Buffer.from('--abc\r\nContent-Disposition: form-data; name="api_key"\r\n\r\nk'))).toBeUndefined();
  });
  it('reads query strings', () => {
    expect(queryFields(`/identify?api_key=k&identification=${encodeURIComponent(ident)}`)).toEqual({ api_key: 'k', identification: ident });
    expect(queryFields('/identify')).toEqual({});
  });
});
