export * from './client';
export * from './errors';
export * from './sql';
export * from './migrate';
export * from './query';
export * from './event-lines';
export * from './fence';
