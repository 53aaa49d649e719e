// Every authenticated API request runs in a query scope: a slot from the fair limiter (429 with Retry-After when its
// project or the service is at its cap and the queue's wait runs out), a time budget for all of its ClickHouse calls
// together, and a signal that fires when the client goes away, which cancels its statements in ClickHouse.
// A watchdog backs the budget up: a request with no reply a while after its budget (or its export's limit) ran out
// is answered 504 and its statements are cancelled, whatever it waits for, so no request holds its slot for ever.
import type { RequestHandler } from '@groupscope/http';
import type { Logger } from '@groupscope/logger';
import { Counter, Gauge } from 'prom-client';
import { withRequestScope } from '../sql/executor';
import { projectOf } from './auth';
import { clientClosed, queryTimeout, tooBusy } from './errors';
import { Refused, type QueryLimiter } from './limiter';

const running = new Gauge({ name: 'groupscope_query_requests_running', help: 'API requests holding a query slot' });
const refused = new Counter({
  name: 'groupscope_query_requests_refused_total',
  help: 'API requests refused with 429 because their project or the service ran as many queries as allowed',
  labelNames: ['scope'] as const,
});
const overdue = new Counter({
  name: 'groupscope_query_requests_overdue_total',
  help: 'API requests answered 504 by the watchdog: no reply a while after their time budget ran out (a defect to look into)',
});
const cancelled = new Counter({
  name: 'groupscope_query_requests_cancelled_total',
  help: 'API requests whose client went away before the reply (their ClickHouse statements are killed)',
});

export interface QueryScopeOptions {
  limiter: QueryLimiter;
  /** the time budget of one request's ClickHouse calls together */
  timeoutMs: number;
  logger: Logger;
  /** how long past its budget a request may go without a reply before the watchdog answers it (ms) */
  watchdogGraceMs?: number;
}

export function queryScope(o: QueryScopeOptions): RequestHandler {
  const graceMs = o.watchdogGraceMs ?? 10_000;
  return (req, res, next) => {
    const project = projectOf(res);
    const abort = new AbortController();
    res.once('close', () => {
      if (res.writableFinished) return;
      cancelled.inc();
      o.logger.info({ project_id: project.id, path: req.path }, 'query_cancelled_client_gone');
      abort.abort(clientClosed());
    });
    o.limiter.acquire(project.id, abort.signal).then(
      (release) => {
        running.inc();
        let done = false;
        const end = () => {
          if (done) return;
          done = true;
          running.dec();
          release();
        };
        res.once('close', end);
        // the client may have gone while the request waited for its slot
        if (res.closed) return end();
        const deadline = Date.now() + o.timeoutMs;
        let latest = deadline;
        const check = () => {
          if (res.headersSent || res.closed) return;
          const left = latest + graceMs - Date.now();
          if (left > 0) {
            watchdog = setTimeout(check, left);
            return;
          }
          overdue.inc();
          // what it still waits for in ClickHouse (query ids for system.query_log), if anything
          const calls = [...pending].map(([query_id, since]) => ({ query_id, running_ms: Date.now() - since }));
          o.logger.error({ project_id: project.id, path: req.path, budget_ms: o.timeoutMs, calls }, 'query_reply_overdue');
          abort.abort(queryTimeout());
          const err = queryTimeout();
          res.status(err.status).json(err.toJSON());
        };
        let watchdog = setTimeout(check, o.timeoutMs + graceMs);
        res.once('close', () => clearTimeout(watchdog));
        const extendTo = (t: number) => {
          latest = Math.max(latest, t);
        };
        const pending = new Map<string, number>();
        withRequestScope({ signal: abort.signal, deadline, extendTo, pending }, () => next());
      },
      (err: unknown) => {
        if (!(err instanceof Refused)) return next(err);
        refused.inc({ scope: err.scope });
        res.setHeader('Retry-After', String(err.retryAfterS));
        next(tooBusy(err.scope, err.retryAfterS));
      },
    );
  };
}
