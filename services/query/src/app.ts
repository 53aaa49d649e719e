// The query API's express app: health endpoints, Basic auth on /api, the chart routes, and routers added by other
// modules (accounts, cohorts, microscope) through `routers`, all answering errors as {"error": {...}}.
import { createApp, express, type Express, type NextFunction, type Request, type Response } from '@groupscope/http';
import type { ClickHouse } from '@groupscope/clickhouse';
import type { Logger } from '@groupscope/logger';
import type { ProjectRegistry } from '@groupscope/projects';
import { Counter, Histogram } from 'prom-client';
import { basicAuth, projectOf } from './auth';
import { Catalog } from './catalog';
import type { ChartEnv, Query, QueryLimits } from './charts/common';
import { funnels } from './charts/funnels';
import { retention } from './charts/retention';
import { segmentation } from './charts/segmentation';
import { ApiError } from './errors';

const chartSeconds = new Histogram({
  name: 'groupscope_query_request_seconds',
  help: 'Query API request duration by endpoint and outcome',
  labelNames: ['endpoint', 'status'] as const,
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
});
const errorsTotal = new Counter({
  name: 'groupscope_query_errors_total',
  help: 'Query API error replies by endpoint and error code',
  labelNames: ['endpoint', 'code'] as const,
});

export interface QueryAppDeps {
  ch: ClickHouse;
  registry: ProjectRegistry;
  logger: Logger;
  limits: QueryLimits;
  timeoutMs: number;
  /** routers mounted under /api after auth; they build their handlers with ApiContext.handle */
  routers?: ((api: ApiContext) => express.Router)[];
}

export interface ApiContext {
  ch: ClickHouse;
  catalog: Catalog;
  logger: Logger;
  /** the environment a chart runs in for this request's project */
  env(res: Response): ChartEnv;
  /** an express handler running `fn` for the authenticated project, replying its result as JSON */
  handle(endpoint: string, fn: (env: ChartEnv, query: Query, req: Request, res: Response) => Promise<unknown>): (req: Request, res: Response, next: NextFunction) => void;
}

/** Maps any error to the API's error reply. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as { code?: unknown; type?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (String(e?.code) === '159' || e?.type === 'TIMEOUT_EXCEEDED' || /TIMEOUT_EXCEEDED|Timeout exceeded/i.test(message)) {
    return new ApiError(504, 'timeout', 'the query took longer than the configured limit (QUERY_TIMEOUT_MS)');
  }
  if (/ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|socket hang up/i.test(message)) {
    return new ApiError(503, 'unavailable', 'ClickHouse is not reachable');
  }
  return new ApiError(500, 'internal', 'internal error');
}

export function buildApp(deps: QueryAppDeps): { app: Express; api: ApiContext } {
  const { ch, registry, logger } = deps;
  const app = createApp({ service: 'query', logger, ready: { clickhouse: () => ch.ping() } });
  const settings = { max_execution_time: Math.max(1, Math.ceil(deps.timeoutMs / 1000)) };
  const catalog = new Catalog(ch, settings);
  const api: ApiContext = {
    ch,
    catalog,
    logger,
    env: (res) => ({ ch, catalog, project: projectOf(res), limits: deps.limits, settings, logger }),
    handle: (endpoint, fn) => (req, res, next) => {
      const end = chartSeconds.startTimer({ endpoint });
      const env = api.env(res);
      fn(env, req.query as Query, req, res)
        .then((body) => {
          end({ status: '200' });
          if (!res.headersSent) res.json(body);
        })
        .catch((err) => {
          const apiErr = toApiError(err);
          end({ status: String(apiErr.status) });
          next(err);
        });
    },
  };

  const router = express.Router();
  router.use(basicAuth(registry));
  router.get('/2/events/segmentation', api.handle('segmentation', segmentation));
  router.get('/2/funnels', api.handle('funnels', funnels));
  router.get('/2/retention', api.handle('retention', retention));
  for (const make of deps.routers ?? []) router.use(make(api));
  router.use((req, _res, next) => next(new ApiError(404, 'not_found', `no such endpoint: ${req.method} ${req.baseUrl}${req.path}`)));
  app.use('/api', router);

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const apiErr = toApiError(err);
    const endpoint = (req.route?.path as string | undefined) ?? req.path;
    errorsTotal.inc({ endpoint, code: apiErr.code });
    if (apiErr.status >= 500) logger.error({ err, path: req.path, status: apiErr.status }, 'query_failed');
    else logger.info({ path: req.path, status: apiErr.status, code: apiErr.code }, 'query_rejected');
    if (res.headersSent) return;
    res.status(apiErr.status).json(apiErr.toJSON());
  });
  return { app, api };
}
