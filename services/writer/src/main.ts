import { createLogger } from '@groupscope/logger';
import { onShutdown } from '@groupscope/http';
import { loadWriterConfig, startWriter } from './index';

async function main() {
  const config = loadWriterConfig();
  const logger = createLogger('writer', config.LOG_LEVEL);
  const service = await startWriter({ config, logger, onFatal: () => process.exit(1) });
  onShutdown(logger, () => service.stop());
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
