// The writer as src/main.ts runs it, made to turn into a zombie on purpose: right before its first INSERT into
// PAUSE_BEFORE_TABLE (after its watermarks were read and the INSERT planned) the process SIGSTOPs itself. Its group
// session then expires and another writer takes its partitions; when the test sends SIGCONT, the INSERT it had
// planned goes out at once, before the process can notice it was evicted. Started only by the zombie test.
import { writeSync } from 'node:fs';
import { onShutdown } from '@groupscope/http';
import { createLogger } from '@groupscope/logger';
import { loadWriterConfig, startWriter } from '../src/index';

const table = process.env.PAUSE_BEFORE_TABLE;
if (!table) throw new Error('PAUSE_BEFORE_TABLE must name a table');
let paused = false;

function pauseBeforeInsert(into: string): void {
  if (paused || into !== table) return;
  paused = true;
  // written synchronously: the process stops on the next line
  writeSync(2, `${JSON.stringify({ level: 40, table: into, msg: 'test_paused_before_insert' })}\n`);
  process.kill(process.pid, 'SIGSTOP');
  writeSync(2, `${JSON.stringify({ level: 40, table: into, msg: 'test_resumed_before_insert' })}\n`);
}

async function main() {
  const config = loadWriterConfig();
  const logger = createLogger('writer', config.LOG_LEVEL);
  const service = await startWriter({ config, logger, onFatal: () => process.exit(1), beforeInsert: pauseBeforeInsert });
  onShutdown(logger, () => service.stop());
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
