// writer: not built yet; serves its health endpoints until its own issue lands.
import { createApp, listen } from '@groupscope/http';
import type { Logger } from '@groupscope/logger';
import type { WriterConfig } from './config';

export * from './config';

export interface WriterDeps {
  config: WriterConfig;
  logger: Logger;
}

export async function startWriter(deps: WriterDeps): Promise<{ url: string; stop(): Promise<void> }> {
  const app = createApp({ service: 'writer', logger: deps.logger, ready: {} });
  const http = await listen(app, deps.config.WRITER_PORT, deps.config.HTTP_HOST, deps.logger);
  return { url: http.url, stop: () => http.close() };
}
