// The writer as src/main.ts runs it, with a crash on purpose: after CRASH_AFTER_INSERTS acknowledged INSERTs the
// process SIGKILLs itself, before the offsets of that batch are committed. Started only by the replay test.
import { writeSync } from 'node:fs';
import { onShutdown } from '@groupscope/http';
import { createLogger } from '@groupscope/logger';
import { loadWriterConfig, startWriter } from '../src/index';

const crashAfter = Number(process.env.CRASH_AFTER_INSERTS);
if (!Number.isInteger(crashAfter) || crashAfter < 1) throw new Error('CRASH_AFTER_INSERTS must be a whole number >= 1');

function crashAfterInserts(inserts: number): void {
  if (inserts < crashAfter) return;
  // written synchronously: pino's buffered output would die with the process
  writeSync(2, `${JSON.stringify({ level: 40, inserts, msg: 'test_crash_after_insert' })}\n`);
  process.kill(process.pid, 'SIGKILL');
}

async function main() {
  const config = loadWriterConfig();
  const logger = createLogger('writer', config.LOG_LEVEL);
  const service = await startWriter({ config, logger, onFatal: () => process.exit(1), afterInsert: crashAfterInserts });
  onShutdown(logger, () => service.stop());
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
