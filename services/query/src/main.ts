import { createLogger } from '@groupscope/logger';
import { onShutdown } from '@groupscope/http';
import { loadQueryConfig, startQuery } from './index';

async function main() {
  const config = loadQueryConfig();
  const logger = createLogger('query', config.LOG_LEVEL);
  const service = await startQuery({ config, logger });
  onShutdown(logger, () => service.stop());
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
