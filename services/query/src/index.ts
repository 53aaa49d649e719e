// query: not built yet; serves its health endpoints until its own issue lands.
import { createApp, listen } from '@groupscope/http';
import type { Logger } from '@groupscope/logger';
import type { QueryConfig } from './config';

export * from './config';

export interface QueryDeps {
  config: QueryConfig;
  logger: Logger;
}

export async function startQuery(deps: QueryDeps): Promise<{ url: string; stop(): Promise<void> }> {
  const app = createApp({ service: 'query', logger: deps.logger, ready: {} });
  const http = await listen(app, deps.config.QUERY_PORT, deps.config.HTTP_HOST, deps.logger);
  return { url: http.url, stop: () => http.close() };
}
