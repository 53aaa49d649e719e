import { join } from 'node:path';

/**
 * The versioned DDL of every table (NNN_name.sql, applied in order by @groupscope/clickhouse's migrate). A file's
 * version and checksum are recorded when it is applied: never edit an applied file, add the next version instead.
 */
export const MIGRATIONS_DIR = join(__dirname, '..', 'migrations');
