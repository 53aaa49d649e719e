// Starts the query service in-process for its integration tests, composed exactly as in production (index.ts), with
// a project registry of two projects in a temp folder, the clock the test chooses and no scheduler running (tests
// call scheduler.tick() / salesforce.tick() themselves).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouse } from '@groupscope/clickhouse';
import { listen } from '@groupscope/http';
import { silentLogger } from '@groupscope/logger';
import { ProjectRegistry, type NewKeys } from '@groupscope/projects';
import { buildQuery, loadQueryConfig, type DynamicRunner, type HealthRunner, type SalesforceRunner } from '../src/index';

export interface Reply {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test replies are checked with expect()
  body: any;
  text: string;
  headers: Headers;
}

export interface TestServiceOptions {
  /** where dynamic properties are published (default: an address nothing listens on; runs then answer 503) */
  kafka?: { brokers: string[]; clientId: string; topicPrefix: string; publishTimeoutMs?: number };
  now?: () => number;
  /** more settings, as environment variables (e.g. QUERY_TIMEOUT_MS, WEB_DIST_DIR) */
  env?: Record<string, string>;
}

export interface TestService {
  url: string;
  registry: ProjectRegistry;
  projects: NewKeys[];
  /** the dynamic-property scheduler */
  scheduler: DynamicRunner;
  /** the Salesforce sync's scheduler */
  salesforce: SalesforceRunner;
  /** the health-score scheduler */
  health: HealthRunner;
  /** GROUPSCOPE_DATA_DIR of the service (secrets files go under it) */
  dataDir: string;
  /** a request with a project's Basic auth (none when keys is null); a string body is sent as is, anything else as JSON */
  call(keys: NewKeys | null, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  stop(): Promise<void>;
}

export async function startTestService(ch: ClickHouse, opts: TestServiceOptions = {}): Promise<TestService> {
  const dir = mkdtempSync(join(tmpdir(), 'gs-query-'));
  const registry = new ProjectRegistry(join(dir, 'projects.json'));
  const projects = [registry.create('one'), registry.create('two')];
  const config = loadQueryConfig({
    LOG_LEVEL: 'silent',
    GROUPSCOPE_DATA_DIR: dir,
    WEB_DIST_DIR: join(dir, 'no-web-ui'),
    KAFKA_BROKERS: (opts.kafka?.brokers ?? ['127.0.0.1:1']).join(','),
    KAFKA_CLIENT_ID: opts.kafka?.clientId ?? 'test',
    TOPIC_PREFIX: opts.kafka?.topicPrefix ?? 'unused.',
    DYNAMIC_PROPERTIES_PUBLISH_TIMEOUT_MS: String(opts.kafka?.publishTimeoutMs ?? 10_000),
    // tests send a few requests at once on a busy machine: they wait for a slot rather than meet a 429
    QUERY_QUEUE_MS: '120000',
    ...opts.env,
  } as NodeJS.ProcessEnv);
  const query = buildQuery({ config, logger: silentLogger, ch, registry, now: opts.now });
  const http = await listen(query.app, 0, '127.0.0.1', silentLogger);
  return {
    url: http.url,
    registry,
    projects,
    scheduler: query.scheduler,
    salesforce: query.salesforce,
    health: query.health,
    dataDir: dir,
    async call(keys, method, path, body, headers = {}) {
      const auth: Record<string, string> = keys ? { authorization: 'Basic ' + Buffer.from(`${keys.api_key}:${keys.secret_key}`).toString('base64') } : {};
      const init: RequestInit = { method, headers: { ...auth, ...headers } };
      if (body !== undefined) {
        if (typeof body === 'string') init.body = body;
        else {
          init.body = JSON.stringify(body);
          (init.headers as Record<string, string>)['content-type'] = 'application/json';
        }
      }
      const res = await fetch(http.url + path, init);
      const text = await res.text();
      let parsed: unknown = undefined;
      try {
        parsed = JSON.parse(text);
      } catch {
        // CSV and other text
      }
      return { status: res.status, body: parsed, text, headers: res.headers };
    },
    async stop() {
      await query.close();
      await http.close();
    },
  };
}
