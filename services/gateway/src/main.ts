import { createLogger } from '@groupscope/logger';
import { onShutdown } from '@groupscope/http';
import { loadGatewayConfig, startGateway } from './index';

async function main() {
  const config = loadGatewayConfig();
  const logger = createLogger('gateway', config.LOG_LEVEL);
  const service = await startGateway({ config, logger });
  onShutdown(logger, () => service.stop());
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
