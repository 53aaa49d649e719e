import { loadWriterConfig, type WriterConfig } from '../src/config';

/** A writer configuration for in-process tests: any free port, no logs, 2 partitions unless `env` says otherwise. */
export function testWriterConfig(env: Record<string, string>): WriterConfig {
  return loadWriterConfig({ WRITER_PORT: '0', LOG_LEVEL: 'silent', KAFKA_PARTITIONS: '2', ...env });
}
