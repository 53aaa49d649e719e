// Versioned migrations: NNN_name.sql files applied in order and recorded in schema_migrations; re-running is a
// no-op. `{db}` in a file stands for the database name. Statements are separated by a line ending in ';'.
// The files are @groupscope/schema's unless another folder is given.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@groupscope/logger';
import { MIGRATIONS_DIR } from '@groupscope/schema';
import type { ClickHouse } from './client';

export interface Migration {
  version: number;
  name: string;
  statements: string[];
  checksum: string;
}

export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const files = readdirSync(dir).filter((f) => /^\d{3,}_[a-z0-9_]+\.sql$/.test(f)).sort();
  const seen = new Set<number>();
  return files.map((file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    const version = Number(file.split('_')[0]);
    if (seen.has(version)) throw new Error(`two migrations share version ${version}`);
    seen.add(version);
    const statements = text
      .split(/;\s*(?:\r?\n|$)/)
      .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
      .filter(Boolean);
    return { version, name: file.replace(/\.sql$/, ''), statements, checksum: createHash('sha256').update(text).digest('hex') };
  });
}

export async function migrate(ch: ClickHouse, log: Logger, dir: string = MIGRATIONS_DIR): Promise<number[]> {
  const db = ch.database;
  await ch.client.command({ query: `CREATE DATABASE IF NOT EXISTS \`${db}\`` });
  await ch.client.command({
    query: `CREATE TABLE IF NOT EXISTS ${ch.table('schema_migrations')} (
      version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
    ) ENGINE = MergeTree ORDER BY version`,
  });
  const rs = await ch.client.query({ query: `SELECT version, checksum FROM ${ch.table('schema_migrations')}`, format: 'JSONEachRow' });
  const applied = new Map((await rs.json<{ version: number; checksum: string }>()).map((r) => [Number(r.version), r.checksum]));
  const done: number[] = [];
  for (const m of loadMigrations(dir)) {
    const prior = applied.get(m.version);
    if (prior !== undefined) {
      if (prior !== m.checksum) log.warn({ version: m.version, name: m.name }, 'migration_changed_after_apply');
      continue;
    }
    for (const stmt of m.statements) {
      await ch.client.command({ query: stmt.replaceAll('{db}', `\`${db}\``) });
    }
    await ch.client.insert({
      table: ch.table('schema_migrations'),
      values: [{ version: m.version, name: m.name, checksum: m.checksum }],
      format: 'JSONEachRow',
    });
    log.info({ version: m.version, name: m.name }, 'migration_applied');
    done.push(m.version);
  }
  return done;
}
