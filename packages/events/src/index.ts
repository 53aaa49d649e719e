export * from './codec';
export * from './topics';
export * from './types';
export * from './builders';
export * from './messages';
export * from './slab';
export * from './marks';
