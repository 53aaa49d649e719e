// The demo and benchmark data generator: a B2B SaaS data set (model.ts) and where to send it (sinks.ts).
export * from './model';
export * from './sinks';
export { Stamper, emptyBatch, type Batch } from './stamp';
