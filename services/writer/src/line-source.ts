// How buffered event lines reach ClickHouse. Each INSERT's lines are parsed once by ClickHouse and feed two
// INSERT ... SELECTs: `events`, and `event_groups`, whose rows ClickHouse makes itself (ARRAY JOIN group_rows), so
// the columns an event shares with its groups are neither encoded nor parsed once per group.
import { exec, execWithBody, sql, tableRef, trusted, columnList, type ClickHouse, type Sql, type SqlValue } from '@groupscope/clickhouse';
import { COLUMNS, EVENT_INPUT, EVENT_LINE_STRUCTURE } from '@groupscope/schema';

/** event_groups columns in order, from an event line and one of its group_rows entries `g`. */
function eventGroupsSelect(): SqlValue {
  const lineColumns = EVENT_INPUT.map(([name]) => name);
  const from: Record<string, string> = {
    group_type: 'g.1',
    group_value: 'g.2',
    group_properties: 'g.3',
    group_properties_json_keys: 'g.4',
    all_group_properties: 'group_properties',
  };
  const exprs = COLUMNS.event_groups.map((c) => {
    const expr = from[c] ?? (lineColumns.includes(c) ? c : undefined);
    if (!expr) throw new Error(`event_groups column ${c} has no source in the event line`);
    return expr;
  });
  return trusted(exprs.join(', '));
}

/**
 * The two INSERT ... SELECTs that turn event lines read from `source` into rows: only lines whose `want` bit
 * says the table still needs them.
 */
function eventStatements(ch: ClickHouse, source: SqlValue, format: SqlValue): Record<'events' | 'event_groups', Sql> {
  return {
    events: sql`INSERT INTO ${tableRef(ch, 'events')} (${columnList(COLUMNS.events)}) SELECT ${columnList(COLUMNS.events)} FROM ${source}
                WHERE bitTest(want, 0) SETTINGS max_insert_threads = 1${format}`,
    event_groups: sql`INSERT INTO ${tableRef(ch, 'event_groups')} (${columnList(COLUMNS.event_groups)}) SELECT ${eventGroupsSelect()} FROM ${source}
                      ARRAY JOIN group_rows AS g WHERE bitTest(want, 1) SETTINGS max_insert_threads = 1${format}`,
  };
}

/**
 * Where the lines are read from. A server reads them with input() from each INSERT's request body (no session
 * needed). chDB's input() does not read inline data, so there they are loaded once into a temporary Memory
 * table that both INSERTs read.
 */
export interface LineSource {
  run(body: Buffer, tables: ('events' | 'event_groups')[], acknowledged: (table: 'events' | 'event_groups', seconds: number) => void): Promise<void>;
  close(): Promise<void>;
}

function serverSource(ch: ClickHouse): LineSource {
  const statements = eventStatements(ch, trusted(`input('${EVENT_LINE_STRUCTURE}')`), trusted(' FORMAT JSONCompactEachRow'));
  return {
    async run(body, tables, acknowledged) {
      for (const table of tables) {
        const t0 = performance.now();
        await execWithBody(ch, statements[table], body);
        acknowledged(table, (performance.now() - t0) / 1000);
      }
    },
    close: async () => undefined,
  };
}

function embeddedSource(ch: ClickHouse, scratch: string): LineSource {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(scratch)) throw new Error(`invalid scratch table name ${scratch}`);
  const table = trusted(scratch);
  const statements = eventStatements(ch, table, trusted(''));
  let ready = false;
  const command = async (q: Sql) => {
    try {
      await exec(ch, q);
    } catch (err) {
      ready = false; // e.g. a lost chDB session: create the table again on the next attempt
      throw err;
    }
  };
  return {
    async run(body, tables, acknowledged) {
      if (!ready) {
        await command(sql`CREATE TEMPORARY TABLE IF NOT EXISTS ${table} (${trusted(EVENT_LINE_STRUCTURE)}) ENGINE = Memory`);
        ready = true;
      }
      await command(sql`TRUNCATE TABLE ${table}`);
      await execWithBody(ch, sql`INSERT INTO ${table} FORMAT JSONCompactEachRow`, body);
      for (const t of tables) {
        const t0 = performance.now();
        await command(statements[t]);
        acknowledged(t, (performance.now() - t0) / 1000);
      }
      await command(sql`TRUNCATE TABLE ${table}`);
    },
    // chDB keeps a temporary table for the life of the process otherwise
    close: async () => {
      if (ready) await exec(ch, sql`DROP TEMPORARY TABLE IF EXISTS ${table}`).catch(() => undefined);
    },
  };
}

/** The source for this ClickHouse: input() on a server; on chDB, the temporary table `scratch`. */
export function lineSource(ch: ClickHouse, scratch: string): LineSource {
  return ch.kind === 'embedded' ? embeddedSource(ch, scratch) : serverSource(ch);
}
