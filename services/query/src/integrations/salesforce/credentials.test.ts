import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkLoginUrl, connectionOf, credentialsOf, CredentialsError, secretsFile } from './credentials';
import { salesforceCredentialsFromEnv } from './config';

const dir = () => mkdtempSync(join(tmpdir(), 'gs-sf-'));
function writeSecrets(dataDir: string, project: number, body: unknown, mode = 0o600): void {
  mkdirSync(join(dataDir, 'secrets'), { recursive: true });
  const file = secretsFile(dataDir, project);
  writeFileSync(file, typeof body === 'string' ? body : JSON.stringify(body));
  chmodSync(file, mode);
}

async function refused(p: Promise<unknown>): Promise<CredentialsError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CredentialsError);
    return err as CredentialsError;
  }
  throw new Error('accepted');
}

describe('Salesforce credentials', () => {
  it('reads SALESFORCE_<PROJECT_ID>_* from the environment', () => {
    expect(
      salesforceCredentialsFromEnv({ SALESFORCE_7_CLIENT_ID: 'id', SALESFORCE_7_CLIENT_SECRET: 's', SALESFORCE_12_LOGIN_URL: 'https://x.my.salesforce.com', SALESFORCE_X_CLIENT_ID: 'no', SALESFORCE_7_PASSWORD: 'no', SALESFORCE_8_CLIENT_ID: '' }),
    ).toEqual({ 7: { client_id: 'id', client_secret: 's' }, 12: { login_url: 'https://x.my.salesforce.com' } });
  });

  it('takes each part from the environment, else from the secrets file', async () => {
    const d = dir();
    writeSecrets(d, 7, { login_url: 'https://acme.my.salesforce.com/', client_id: 'file-id', client_secret: 'file-secret' });
    const src = { env: { 7: { client_secret: 'env-secret' } }, dataDir: d };
    expect(await credentialsOf(src, 7)).toEqual({ login_url: 'https://acme.my.salesforce.com', client_id: 'file-id', client_secret: 'env-secret' });
    const c = await connectionOf(src, 7);
    expect(c).toMatchObject({ configured: true, login_url: 'https://acme.my.salesforce.com/', client_id: 'file-id', from: { login_url: 'file', client_id: 'file', client_secret: 'env' }, missing: [] });
    expect(JSON.stringify(c)).not.toContain('env-secret');
    expect(JSON.stringify(c)).not.toContain('file-secret');
  });

  it('says what is missing', async () => {
    const err = await refused(credentialsOf({ env: { 3: { client_id: 'x' } }, dataDir: dir() }, 3));
    expect(err.code).toBe('salesforce_not_configured');
    expect(err.message).toMatch(/missing login_url, client_secret/);
    expect((await connectionOf({ env: {}, dataDir: dir() }, 3)).missing).toEqual(['login_url', 'client_id', 'client_secret']);
  });

  it('refuses a secrets file others can read, and one that is not JSON', async () => {
    const d = dir();
    writeSecrets(d, 1, { login_url: 'https://a.my.salesforce.com', client_id: 'i', client_secret: 's' }, 0o644);
    expect((await refused(credentialsOf({ env: {}, dataDir: d }, 1))).message).toMatch(/chmod 600/);
    writeSecrets(d, 2, 'not json');
    expect((await refused(credentialsOf({ env: {}, dataDir: d }, 2))).message).toMatch(/not a JSON object/);
  });

  it.each([
    ['https://acme.my.salesforce.com', 'https://acme.my.salesforce.com'],
    ['https://acme.my.salesforce.com/', 'https://acme.my.salesforce.com'],
    ['http://127.0.0.1:27200', 'http://127.0.0.1:27200'],
    ['http://acme.my.salesforce.com', undefined],
    ['https://acme.my.salesforce.com/services/oauth2/token', undefined],
    ['https://user:pw@acme.my.salesforce.com', undefined],
    ['ftp://acme', undefined],
    ['not a url', undefined],
  ])('login URL %s', (raw, expected) => {
    if (expected) expect(checkLoginUrl(raw)).toBe(expected);
    else expect(() => checkLoginUrl(raw)).toThrow(CredentialsError);
  });
});
