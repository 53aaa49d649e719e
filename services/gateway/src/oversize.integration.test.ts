// An oversized body gets Amplitude's JSON 413, read by a client that sends its whole body before reading the reply
// (as SDKs and curl do), instead of a connection reset mid-upload: a real 21 MB /batch body over a plain socket.
// Past GATEWAY_DISCARD_MAX_BYTES the gateway stops reading and closes after its reply.
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@groupscope/logger';
import { ProjectRegistry } from '@groupscope/projects';
import { testKafka } from '@groupscope/testing';
import { loadGatewayConfig, startGateway, type RunningGateway } from './index';

jest.setTimeout(120_000);

const tk = testKafka();
const dir = mkdtempSync(join(tmpdir(), 'gw-oversize-'));
const projectsFile = join(dir, 'projects.json');
const project = new ProjectRegistry(projectsFile).create('oversize');
let gw: RunningGateway;

beforeAll(async () => {
  await tk.ensureTopics(1);
  gw = await startGateway({
    config: loadGatewayConfig({ KAFKA_BROKERS: tk.brokers.join(','), TOPIC_PREFIX: tk.prefix, KAFKA_PARTITIONS: '1', PROJECTS_FILE: projectsFile, GATEWAY_PORT: '0', LOG_LEVEL: 'silent' }),
    logger: silentLogger,
  });
});
afterAll(async () => {
  await gw?.stop();
});

/** A /batch body of about `mb` MB: valid JSON, many ordinary events. */
function body(mb: number): Buffer {
  const event = JSON.stringify({ user_id: 'user-12345', event_type: 'Page Viewed', event_properties: { path: '/'.padEnd(900, 'x') } });
  const n = Math.ceil((mb * 1024 * 1024) / (event.length + 1));
  return Buffer.from(`{"api_key":"${project.api_key}","events":[${Array.from({ length: n }, () => event).join(',')}]}`);
}

/**
 * Sends the request head and the whole body on a raw socket, writing every chunk before reading anything, then
 * reads the reply. Resolves with the reply's text, or rejects with the socket error (EPIPE, ECONNRESET).
 */
function sendWhole(head: string, payload: Buffer): Promise<{ reply: string }> {
  const url = new URL(gw.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('connect', async () => {
      socket.write(head);
      const step = 64 * 1024;
      for (let i = 0; i < payload.length; i += step) {
        if (!socket.write(payload.subarray(i, i + step))) await new Promise((r) => socket.once('drain', r));
      }
      // the reply is complete once its Content-Length is in
      const started = Date.now();
      const poll = setInterval(() => {
        const text = Buffer.concat(chunks).toString();
        const m = /content-length: (\d+)\r\n/i.exec(text);
        const at = text.indexOf('\r\n\r\n');
        if ((m && at >= 0 && text.length >= at + 4 + Number(m[1])) || Date.now() - started > 30_000) {
          clearInterval(poll);
          socket.end();
          resolve({ reply: text });
        }
      }, 20);
    });
  });
}

const headOf = (path: string, length: number) =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\nConnection: keep-alive\r\n\r\n`;

it('answers a 21 MB /batch body with the JSON 413, after reading it, on a connection that stays usable', async () => {
  const payload = body(21);
  expect(payload.length).toBeGreaterThan(20 * 1024 * 1024);
  const { reply } = await sendWhole(headOf('/batch', payload.length), payload);
  const [status, ...rest] = reply.split('\r\n');
  expect(status).toBe('HTTP/1.1 413 Payload Too Large');
  const json = reply.slice(reply.indexOf('\r\n\r\n') + 4);
  expect(JSON.parse(json)).toEqual({ code: 413, error: 'Payload too large' });
  // the body was read to its end: no reason to close the connection
  expect(rest.some((h) => /^connection: close$/i.test(h))).toBe(false);
});

it('answers the same for a body streamed without a length (chunked), and for /2/httpapi over its 1 MB', async () => {
  const payload = body(2);
  const { reply } = await sendWhole(headOf('/2/httpapi', payload.length), payload);
  expect(reply).toMatch(/^HTTP\/1\.1 413 /);
  expect(reply).toMatch(/\{"code":413,"error":"Payload too large"\}$/);
  const res = await fetch(`${gw.url}/batch`, {
    method: 'POST',
    body: new ReadableStream({
      start(c) {
        for (let i = 0; i < 22; i++) c.enqueue(new Uint8Array(1024 * 1024).fill(0x20));
        c.close();
      },
    }),
    duplex: 'half',
  } as RequestInit);
  expect(res.status).toBe(413);
  expect(await res.json()).toEqual({ code: 413, error: 'Payload too large' });
});
