// npx tsx bench/cpu-top.ts FILE.cpuprofile [N] [FILTER]: the N (30) functions with the most self time in a V8 CPU
// profile (node --cpu-prof, or BENCH_CPU_PROF=dir npm run bench), with their share of the samples, and the share
// of the samples each package (node_modules/<name>, services/<name>, packages/<name>, node internals) takes.
// FILTER keeps the functions whose location contains it.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function where(url: string): string {
  const m = /(node_modules\/(?:@[^/]+\/)?[^/]+|services\/[^/]+|packages\/[^/]+|tools\/[^/]+|bench)\//.exec(url);
  if (m) return m[1]!;
  if (url.startsWith('node:')) return 'node internals';
  return url === '' ? '(native / gc / idle)' : url;
}

function main(): void {
  const [file, nArg, filter] = process.argv.slice(2);
  if (!file) throw new Error('usage: cpu-top.ts FILE.cpuprofile [N] [FILTER]');
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  });
  const fns = new Map<string, number>();
  const pkgs = new Map<string, number>();
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    const key = `${f.functionName || '(anonymous)'}  ${f.url.replace(/^.*?\/(node_modules|services|packages|tools|bench)\//, '$1/')}:${f.lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const w = ['(idle)', '(program)', '(garbage collector)'].includes(f.functionName) ? f.functionName : where(f.url);
    pkgs.set(w, (pkgs.get(w) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled\n\nby package:`);
  for (const [k, us] of [...pkgs].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${pct(us)}  ${k}`);
  console.log('\nby function (self time):');
  const rows = [...fns].filter(([k]) => !filter || k.includes(filter)).sort((a, b) => b[1] - a[1]);
  for (const [k, us] of rows.slice(0, Number(nArg ?? 30))) console.log(`  ${pct(us)}  ${k}`);
}

main();
