// Starts the query app in-process for the issue-7 integration tests (the charts' app: auth, error handler,
// routers), with a project registry of two projects in a temp folder and the clock the test chooses.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listen } from '@groupscope/http';
import { silentLogger } from '@groupscope/logger';
import { ProjectRegistry, type NewKeys } from '@groupscope/projects';
import type { ClickHouse } from '@groupscope/clickhouse';
import { buildApp } from '../app';
import { accountFeatures, type AccountFeatures, type AccountFeaturesDeps } from './index';

export interface Reply {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test replies are checked with expect()
  body: any;
  text: string;
  headers: Headers;
}

export interface TestService {
  url: string;
  registry: ProjectRegistry;
  projects: NewKeys[];
  features: AccountFeatures;
  /** a request with a project's Basic auth; a string body is sent as is, anything else as JSON */
  call(keys: NewKeys, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  stop(): Promise<void>;
}

export async function startTestService(ch: ClickHouse, extra: Partial<AccountFeaturesDeps> = {}): Promise<TestService> {
  const dir = mkdtempSync(join(tmpdir(), 'gs-accounts-'));
  const registry = new ProjectRegistry(join(dir, 'projects.json'));
  const projects = [registry.create('one'), registry.create('two')];
  const features = accountFeatures({
    logger: silentLogger,
    timeZoneOf: (id) => registry.byId(id)?.time_zone ?? 'UTC',
    schedulerIntervalMs: 0,
    ...extra,
  });
  const { app } = buildApp({
    ch,
    registry,
    logger: silentLogger,
    timeoutMs: 30_000,
    limits: { maxDays: 1100, maxHourlyDays: 31, maxGroupByLimit: 1000 },
    routers: [(api) => features.router(api)],
  });
  const http = await listen(app, 0, '127.0.0.1', silentLogger);
  return {
    url: http.url,
    registry,
    projects,
    features,
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
