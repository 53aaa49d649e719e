// CPU use of named processes over an interval, from Linux's /proc (user + system time), and of the whole machine:
// which process of a pipeline runs at 100 % of a core while the others wait. Elsewhere than Linux it measures nothing.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** user + system clock ticks a process used so far, or undefined when it is gone (or this is not Linux) */
function processTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (2nd field) may hold spaces: count fields after its closing parenthesis
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** busy and total ticks of all CPUs of the machine so far */
function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

export interface CpuUse {
  /** % of one core per process name over the interval */
  processes: Record<string, number>;
  /** % of all cores of the machine that were busy (anything running, ours or not) */
  machine: number;
  /** the 1-minute load average at the end */
  load1: number;
}

/** Starts measuring the given processes; the returned function ends the interval and reports it. */
export function cpuMeter(pids: Record<string, number | undefined>): () => CpuUse {
  const t0 = performance.now();
  const start = new Map(Object.entries(pids).map(([name, pid]) => [name, pid === undefined ? undefined : processTicks(pid)]));
  const m0 = machineTicks();
  return () => {
    const seconds = (performance.now() - t0) / 1000;
    const processes: Record<string, number> = {};
    for (const [name, pid] of Object.entries(pids)) {
      const a = start.get(name);
      const b = pid === undefined ? undefined : processTicks(pid);
      if (a !== undefined && b !== undefined && seconds > 0) processes[name] = Math.round((100 * (b - a)) / clockTicks() / seconds);
    }
    const m1 = machineTicks();
    const machine = m0 && m1 && m1.total > m0.total ? Math.round((100 * (m1.busy - m0.busy)) / (m1.total - m0.total)) : NaN;
    return { processes, machine, load1: Math.round(readLoad() * 10) / 10 };
  };
}

function readLoad(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

/** "enricher 98%, gateway 61%, ... (machine 97% of 2 cores busy, load 3.1)" */
export function describeCpu(u: CpuUse): string {
  const procs = Object.entries(u.processes)
    .sort((a, b) => b[1] - a[1])
    .map(([name, pct]) => `${name} ${pct}%`)
    .join(', ');
  return `${procs} (machine ${u.machine}% of ${cpus().length} cores busy, load ${u.load1})`;
}
