// HTTPS ingestion: with a certificate from deploy/tls/tls.sh the gateway serves TLS beside plain HTTP; a client that
// trusts the local CA sends /2/httpapi and the events arrive in Kafka; a client that does not trust it is refused.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codecs, isMark, type IngestRecord } from '@groupscope/events';
import { silentLogger } from '@groupscope/logger';
import { ProjectRegistry } from '@groupscope/projects';
import { testKafka, waitFor, TopicReader } from '@groupscope/testing';
import { loadGatewayConfig, startGateway, type RunningGateway } from './index';

jest.setTimeout(60_000);

const root = join(__dirname, '..', '..', '..');
const tk = testKafka();
const dir = mkdtempSync(join(tmpdir(), 'gw-https-'));
const registry = new ProjectRegistry(join(dir, 'projects.json'));
const project = registry.create('https');
const ingest: IngestRecord[] = [];
// the gateway's watermark marks share the topic with the records
const reader = new TopicReader(tk.kafka, [tk.topics.ingest], { onMessage: (m) => void (isMark(m.headers) || ingest.push(codecs.ingest.decode(m.value!, m.headers))) });
let gw: RunningGateway;
let ca: Buffer;

/** A POST over HTTPS that trusts only `trust` (undefined: the system's roots). */
function post(url: string, body: unknown, trust: Buffer | undefined): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', ca: trust, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

beforeAll(async () => {
  execFileSync('bash', [join(root, 'deploy/tls/tls.sh')], { env: { ...process.env, GROUPSCOPE_DATA_DIR: dir }, stdio: 'ignore' });
  ca = readFileSync(join(dir, 'tls', 'ca.crt'));
  gw = await startGateway({
    config: loadGatewayConfig({
      KAFKA_BROKERS: tk.brokers.join(','),
      TOPIC_PREFIX: tk.prefix,
      KAFKA_PARTITIONS: '2',
      PROJECTS_FILE: join(dir, 'projects.json'),
      GATEWAY_PORT: '0',
      GATEWAY_HTTPS_PORT: '0',
      GATEWAY_TLS_CERT: join(dir, 'tls', 'server.crt'),
      GATEWAY_TLS_KEY: join(dir, 'tls', 'server.key'),
      LOG_LEVEL: 'silent',
    }),
    logger: silentLogger,
  });
  await reader.start();
});

afterAll(async () => {
  await gw?.stop();
  await reader.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('serves /2/httpapi over HTTPS to a client that trusts the local CA, beside plain HTTP', async () => {
  expect(gw.httpsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  expect(gw.url).toMatch(/^http:\/\//);
  const events = [{ user_id: 'tls-user', event_type: 'Secure Event', insert_id: 'tls-1', groups: { org: 'acme' } }];
  expect(await post(`${gw.httpsUrl}/2/httpapi`, { api_key: project.api_key, events }, ca)).toMatchObject({ status: 200, body: { code: 200, events_ingested: 1 } });
  // the certificate names localhost too
  const viaName = gw.httpsUrl!.replace('127.0.0.1', 'localhost');
  expect((await post(`${viaName}/2/httpapi`, { api_key: project.api_key, events: [{ ...events[0], insert_id: 'tls-2' }] }, ca)).status).toBe(200);
  const plain = await fetch(`${gw.url}/2/httpapi`, { method: 'POST', body: JSON.stringify({ api_key: project.api_key, events: [{ ...events[0], insert_id: 'plain-1' }] }) });
  expect(plain.status).toBe(200);

  await waitFor(() => ['tls-1', 'tls-2', 'plain-1'].every((id) => ingest.some((r) => r.insert_id === id)), { message: 'records sent over HTTPS and HTTP' });
  expect(ingest.find((r) => r.insert_id === 'tls-1')).toMatchObject({ kind: 'event', project_id: project.project_id, event_type: 'Secure Event', groups: { org: ['acme'] } });
});

it('answers errors in the protocol over HTTPS too, and a client without the CA does not get through', async () => {
  expect(await post(`${gw.httpsUrl}/2/httpapi`, { api_key: 'no-such-key', events: [] }, ca)).toEqual({ status: 400, body: { code: 400, error: 'Invalid API key: no-such-key' } });
  await expect(post(`${gw.httpsUrl}/2/httpapi`, { api_key: project.api_key, events: [] }, undefined)).rejects.toThrow(/self[- ]signed|unable to verify|local issuer/i);
});

it('refuses a certificate without its key at start, naming both variables', () => {
  expect(() => loadGatewayConfig({ GATEWAY_TLS_CERT: join(dir, 'tls', 'server.crt') })).toThrow(/GATEWAY_TLS_CERT and GATEWAY_TLS_KEY/);
});
