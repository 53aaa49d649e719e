// Services started as users run them: each its own process (node --import tsx services/<name>/src/main.ts) with
// its settings in the environment, so a heavy query in one cannot block another's event loop. Each listens on a
// free port, read back from its `http_listening` log line. TEST_SERVICE_LOGS=<dir> keeps each one's whole log there.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const root = join(__dirname, '..');

export interface ServiceProcess {
  name: string;
  url: string;
  child: ChildProcess;
  /** the last lines it logged (for a failure message) */
  tail(): string;
  stop(): Promise<void>;
}

export async function startServiceProcess(name: 'gateway' | 'enricher' | 'writer' | 'query', env: Record<string, string>, timeoutMs = 120_000): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'services', name, 'src', 'main.ts')], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const logFile = process.env.TEST_SERVICE_LOGS ? join(process.env.TEST_SERVICE_LOGS, `${name}-${child.pid}.log`) : undefined;
  const keep = (line: string) => {
    if (logFile) appendFileSync(logFile, `${line}\n`);
    lines.push(line);
    if (lines.length > 50) lines.shift();
  };
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const force = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill('SIGTERM');
    });
  createInterface({ input: child.stderr! }).on('line', keep);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not listen within ${timeoutMs} ms:\n${lines.join('\n')}`)), timeoutMs);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      keep(line);
      const m = /"msg":"http_listening"/.test(line) ? /"url":"([^"]+)"/.exec(line) : null;
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before listening:\n${lines.join('\n')}`));
    });
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  return { name, url, child, tail: () => lines.join('\n'), stop };
}
