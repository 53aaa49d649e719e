// The local runner's supervisor: starts each service of a plan as its own process, restarts one that exits (with a
// growing back-off, logged), and on SIGTERM/SIGINT stops them all (SIGTERM, then SIGKILL after a grace period).
//   node --import tsx deploy/local/supervisor.ts PLAN_FILE
// PLAN_FILE (JSON, written by up.ts): { root, runDir, logDir, services: ServiceSpec[] }. Each service inherits the
// supervisor's environment plus its own; its output goes to <logDir>/<name>.log and its pid to <runDir>/<name>.pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, type Logger } from '@groupscope/logger';
import type { ServiceSpec } from './plan';

export interface Backoff {
  /** pause before the first restart */
  initialMs: number;
  /** longest pause */
  maxMs: number;
  /** a process that ran this long counts as healthy again: its next restart starts from initialMs */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 30_000, resetAfterMs: 60_000 };

/** Pause before restart number `attempt` (1-based) in a row: initialMs, doubling, capped at maxMs. */
export function restartDelay(attempt: number, b: Backoff): number {
  return Math.min(b.maxMs, b.initialMs * 2 ** Math.max(0, attempt - 1));
}

export interface Plan {
  root: string;
  runDir: string;
  logDir: string;
  services: ServiceSpec[];
}

interface Running {
  spec: ServiceSpec;
  child?: ChildProcess;
  startedAt: number;
  /** restarts in a row without a healthy run in between */
  attempt: number;
  timer?: NodeJS.Timeout;
}

export class Supervisor {
  private readonly procs: Running[];
  private stopping = false;

  constructor(
    private readonly plan: Plan,
    private readonly log: Logger,
    private readonly backoff: Backoff = DEFAULT_BACKOFF,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.procs = plan.services.map((spec) => ({ spec, startedAt: 0, attempt: 0 }));
  }

  start(): void {
    mkdirSync(this.plan.runDir, { recursive: true });
    mkdirSync(this.plan.logDir, { recursive: true });
    for (const p of this.procs) this.launch(p);
  }

  private pidFile(spec: ServiceSpec): string {
    return join(this.plan.runDir, `${spec.name}.pid`);
  }

  private launch(p: Running): void {
    if (this.stopping) return;
    const { spec } = p;
    const out = openSync(join(this.plan.logDir, `${spec.name}.log`), 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, ['--import', 'tsx', join(this.plan.root, spec.entry)], {
        cwd: this.plan.root,
        env: { ...this.env, ...spec.env },
        stdio: ['ignore', out, out],
      });
    } finally {
      closeSync(out);
    }
    p.child = child;
    p.startedAt = Date.now();
    child.once('error', (err) => this.log.error({ instance: spec.name, err }, 'service_spawn_failed'));
    child.once('exit', (code, signal) => this.exited(p, child, code, signal));
    if (child.pid !== undefined) writeFileSync(this.pidFile(spec), String(child.pid));
    this.log.info({ instance: spec.name, pid: child.pid, port: spec.port, restart: p.attempt }, 'service_started');
  }

  private exited(p: Running, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (p.child !== child) return;
    p.child = undefined;
    const uptimeMs = Date.now() - p.startedAt;
    if (this.stopping) {
      this.log.info({ instance: p.spec.name, pid: child.pid, code, signal }, 'service_stopped');
      return;
    }
    if (uptimeMs >= this.backoff.resetAfterMs) p.attempt = 0;
    p.attempt++;
    const delayMs = restartDelay(p.attempt, this.backoff);
    this.log.warn({ instance: p.spec.name, pid: child.pid, code, signal, uptime_ms: uptimeMs, attempt: p.attempt, delay_ms: delayMs }, 'service_restart_scheduled');
    p.timer = setTimeout(() => {
      p.timer = undefined;
      this.launch(p);
    }, delayMs);
  }

  /** SIGTERM to every service, SIGKILL to any still running after graceMs; resolves when all have exited. */
  async stop(graceMs = 20_000): Promise<void> {
    this.stopping = true;
    const waits = this.procs.map(async (p) => {
      if (p.timer) clearTimeout(p.timer);
      const child = p.child;
      if (child && child.exitCode === null && child.signalCode === null) {
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const killer = setTimeout(() => {
          this.log.warn({ instance: p.spec.name, pid: child.pid, grace_ms: graceMs }, 'service_killed');
          child.kill('SIGKILL');
        }, graceMs);
        await gone;
        clearTimeout(killer);
      }
      rmSync(this.pidFile(p.spec), { force: true });
    });
    await Promise.all(waits);
  }
}

/**
 * Starts a supervisor for `plan` in its own session (it outlives the caller): the plan goes to <runDir>/plan.json,
 * its log to <logDir>/supervisor.log, its pid to <runDir>/supervisor.pid. Secrets travel in `env`, never in the plan.
 */
export function spawnSupervisor(plan: Plan, env: NodeJS.ProcessEnv): ChildProcess {
  mkdirSync(plan.runDir, { recursive: true });
  mkdirSync(plan.logDir, { recursive: true });
  const planFile = join(plan.runDir, 'plan.json');
  writeFileSync(planFile, JSON.stringify(plan, null, 2));
  const out = openSync(join(plan.logDir, 'supervisor.log'), 'a');
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', __filename, planFile], { cwd: plan.root, env, detached: true, stdio: ['ignore', out, out] });
    writeFileSync(join(plan.runDir, 'supervisor.pid'), String(child.pid));
    child.unref();
    return child;
  } finally {
    closeSync(out);
  }
}

async function main(): Promise<void> {
  const planFile = process.argv[2];
  if (!planFile) throw new Error('usage: supervisor.ts PLAN_FILE');
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as Plan;
  const log = createLogger('supervisor');
  const pidFile = join(plan.runDir, 'supervisor.pid');
  mkdirSync(plan.runDir, { recursive: true });
  writeFileSync(pidFile, String(process.pid));
  const supervisor = new Supervisor(plan, log);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'supervisor_stopping');
    supervisor
      .stop()
      .then(() => {
        rmSync(pidFile, { force: true });
        log.info('supervisor_stopped');
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error({ err }, 'supervisor_stop_failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // detached from any terminal: a closed one must not take the services down
  process.on('SIGHUP', () => log.info('sighup_ignored'));
  log.info({ instances: plan.services.map((s) => s.name), pid: process.pid }, 'supervisor_started');
  supervisor.start();
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
