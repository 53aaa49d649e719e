// enricher: not built yet; serves its health endpoints until its own issue lands.
import { createApp, listen } from '@groupscope/http';
import type { Logger } from '@groupscope/logger';
import type { EnricherConfig } from './config';

export * from './config';

export interface EnricherDeps {
  config: EnricherConfig;
  logger: Logger;
}

export async function startEnricher(deps: EnricherDeps): Promise<{ url: string; stop(): Promise<void> }> {
  const app = createApp({ service: 'enricher', logger: deps.logger, ready: {} });
  const http = await listen(app, deps.config.ENRICHER_PORT, deps.config.HTTP_HOST, deps.logger);
  return { url: http.url, stop: () => http.close() };
}
