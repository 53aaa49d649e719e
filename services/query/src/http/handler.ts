// The one wrapper every API route goes through: it times the request into groupscope_query_request_seconds, replies
// the handler's result as JSON (a handler that writes its own reply, e.g. CSV, returns nothing), and hands errors to
// the app's error handler, which answers them in the API's error shape.
import type { NextFunction, Request, RequestHandler, Response } from '@groupscope/http';
import type { Logger } from '@groupscope/logger';
import { Histogram } from 'prom-client';
import { toApiError } from './errors';

const requestSeconds = new Histogram({
  name: 'groupscope_query_request_seconds',
  help: 'Query API request duration by endpoint and outcome',
  labelNames: ['endpoint', 'status'] as const,
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
});

export type Handler = (req: Request, res: Response) => Promise<unknown>;

/**
 * An express handler for `endpoint` (the metric label). A failure after the reply started (a CSV download midway)
 * can only cut the connection: it is logged here.
 */
export function handle(log: Logger, endpoint: string, fn: Handler): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const end = requestSeconds.startTimer({ endpoint });
    fn(req, res)
      .then((body) => {
        if (!res.headersSent && body !== undefined) res.json(body);
        end({ status: String(res.statusCode) });
      })
      .catch((err: unknown) => {
        end({ status: String(toApiError(err).status) });
        // answered already (the query scope's watchdog): nothing is left to say
        if (res.writableEnded) return;
        if (res.headersSent) {
          log.error({ err, path: req.path, endpoint }, 'response_failed_midway');
          res.destroy();
          return;
        }
        next(err);
      });
  };
}
