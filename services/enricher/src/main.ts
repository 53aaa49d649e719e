import { createLogger } from '@groupscope/logger';
import { onShutdown } from '@groupscope/http';
import { loadEnricherConfig, startEnricher } from './index';

async function main() {
  const config = loadEnricherConfig();
  const logger = createLogger('enricher', config.LOG_LEVEL);
  // a consumer kafkajs gave up on cannot recover in-process: exit and let the supervisor restart us
  const service = await startEnricher({ config, logger, onFatal: () => process.exit(1) });
  onShutdown(logger, () => service.stop());
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
