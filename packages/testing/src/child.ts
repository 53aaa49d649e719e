// A service run as a child process, for tests that kill it with SIGKILL (a crash no in-process stop can imitate).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');

export interface ChildService {
  process: ChildProcess;
  /** everything it wrote to stdout and stderr so far */
  logs(): string;
  /** SIGKILL, resolved once it exited */
  kill9(): Promise<void>;
  /** SIGTERM (its graceful shutdown), resolved once it exited */
  stop(): Promise<void>;
}

/** Starts `services/<service>/src/main.ts` with tsx and the given environment (on top of this process's). */
export function startChildService(service: string, env: Record<string, string>): ChildService {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, `services/${service}/src/main.ts`)], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  child.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = async (s: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(s);
    await exited;
  };
  return { process: child, logs: () => logs, kill9: () => signal('SIGKILL'), stop: () => signal('SIGTERM') };
}
