import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProjectRegistry } from '@groupscope/projects';
import { SessionTokens, sessionKey } from './session';
import { FailureLimiter } from './sign-in';

const dir = () => mkdtempSync(join(tmpdir(), 'gs-session-'));

describe('session key', () => {
  it('is made once in the data folder, readable by its owner only, and the same for every process that reads it', () => {
    const d = dir();
    const first = sessionKey(undefined, d);
    expect(first).toHaveLength(32);
    expect(statSync(join(d, 'session-secret')).mode & 0o777).toBe(0o600);
    expect(sessionKey(undefined, d).equals(first)).toBe(true);
    expect(sessionKey(undefined, dir()).equals(first)).toBe(false);
  });

  it('comes from QUERY_SESSION_SECRET when set, and refuses a damaged key file', () => {
    expect(sessionKey('s'.repeat(40), dir()).toString()).toBe('s'.repeat(40));
    const d = dir();
    writeFileSync(join(d, 'session-secret'), 'not a key\n');
    expect(() => sessionKey(undefined, d)).toThrow(/does not hold a session key/);
  });
});

describe('session tokens', () => {
  const registry = new ProjectRegistry(join(dir(), 'projects.json'));
  const keys = registry.create('acme');
  const project = registry.byId(keys.project_id)!;
  let now = Date.UTC(2026, 0, 1);
  const clock = () => now;
  const key = Buffer.alloc(32, 7);

  it('verify in any process with the same key until they expire', () => {
    const { token, expiresAt } = new SessionTokens(key, registry, 60, clock).issue(project);
    expect(expiresAt).toBe(now + 60_000);
    const elsewhere = new SessionTokens(key, registry, 60, clock);
    expect(elsewhere.verify(token)).toEqual({ project, expiresAt });
    expect(new SessionTokens(Buffer.alloc(32, 8), registry, 60, clock).verify(token)).toBeUndefined();
    now += 60_000;
    expect(elsewhere.verify(token)).toBeUndefined();
  });

  it('refuse malformed and altered tokens', () => {
    const tokens = new SessionTokens(key, registry, 60, clock);
    const { token } = tokens.issue(project);
    const parts = token.split('.');
    for (const bad of [undefined, '', 'v1', 'v2.' + parts.slice(1).join('.'), token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), `${token}.x`, 'v1.1.9999999999.n.' + 'a'.repeat(43), 'x'.repeat(500)]) {
      expect(tokens.verify(bad)).toBeUndefined();
    }
  });

  it('stop working when signed out, in the process that signed out', () => {
    const tokens = new SessionTokens(key, registry, 60, clock);
    const a = tokens.issue(project).token;
    const b = tokens.issue(project).token;
    tokens.revoke(a);
    tokens.revoke('junk');
    expect(tokens.verify(a)).toBeUndefined();
    expect(tokens.verify(b)).toBeDefined();
  });
});

describe('failed sign-in limiter', () => {
  it('allows 10 failures a minute per client, then tells how long to wait', () => {
    let now = 0;
    const limiter = new FailureLimiter(10, 60_000, () => now);
    for (let i = 0; i < 10; i++) {
      expect(limiter.retryAfterSeconds('a')).toBe(0);
      limiter.fail('a');
      now += 1000;
    }
    expect(limiter.retryAfterSeconds('a')).toBe(50);
    expect(limiter.retryAfterSeconds('b')).toBe(0);
    now = 60_001;
    expect(limiter.retryAfterSeconds('a')).toBe(0);
  });
});
