// The query scope's watchdog: a request whose handler never replies is answered 504 once its budget and the
// watchdog's grace have passed, and its scope's signal fires (which cancels its statements); an export extends the
// watchdog to its own limit; a request that replies in time is left alone.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { express, type Request, type Response } from '@groupscope/http';
import { silentLogger } from '@groupscope/logger';
import { currentScope } from '../sql/executor';
import { QueryLimiter } from './limiter';
import { queryScope } from './scope';

let server: Server;
let base: string;
const seen: { aborted?: unknown } = {};

beforeAll(async () => {
  const app = express();
  app.use((_req: Request, res: Response, next) => {
    res.locals.project = { id: 1, name: 'p' };
    next();
  });
  const limiter = new QueryLimiter({ perProject: 4, total: 8, queueMs: 1000, maxQueuedPerProject: 4 });
  app.use(queryScope({ limiter, timeoutMs: 100, logger: silentLogger, watchdogGraceMs: 200 }));
  app.get('/never', () => {
    const scope = currentScope()!;
    scope.signal.addEventListener('abort', () => (seen.aborted = scope.signal.reason));
  });
  app.get('/export', (_req, res) => {
    currentScope()!.extendTo?.(Date.now() + 1500);
    setTimeout(() => res.json({ done: true }), 1000);
  });
  app.get('/quick', (_req, res) => void res.json({ ok: true }));
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise((r) => server.close(r)));

it('answers a request that never replies 504 after its budget and cancels its scope', async () => {
  const res = await fetch(`${base}/never`, { signal: AbortSignal.timeout(20_000) });
  expect(res.status).toBe(504);
  expect(await res.json()).toEqual({ error: { code: 'timeout', message: expect.stringContaining('QUERY_TIMEOUT_MS'), details: [] } });
  expect(seen.aborted).toMatchObject({ status: 504 });
});

it('lets an export run to the limit it announced', async () => {
  const res = await fetch(`${base}/export`, { signal: AbortSignal.timeout(20_000) });
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ done: true });
});

it('leaves a request that replies in time alone', async () => {
  const res = await fetch(`${base}/quick`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ ok: true });
});
