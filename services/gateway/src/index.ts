// gateway: not built yet; serves its health endpoints until its own issue lands.
import { createApp, listen } from '@groupscope/http';
import type { Logger } from '@groupscope/logger';
import type { GatewayConfig } from './config';

export * from './config';

export interface GatewayDeps {
  config: GatewayConfig;
  logger: Logger;
}

export async function startGateway(deps: GatewayDeps): Promise<{ url: string; stop(): Promise<void> }> {
  const app = createApp({ service: 'gateway', logger: deps.logger, ready: {} });
  const http = await listen(app, deps.config.GATEWAY_PORT, deps.config.HTTP_HOST, deps.logger);
  return { url: http.url, stop: () => http.close() };
}
