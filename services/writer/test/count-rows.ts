// Run as its own process (a chDB folder opens in one process only): prints, as JSON, the rows and distinct rows
// of each writer table of CHDB_PATH / CLICKHOUSE_DATABASE.
import { createClickHouse } from '@groupscope/clickhouse';
import { silentLogger } from '@groupscope/logger';
import { writerTableCounts } from '@groupscope/testing';

async function main() {
  const ch = createClickHouse({ database: process.env.CLICKHOUSE_DATABASE ?? 'groupscope', chdbPath: process.env.CHDB_PATH!, logger: silentLogger });
  process.stdout.write(`${JSON.stringify(await writerTableCounts(ch))}\n`);
  await ch.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
