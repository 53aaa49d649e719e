// @groupscope/datagen: the demo and benchmark data set (model.ts) and where to send it (sinks.ts).
export * from './model';
export * from './sinks';
export { Stamper, emptyBatch, type Batch } from './stamp';
