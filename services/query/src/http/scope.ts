// Every authenticated API request runs in a query scope: a slot from the fair limiter (429 with Retry-After when its
// project or the service is at its cap and the queue's wait runs out), a time budget for all of its ClickHouse calls
// together, and a signal that fires when the client goes away, which cancels its statements in ClickHouse.
import type { RequestHandler } from '@groupscope/http';
import type { Logger } from '@groupscope/logger';
import { Counter, Gauge } from 'prom-client';
import { withRequestScope } from '../sql/executor';
import { projectOf } from './auth';
import { clientClosed, tooBusy } from './errors';
import { Refused, type QueryLimiter } from './limiter';

const running = new Gauge({ name: 'groupscope_query_requests_running', help: 'API requests holding a query slot' });
const refused = new Counter({
  name: 'groupscope_query_requests_refused_total',
  help: 'API requests refused with 429 because their project or the service ran as many queries as allowed',
  labelNames: ['scope'] as const,
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
}

export function queryScope(o: QueryScopeOptions): RequestHandler {
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
        withRequestScope({ signal: abort.signal, deadline: Date.now() + o.timeoutMs }, () => next());
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
