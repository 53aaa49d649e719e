// The query API's express app: /health /ready /metrics, the web UI at /, sign-in at /api/session, then every
// feature's routes under /api behind authentication, all errors answered as {"error": {...}}.
import { createApp, express, type Express, type NextFunction, type Request, type Response, type Router } from '@groupscope/http';
import type { Logger } from '@groupscope/logger';
import type { ProjectRegistry } from '@groupscope/projects';
import { Counter } from 'prom-client';
import { authenticate } from './auth';
import { ApiError, toApiError } from './errors';
import type { SessionTokens } from './session';
import { queryScope, type QueryScopeOptions } from './scope';
import { FailureLimiter, sessionRouter } from './sign-in';
import { webUi } from './web';

const errorsTotal = new Counter({
  name: 'groupscope_query_errors_total',
  help: 'Query API error replies by endpoint and error code',
  labelNames: ['endpoint', 'code'] as const,
});

export interface HttpAppDeps {
  registry: ProjectRegistry;
  tokens: SessionTokens;
  logger: Logger;
  /** readiness checks (/ready) */
  ready: Record<string, () => Promise<boolean>>;
  /** each feature adds its routes to the authenticated /api router */
  features: ((router: Router) => void)[];
  /** the built web UI; not served when the folder has no index.html */
  webDistDir?: string;
  /** failed sign-ins allowed per client and minute */
  signInLimiter?: FailureLimiter;
  /** the fair concurrency cap, time budget and cancellation of every authenticated request */
  scope?: Omit<QueryScopeOptions, 'logger'>;
}

export function buildHttpApp(deps: HttpAppDeps): Express {
  const { logger } = deps;
  const app = createApp({ service: 'query', logger, ready: deps.ready });

  const ui = deps.webDistDir ? webUi(deps.webDistDir) : undefined;
  if (ui) app.use(ui);
  logger.info({ dir: deps.webDistDir, served: Boolean(ui) }, 'web_ui');

  app.use('/api', sessionRouter({ registry: deps.registry, tokens: deps.tokens, limiter: deps.signInLimiter ?? new FailureLimiter(), logger }));
  const api = express.Router();
  api.use(authenticate(deps.registry, deps.tokens));
  if (deps.scope) api.use(queryScope({ ...deps.scope, logger }));
  for (const register of deps.features) register(api);
  api.use((req, _res, next) => next(new ApiError(404, 'not_found', `no such endpoint: ${req.method} ${req.baseUrl}${req.path}`)));
  app.use('/api', api);

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const apiErr = toApiError(err);
    const endpoint = (req.route?.path as string | undefined) ?? req.path;
    errorsTotal.inc({ endpoint, code: apiErr.code });
    if (apiErr.status >= 500) logger.error({ err, path: req.path, status: apiErr.status }, 'query_failed');
    else logger.info({ path: req.path, status: apiErr.status, code: apiErr.code }, 'query_rejected');
    if (res.headersSent) return;
    res.status(apiErr.status).json(apiErr.toJSON());
  });
  return app;
}
