// What the web UI's end-to-end tests share: the query API called as a script would (Basic auth), screenshots of
// screens under <GROUPSCOPE_DATA_DIR>/screenshots/ (.data by default), segmented controls, signing in.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { NewKeys } from '@groupscope/projects';
import type { Page } from './browser';

export const SHOTS_DIR = join(resolve(resolve(__dirname, '..'), process.env.GROUPSCOPE_DATA_DIR ?? '.data'), 'screenshots');

/** The query API with a project's keys (Basic auth): JSON of a 2xx reply, else an error with the reply's start. */
export function queryApi(queryUrl: () => string, project: NewKeys) {
  return async function api<T>(path: string, params: [string, string][] = []): Promise<T> {
    const res = await fetch(`${queryUrl()}${path}${params.length ? `?${new URLSearchParams(params)}` : ''}`, {
      headers: { authorization: `Basic ${Buffer.from(`${project.api_key}:${project.secret_key}`).toString('base64')}` },
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  };
}

/** A screenshot of the page as it is, once charts have drawn (they render on the next animation frame). */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS_DIR, { recursive: true });
  await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
  await page.screenshot({ path: join(SHOTS_DIR, `${name}.png`) });
}

/** Picks an option of a segmented control (radio inputs drawn as buttons: the label takes the click). */
export async function choose(page: Page, option: string): Promise<void> {
  await page.locator('label').filter({ hasText: new RegExp(`^${option}$`) }).click();
  if (!(await page.getByRole('radio', { name: option, exact: true }).isChecked())) throw new Error(`${option} not chosen`);
}

/** Signs in on the page with a project's keys and waits for the first screen. */
export async function signIn(page: Page, queryUrl: string, project: NewKeys): Promise<void> {
  await page.goto(`${queryUrl}/`);
  await page.getByLabel('API key').fill(project.api_key);
  await page.getByLabel('Secret key').fill(project.secret_key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Event segmentation' }).waitFor();
}
