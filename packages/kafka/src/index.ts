export * from './client';
export * from './consumer';
export * from './dlq';
export type { Kafka, Producer, Transaction, Admin, IHeaders, Message } from 'kafkajs';
export { logLevel } from 'kafkajs';
