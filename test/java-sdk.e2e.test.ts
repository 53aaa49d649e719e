// The official Amplitude Java SDK (com.amplitude:java-sdk, which sends only over HTTPS) against the gateway's HTTPS
// listener with a certificate from the local CA (deploy/tls/tls.sh), the JVM trusting that CA through a trust store
// made with keytool. The client (test/java-sdk, built with Maven) sends a group identify, identifies that put two
// users in the account, and events; the query API then counts them by account, with the group properties stamped.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { param, queryRows, sql, tableRef } from '@groupscope/clickhouse';
import { ProjectRegistry } from '@groupscope/projects';
import { uniqueName, waitFor } from '@groupscope/testing';
import { startStack, type Stack } from './stack';

jest.setTimeout(300_000);

const run = promisify(execFile);
const root = join(__dirname, '..');
const javaSdk = join(__dirname, 'java-sdk', 'build.sh');
const dir = mkdtempSync(join(tmpdir(), 'gs-java-sdk-'));
const tls = join(dir, 'tls');
const truststore = join(tls, 'truststore.p12');
const registry = new ProjectRegistry(join(dir, 'projects.json'));
const project = registry.create('java-sdk');
// unique per run: user ids, the company and insert ids (the SDK client derives them from it)
const runId = uniqueName('j');
const company = `acme-${runId}`;

let stack: Stack;
let classPath = '';

beforeAll(async () => {
  // the client is built once (Maven caches the SDK in ~/.m2); the certificates are made for this run
  const [, , cp] = await Promise.all([
    run('bash', [javaSdk], { timeout: 600_000 }),
    run('bash', [join(root, 'deploy/tls/tls.sh')], { env: { ...process.env, TLS_DIR: tls } }).then(() =>
      run('keytool', ['-importcert', '-noprompt', '-alias', 'groupscope-local', '-file', join(tls, 'ca.crt'), '-keystore', truststore, '-storetype', 'PKCS12', '-storepass', 'changeit']),
    ),
    run('bash', [javaSdk, 'cp']),
  ]);
  classPath = cp.stdout;
  stack = await startStack({
    projectsFile: registry.file,
    dataDir: dir,
    env: { GATEWAY_TLS_CERT: join(tls, 'server.crt'), GATEWAY_TLS_KEY: join(tls, 'server.key'), GATEWAY_HTTPS_PORT: '0' },
  });
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
const range = { start: ymd(Date.now() - 86_400_000), end: ymd(Date.now()) };

async function api<T>(path: string, params: Record<string, string> | [string, string][] = {}): Promise<T> {
  const res = await fetch(`${stack.queryUrl}${path}?${new URLSearchParams(params)}`, {
    headers: { authorization: `Basic ${Buffer.from(`${project.api_key}:${project.secret_key}`).toString('base64')}` },
  });
  const body = (await res.json()) as T;
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

type Segmentation = { data: { seriesCollapsed: { value: number }[][] } };
const collapsed = (r: Segmentation) => r.data.seriesCollapsed[0]![0]!.value;

it('sends events with groups, an identify and a group identify over HTTPS, and they are queryable by account', async () => {
  expect(stack.gatewayHttpsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  const { stdout } = await run(
    'java',
    [`-Djavax.net.ssl.trustStore=${truststore}`, '-Djavax.net.ssl.trustStorePassword=changeit', '-cp', classPath, 'dev.groupscope.sdkcheck.SendEvents', `${stack.gatewayHttpsUrl}/2/httpapi`, project.api_key, runId],
    { timeout: 240_000 },
  ).catch((err: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`the Java SDK client failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  });
  // every call answered 200 by the gateway, as the SDK's callbacks saw it
  expect(stdout).toContain('ok: 6 events answered');
  expect(stdout.split('\n').filter((l) => l.startsWith('200 ')).length).toBe(6);

  // the three events (identify and group identify are not events) are stored, and the group's properties
  await waitFor(
    async () => {
      const [r] = await queryRows<{ n: number }>(stack.ch, sql`SELECT count() AS n FROM ${tableRef(stack.ch, 'event_groups')} WHERE project_id = ${param(project.project_id, 'UInt32')}`);
      return Number(r!.n) >= 3;
    },
    { timeoutMs: 60_000, message: 'the events stored' },
  );

  const invoices = (extra: Record<string, string>, filters: unknown[] = []) =>
    api<Segmentation>('/api/2/events/segmentation', { e: JSON.stringify({ event_type: 'Invoice Sent', filters }), ...range, ...extra });
  // alice's invoice counts for acme through her user-level group, carol's for the company named on the event
  expect(collapsed(await invoices({ countGroup: 'company' }))).toBe(2);
  // the group identify's properties were stamped on alice's invoice (sent after it)
  const enterprise = [{ subprop_type: 'group', group_type: 'company', subprop_key: 'plan', subprop_op: 'is', subprop_value: ['enterprise'] }];
  expect(collapsed(await invoices({ countGroup: 'company' }, enterprise))).toBe(1);
  // and the identify's user property on her event
  expect(collapsed(await invoices({}, [{ subprop_type: 'user', subprop_key: 'role', subprop_op: 'is', subprop_value: ['admin'] }]))).toBe(1);

  // an account-level funnel: alice sent the invoice, bob (another member) received the payment
  const funnel = await api<{ data: { cumulativeRaw: number[] }[] }>('/api/2/funnels', [
    ['e', JSON.stringify({ event_type: 'Invoice Sent' })],
    ['e', JSON.stringify({ event_type: 'Payment Received' })],
    ['start', range.start],
    ['end', range.end],
    ['countGroup', 'company'],
  ]);
  expect(funnel.data[0]!.cumulativeRaw).toEqual([2, 1]);

  // the account page: current properties from the group identify, both members; the group's current properties
  // are stored from their own topic, so they may land after the events waited for above
  await waitFor(
    async () => {
      const account = await api<{ group: { properties: Record<string, unknown>; num_users: number }; users: { user_id: string }[] }>(
        `/api/2/groups/company/${encodeURIComponent(company)}`,
      );
      expect(account.group.properties).toMatchObject({ plan: 'enterprise' });
      expect(String(account.group.properties.seats)).toBe('40');
      expect(account.users.map((u) => u.user_id).sort()).toEqual([`alice-${runId}@acme.test`, `bob-${runId}@acme.test`]);
      return true;
    },
    { timeoutMs: 60_000, message: "the account's current properties and members" },
  );
});
