// Local mode: the writer and the query service in one process, because only one process may open the
// embedded ClickHouse (chDB) data folder. They share ONE ClickHouse handle, migrated once here; at scale each
// runs on its own against a ClickHouse server.
import { createLogger } from '@groupscope/logger';
import { onShutdown } from '@groupscope/http';
import { migrate } from '@groupscope/clickhouse';
import { clickhouseFromConfig, loadWriterConfig, startWriter } from '@groupscope/writer';
import { loadQueryConfig, startQuery } from '@groupscope/query';

async function main() {
  const writerConfig = loadWriterConfig();
  const queryConfig = loadQueryConfig();
  const logger = createLogger('storage', writerConfig.LOG_LEVEL);
  const ch = clickhouseFromConfig(writerConfig, logger);
  await migrate(ch, logger);
  const writer = await startWriter({ config: writerConfig, logger: logger.child({ service: 'writer' }), ch, onFatal: () => process.exit(1) });
  const queryDeps = { config: queryConfig, logger: logger.child({ service: 'query' }), ch };
  const query = await startQuery(queryDeps);
  onShutdown(logger, async () => {
    await query.stop();
    await writer.stop();
    await ch.close();
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
