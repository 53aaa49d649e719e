// Local mode: the writer and the query service in one process, because only one process may open the
// embedded ClickHouse (chDB) data folder. At scale each runs on its own against a ClickHouse server.
import { createLogger } from '@groupscope/logger';
import { onShutdown } from '@groupscope/http';
import { loadWriterConfig, startWriter } from '@groupscope/writer';
import { loadQueryConfig, startQuery } from '@groupscope/query';

async function main() {
  const writerConfig = loadWriterConfig();
  const queryConfig = loadQueryConfig();
  const logger = createLogger('storage', writerConfig.LOG_LEVEL);
  const writer = await startWriter({ config: writerConfig, logger: logger.child({ service: 'writer' }) });
  const query = await startQuery({ config: queryConfig, logger: logger.child({ service: 'query' }) });
  onShutdown(logger, async () => {
    await query.stop();
    await writer.stop();
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
