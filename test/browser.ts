// Headless Chromium for end-to-end tests: Debian's browser (scripts/ensure-browser.sh installs it) driven by
// playwright-core, which never downloads a browser of its own. Flags keep it off the network (the machines have
// none but the package registries) and a fresh profile per launch keeps runs independent.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.GROUPSCOPE_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** where downloads are saved */
  downloads: string;
  close(): Promise<void>;
}

/** A browser with one page at 1280x800, a fresh profile, downloads accepted. */
export async function launchBrowser(opts: { viewport?: { width: number; height: number } } = {}): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run scripts/ensure-browser.sh (as root, it installs Debian's chromium) or set GROUPSCOPE_CHROMIUM`);
  const profile = mkdtempSync(join(tmpdir(), 'gs-chromium-'));
  const downloads = join(profile, 'downloads');
  mkdirSync(downloads);
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: opts.viewport ?? { width: 1280, height: 800 },
      acceptDownloads: true,
      downloadsPath: downloads,
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    downloads,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export type { Browser, BrowserContext, Page };
