import { loadConfig, commonEnv, kafkaEnv, httpEnv, port } from '@groupscope/config';

export const gatewayEnv = { ...commonEnv, ...kafkaEnv, ...httpEnv, GATEWAY_PORT: port(8080) };
export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;
export const loadGatewayConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig(gatewayEnv, env);
