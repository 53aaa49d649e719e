// What `npm start` runs: every service as its own process, with its own health port. Pure: the local runner (up.ts)
// and the supervisor's test build their process lists from it.
import { loadConfig, port, z } from '@groupscope/config';

export interface ServiceSpec {
  /** process name: log file <name>.log, pid file <name>.pid */
  name: string;
  /** the service's composition root, relative to the repository */
  entry: string;
  /** the port whose /health and /ready answer for this process */
  port: number;
  /** environment on top of the runner's (ports, TLS files) */
  env: Record<string, string>;
}

const instances = z.coerce.number().int().min(1).max(16).default(1);

export const localEnv = {
  GATEWAY_PORT: port(8080),
  QUERY_PORT: port(8081),
  ENRICHER_PORT: port(8082),
  WRITER_PORT: port(8083),
  GATEWAY_HTTPS_PORT: port(8443),
  GATEWAY_TLS_CERT: z.string().min(1).optional(),
  GATEWAY_TLS_KEY: z.string().min(1).optional(),
  /** enricher and writer processes (each in the one consumer group of its kind; more than partitions idle) */
  GROUPSCOPE_ENRICHERS: instances,
  GROUPSCOPE_WRITERS: instances,
  /**
   * Consumer group session timeouts, shorter than the services' 30 s: an instance killed with -9 holds its partitions
   * until its session expires, and its restarted self waits that long to rejoin. 10 s suits one machine.
   */
  ENRICHER_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).default(10_000),
  WRITER_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).default(10_000),
};
export type LocalConfig = ReturnType<typeof loadLocalConfig>;
export const loadLocalConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig(localEnv, env);

/**
 * The processes for a configuration. Instance i (1-based) of the enricher listens on ENRICHER_PORT + 2(i-1) and of
 * the writer on WRITER_PORT + 2(i-1), so the defaults interleave (8082, 8084, ... and 8083, 8085, ...). The gateway
 * serves HTTPS on GATEWAY_HTTPS_PORT beside HTTP when both TLS files are given.
 */
export function planServices(c: LocalConfig): ServiceSpec[] {
  const numbered = (kind: string, count: number, base: number, env: (port: number) => Record<string, string>): ServiceSpec[] =>
    Array.from({ length: count }, (_, i) => ({
      name: count === 1 ? kind : `${kind}-${i + 1}`,
      entry: `services/${kind}/src/main.ts`,
      port: base + 2 * i,
      env: env(base + 2 * i),
    }));
  const tls: Record<string, string> = c.GATEWAY_TLS_CERT && c.GATEWAY_TLS_KEY
    ? { GATEWAY_TLS_CERT: c.GATEWAY_TLS_CERT, GATEWAY_TLS_KEY: c.GATEWAY_TLS_KEY, GATEWAY_HTTPS_PORT: String(c.GATEWAY_HTTPS_PORT) }
    : {};
  const plan: ServiceSpec[] = [
    { name: 'gateway', entry: 'services/gateway/src/main.ts', port: c.GATEWAY_PORT, env: { GATEWAY_PORT: String(c.GATEWAY_PORT), ...tls } },
    { name: 'query', entry: 'services/query/src/main.ts', port: c.QUERY_PORT, env: { QUERY_PORT: String(c.QUERY_PORT) } },
    ...numbered('enricher', c.GROUPSCOPE_ENRICHERS, c.ENRICHER_PORT, (p) => ({
      ENRICHER_PORT: String(p),
      ENRICHER_SESSION_TIMEOUT_MS: String(c.ENRICHER_SESSION_TIMEOUT_MS),
    })),
    ...numbered('writer', c.GROUPSCOPE_WRITERS, c.WRITER_PORT, (p) => ({ WRITER_PORT: String(p), WRITER_SESSION_TIMEOUT_MS: String(c.WRITER_SESSION_TIMEOUT_MS) })),
  ];
  const used = new Map<number, string>();
  const ports = plan.map((s) => [s.port, s.name] as const);
  if (tls.GATEWAY_HTTPS_PORT) ports.push([c.GATEWAY_HTTPS_PORT, 'gateway (HTTPS)']);
  for (const [p, name] of ports) {
    const other = used.get(p);
    if (other) throw new Error(`${name} and ${other} would both listen on port ${p}: set GATEWAY_PORT, QUERY_PORT, ENRICHER_PORT, WRITER_PORT, GATEWAY_HTTPS_PORT apart`);
    used.set(p, name);
  }
  return plan;
}
