export * from './client';
export * from './sql';
export * from './migrate';
export * from './query';
export * from './errors';
