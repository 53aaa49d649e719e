import { loadConfig, commonEnv, kafkaEnv, httpEnv, port } from '@groupscope/config';

export const enricherEnv = { ...commonEnv, ...kafkaEnv, ...httpEnv, ENRICHER_PORT: port(8082) };
export type EnricherConfig = ReturnType<typeof loadEnricherConfig>;
export const loadEnricherConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig(enricherEnv, env);
