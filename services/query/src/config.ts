import { loadConfig, commonEnv, kafkaEnv, httpEnv, port } from '@groupscope/config';

export const queryEnv = { ...commonEnv, ...kafkaEnv, ...httpEnv, QUERY_PORT: port(8081) };
export type QueryConfig = ReturnType<typeof loadQueryConfig>;
export const loadQueryConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig(queryEnv, env);
