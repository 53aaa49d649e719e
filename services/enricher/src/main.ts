import { createLogger } from '@groupscope/logger';
import { onShutdown } from '@groupscope/http';
import { loadEnricherConfig, startEnricher } from './index';

async function main() {
  const config = loadEnricherConfig();
  const logger = createLogger('enricher', config.LOG_LEVEL);
  const service = await startEnricher({ config, logger });
  onShutdown(logger, () => service.stop());
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
