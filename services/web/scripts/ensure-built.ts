// Builds the web UI when dist/ is missing or older than any of its sources (npm start and the end-to-end tests
// call this); otherwise says it is up to date. Exits non-zero when the build fails.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';

const root = join(import.meta.dirname, '..');
const built = join(root, 'dist', 'index.html');

function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return /\.test\.tsx?$/.test(path) ? 0 : st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((f) => newest(join(path, f))));
}

const sources = ['src', 'index.html', 'vite.config.ts', 'package.json'].map((f) => join(root, f)).filter(existsSync);
const sourceTime = Math.max(...sources.map(newest));
if (existsSync(built) && statSync(built).mtimeMs >= sourceTime) {
  console.log('web UI: dist/ is up to date');
} else {
  console.log(existsSync(built) ? 'web UI: sources changed, rebuilding' : 'web UI: building');
  // what the query service serves is the production build, whoever asks (jest runs with NODE_ENV=test, which would
  // bundle React's development build)
  process.env.NODE_ENV = 'production';
  await build({ root, configFile: join(root, 'vite.config.ts'), mode: 'production' });
}
