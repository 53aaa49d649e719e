// Builds the web UI into dist/ (served by the query service at /). The budget plugin prints the gzipped size of
// the JavaScript the first screen loads (the entry and its static imports) and fails the build above the budget;
// chunks loaded later (the chart library) are listed apart.
import { gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const INITIAL_JS_BUDGET_KB = 300;

interface ChunkInfo {
  type: 'chunk' | 'asset';
  fileName: string;
  isEntry?: boolean;
  imports?: string[];
  code?: string;
}

function initialJsBudget(): Plugin {
  return {
    name: 'groupscope-initial-js-budget',
    apply: 'build',
    generateBundle(_options, bundle) {
      const files = bundle as unknown as Record<string, ChunkInfo>;
      const gz = (f: string) => gzipSync(files[f]?.code ?? '').length / 1000;
      const initial = new Set<string>();
      const visit = (f: string) => {
        if (initial.has(f) || files[f]?.type !== 'chunk') return;
        initial.add(f);
        for (const i of files[f]!.imports ?? []) visit(i);
      };
      for (const c of Object.values(files)) if (c.type === 'chunk' && c.isEntry) visit(c.fileName);
      const total = [...initial].reduce((s, f) => s + gz(f), 0);
      const lazy = Object.values(files).filter((c) => c.type === 'chunk' && !initial.has(c.fileName));
      const lines = [
        `initial JS: ${total.toFixed(1)} kB gzipped (budget ${INITIAL_JS_BUDGET_KB} kB) in ${[...initial].join(', ')}`,
        ...lazy.map((c) => `loaded on demand: ${c.fileName} ${gz(c.fileName).toFixed(1)} kB gzipped`),
      ];
      console.log(`\n${lines.join('\n')}`);
      if (total > INITIAL_JS_BUDGET_KB) this.error(`initial JS is ${total.toFixed(1)} kB gzipped, over the ${INITIAL_JS_BUDGET_KB} kB budget`);
    },
  };
}

export default defineConfig({
  plugins: [react(), initialJsBudget()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1500 },
  server: {
    // `npm -w @groupscope/web run dev`: the UI with hot reload, the API from a running query service
    port: Number(process.env.WEB_DEV_PORT ?? 5173),
    strictPort: true,
    host: '127.0.0.1',
    proxy: { '/api': process.env.GROUPSCOPE_QUERY_URL ?? 'http://127.0.0.1:8081' },
  },
});
