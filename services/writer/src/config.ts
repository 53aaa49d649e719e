import { loadConfig, commonEnv, kafkaEnv, httpEnv, port } from '@groupscope/config';

export const writerEnv = { ...commonEnv, ...kafkaEnv, ...httpEnv, WRITER_PORT: port(8083) };
export type WriterConfig = ReturnType<typeof loadWriterConfig>;
export const loadWriterConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig(writerEnv, env);
