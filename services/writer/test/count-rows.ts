// Run as its own process (a chDB folder opens in one process only): prints, as JSON, the rows and distinct rows
// of each writer table of the configured ClickHouse (CLICKHOUSE_URL, else CHDB_PATH) and CLICKHOUSE_DATABASE.
import { createClickHouse } from '@groupscope/clickhouse';
import { clickhouseEnv, clickhouseOptions, commonEnv, loadConfig } from '@groupscope/config';
import { silentLogger } from '@groupscope/logger';
import { writerTableCounts } from '@groupscope/testing';

async function main() {
  const ch = createClickHouse({ ...clickhouseOptions(loadConfig({ ...commonEnv, ...clickhouseEnv })), logger: silentLogger });
  process.stdout.write(`${JSON.stringify(await writerTableCounts(ch))}\n`);
  await ch.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
