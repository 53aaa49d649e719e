// Where a project's Salesforce credentials come from: its connected app's client id and secret and the org's login
// URL (its My Domain), each from the environment (SALESFORCE_<PROJECT_ID>_CLIENT_SECRET, ...) or else from the
// secrets file $GROUPSCOPE_DATA_DIR/secrets/salesforce-<project id>.json ({"login_url", "client_id",
// "client_secret"}), which must be readable by its owner only. The file is read at each token request, so a rotated
// secret needs no restart. The API never takes or returns a secret.
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { SalesforceCredentials } from './client';
import type { ProjectCredentialsEnv } from './config';

export class CredentialsError extends Error {
  constructor(
    readonly code: 'salesforce_not_configured' | 'salesforce_bad_credentials',
    message: string,
  ) {
    super(message);
  }
}

export interface CredentialSources {
  env: ProjectCredentialsEnv;
  dataDir: string;
}

export const secretsFile = (dataDir: string, projectId: number) => join(resolve(dataDir), 'secrets', `salesforce-${projectId}.json`);

const PARTS = ['login_url', 'client_id', 'client_secret'] as const;
type Part = (typeof PARTS)[number];

export interface Connection {
  configured: boolean;
  login_url: string | null;
  client_id: string | null;
  /** where each part came from */
  from: Partial<Record<Part, 'env' | 'file'>>;
  missing: Part[];
  secrets_file: string;
}

async function readSecretsFile(file: string): Promise<Partial<SalesforceCredentials>> {
  let mode: number;
  try {
    mode = (await stat(file)).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CredentialsError('salesforce_bad_credentials', `cannot read the Salesforce secrets file ${file}`);
  }
  if ((mode & 0o077) !== 0) throw new CredentialsError('salesforce_bad_credentials', `the Salesforce secrets file ${file} must be readable by its owner only (chmod 600)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    throw new CredentialsError('salesforce_bad_credentials', `the Salesforce secrets file ${file} is not a JSON object`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CredentialsError('salesforce_bad_credentials', `the Salesforce secrets file ${file} is not a JSON object`);
  const out: Partial<SalesforceCredentials> = {};
  for (const k of PARTS) {
    const v = (parsed as Record<string, unknown>)[k];
    if (typeof v === 'string' && v !== '') out[k] = v;
  }
  return out;
}

/** A login URL is an https base URL (http only on this machine's loopback, for a local test server). */
export function checkLoginUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new CredentialsError('salesforce_bad_credentials', 'the Salesforce login URL is not a URL');
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) throw new CredentialsError('salesforce_bad_credentials', 'the Salesforce login URL must use https');
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash || u.username || u.password) {
    throw new CredentialsError('salesforce_bad_credentials', 'the Salesforce login URL must be a base URL such as https://example.my.salesforce.com');
  }
  return u.origin;
}

/** Each part from the environment, else from the secrets file (read only when the environment lacks a part). */
async function gather(src: CredentialSources, projectId: number): Promise<{ values: Partial<SalesforceCredentials>; from: Connection['from']; file: string }> {
  const file = secretsFile(src.dataDir, projectId);
  const fromEnv = src.env[projectId] ?? {};
  const fromFile = PARTS.every((k) => fromEnv[k] !== undefined) ? {} : await readSecretsFile(file);
  const values: Partial<SalesforceCredentials> = {};
  const from: Connection['from'] = {};
  for (const k of PARTS) {
    const v = fromEnv[k] ?? fromFile[k];
    if (v === undefined) continue;
    values[k] = v;
    from[k] = fromEnv[k] !== undefined ? 'env' : 'file';
  }
  return { values, from, file };
}

/** What is configured for a project, without the secret. */
export async function connectionOf(src: CredentialSources, projectId: number): Promise<Connection> {
  const { values, from, file } = await gather(src, projectId);
  const missing = PARTS.filter((k) => values[k] === undefined);
  return { configured: missing.length === 0, login_url: values.login_url ?? null, client_id: values.client_id ?? null, from, missing, secrets_file: file };
}

/** The credentials of a project, or a CredentialsError saying what is missing or wrong. */
export async function credentialsOf(src: CredentialSources, projectId: number): Promise<SalesforceCredentials> {
  const { values, file } = await gather(src, projectId);
  const missing = PARTS.filter((k) => values[k] === undefined);
  if (missing.length > 0) {
    throw new CredentialsError(
      'salesforce_not_configured',
      `Salesforce is not configured for project ${projectId}: missing ${missing.join(', ')} (set SALESFORCE_${projectId}_${missing[0]!.toUpperCase()} or ${file})`,
    );
  }
  return { login_url: checkLoginUrl(values.login_url!), client_id: values.client_id!, client_secret: values.client_secret! };
}
