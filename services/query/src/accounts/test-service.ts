// Starts the query service in-process for the issue-7 integration tests, with a project registry in a temp folder.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, express, listen } from '@groupscope/http';
import { silentLogger } from '@groupscope/logger';
import { ProjectRegistry, type NewKeys } from '@groupscope/projects';
import { sql, param, type ClickHouse } from '@groupscope/clickhouse';
import { registerAccountRoutes, type AccountFeatures, type AccountRoutesDeps } from './index';

export interface TestService {
  url: string;
  registry: ProjectRegistry;
  features: AccountFeatures;
  /** GET/POST/DELETE with a project's Basic auth */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test replies are checked with expect()
  call(keys: NewKeys, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; text: string; headers: Headers }>;
  stop(): Promise<void>;
}

export async function startTestService(ch: ClickHouse, extra: Partial<AccountRoutesDeps> = {}): Promise<TestService & { projects: NewKeys[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'gs-accounts-'));
  const registry = new ProjectRegistry(join(dir, 'projects.json'));
  const projects = [registry.create('one'), registry.create('two')];
  const app = createApp({ service: 'query', logger: silentLogger, ready: {} });
  const router = express.Router();
  router.use((req, res, next) => {
    const m = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    const [k, s] = m ? Buffer.from(m[1]!, 'base64').toString().split(':') : [];
    const p = k && s ? registry.authenticate(k, s) : undefined;
    if (!p) return res.status(401).json({ error: { code: 'unauthorized', message: 'bad credentials', details: [] } });
    res.locals.project = p;
    next();
  });
  const features = registerAccountRoutes(router, {
    ch,
    logger: silentLogger,
    projectOf: (req) => (req.res!.locals as { project: { id: number; time_zone: string } }).project,
    matchEvents: async ({ e }) => {
      const ev = e as { event_type: string };
      return ev.event_type === '_active' || ev.event_type === '_all' ? sql`1` : sql`event_type = ${param(ev.event_type, 'String')}`;
    },
    timeZoneOf: (id) => registry.byId(id)?.time_zone ?? 'UTC',
    schedulerIntervalMs: 0,
    ...extra,
  });
  app.use(router);
  const http = await listen(app, 0, '127.0.0.1', silentLogger);
  return {
    url: http.url,
    registry,
    features,
    projects,
    async call(keys, method, path, body, headers = {}) {
      const auth = 'Basic ' + Buffer.from(`${keys.api_key}:${keys.secret_key}`).toString('base64');
      const init: RequestInit = { method, headers: { authorization: auth, ...headers } };
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
      await features.stop();
      await http.close();
    },
  };
}
