// The storage schema: the ClickHouse tables (migrations) and the one mapping from enriched events and group
// changes to their rows. Pure: no client, no I/O beyond locating the migration files.
export * from './tables';
export * from './rows';
export * from './objects';
export * from './migrations';
