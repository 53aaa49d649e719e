// A groupscope service as its own process, the way the supervisor and containers run it
// (`node --import tsx services/<kind>/src/main.ts`), on an ephemeral port: the URL is read from the service's own
// `http_listening` log line, so test files running at the same time never compete for a port.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@groupscope/testing';

const root = join(__dirname, '..', '..');

export type ServiceKind = 'gateway' | 'enricher' | 'writer' | 'query';

const PORT_VARIABLE: Record<ServiceKind, string> = { gateway: 'GATEWAY_PORT', enricher: 'ENRICHER_PORT', writer: 'WRITER_PORT', query: 'QUERY_PORT' };

export interface ServiceProcess {
  name: string;
  url: string;
  /** the HTTPS listener's URL (a gateway given a certificate) */
  httpsUrl?: string;
  pid: number;
  logFile: string;
  /** resolves when the process has exited */
  exited: Promise<void>;
  /** SIGTERM, SIGKILL after graceMs; resolves when it has exited */
  stop(graceMs?: number): Promise<void>;
}

interface LogLine {
  msg?: string;
  url?: string;
}

function listening(logFile: string): { http?: string; https?: string } {
  if (!existsSync(logFile)) return {};
  const out: { http?: string; https?: string } = {};
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.startsWith('{') || !line.includes('_listening')) continue;
    const l = JSON.parse(line) as LogLine;
    if (l.msg === 'http_listening') out.http = l.url;
    if (l.msg === 'https_listening') out.https = l.url;
  }
  return out;
}

/**
 * Starts a service process with `env` on top of this process's environment (its port 0 unless `env` sets it),
 * output in <logDir>/<name>.log, and waits until it listens (and, with `ready`, until /ready answers 200).
 */
export async function startService(
  kind: ServiceKind,
  opts: { name?: string; env: Record<string, string>; logDir: string; ready?: boolean; https?: boolean },
): Promise<ServiceProcess> {
  const name = opts.name ?? kind;
  const logFile = join(opts.logDir, `${name}.log`);
  const out = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, ['--import', 'tsx', join(root, `services/${kind}/src/main.ts`)], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'info', [PORT_VARIABLE[kind]]: '0', ...opts.env },
      stdio: ['ignore', out, out],
    });
  } finally {
    closeSync(out);
  }
  let gone = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => (gone = true));
  const tail = () => readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
  const urls = await waitFor(
    () => {
      if (gone) throw new Error(`${name} exited while starting; its log ends:\n${tail()}`);
      const l = listening(logFile);
      return l.http && (!opts.https || l.https) ? l : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 250, message: `${name} listening` },
  ).catch((err: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${err.message}\n${existsSync(logFile) ? tail() : ''}`, { cause: err });
  });
  const service: ServiceProcess = {
    name,
    url: urls.http!,
    httpsUrl: urls.https,
    pid: child.pid!,
    logFile,
    exited,
    async stop(graceMs = 20_000) {
      if (gone) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(killer);
    },
  };
  if (opts.ready) {
    await waitFor(async () => (await fetch(`${service.url}/ready`, { signal: AbortSignal.timeout(5000) })).ok, {
      timeoutMs: 180_000,
      intervalMs: 500,
      message: `${name} ready`,
    });
  }
  return service;
}

/** The sum of a Prometheus counter or gauge (every label set) in a service's /metrics. */
export async function metricSum(serviceUrl: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${serviceUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const re = new RegExp(`^${name}\\{?([^}\\s]*)\\}? ([0-9.e+-]+)$`, 'gm');
  let sum = 0;
  for (const m of text.matchAll(re)) if (!labels || m[1]!.includes(labels)) sum += Number(m[2]);
  return sum;
}
