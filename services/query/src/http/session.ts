// Sessions for the web UI: after one sign-in with the project's keys, the browser holds a signed cookie instead of
// sending HTTP Basic on every request. A token is stateless: `v1.<project>.<expiry>.<nonce>.<mac>`, the mac an
// HMAC-SHA256 over those fields and a fingerprint of the project's current secret hash, so any query process with
// the same server key accepts it, and rotating the project's keys ends its sessions. Signing out puts the token's
// nonce on an in-memory deny list until it expires: with several query replicas, a signed-out token stays valid on
// the other replicas until its expiry (the cookie itself is cleared in the browser at once).
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Request, Response } from '@groupscope/http';
import type { Project, ProjectRegistry } from '@groupscope/projects';

export const SESSION_COOKIE = 'gs_session';

/** Signed-out tokens kept at most; beyond it the ones expiring soonest are dropped first. */
const MAX_REVOKED = 100_000;

export interface Session {
  project: Project;
  /** ms since epoch */
  expiresAt: number;
}

const fingerprint = (p: Project) => createHash('sha256').update(p.secret_hash).digest('base64url').slice(0, 22);

export class SessionTokens {
  /** nonce -> expiry (ms) of tokens signed out in this process */
  private readonly revoked = new Map<string, number>();

  constructor(
    private readonly key: Buffer,
    private readonly registry: ProjectRegistry,
    readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  private mac(projectId: number, expiry: number, nonce: string, fp: string): string {
    return createHmac('sha256', this.key).update(`v1.${projectId}.${expiry}.${nonce}.${fp}`).digest('base64url');
  }

  issue(project: Project): { token: string; expiresAt: number } {
    const expiry = Math.floor(this.now() / 1000) + this.ttlSeconds;
    const nonce = randomBytes(12).toString('base64url');
    return { token: `v1.${project.id}.${expiry}.${nonce}.${this.mac(project.id, expiry, nonce, fingerprint(project))}`, expiresAt: expiry * 1000 };
  }

  /** The session a token stands for, or undefined when it is malformed, forged, expired, signed out or outdated by a key rotation. */
  verify(token: string | undefined): Session | undefined {
    if (!token || token.length > 200) return undefined;
    const parts = token.split('.');
    if (parts.length !== 5 || parts[0] !== 'v1' || !/^\d{1,10}$/.test(parts[1]!) || !/^\d{1,12}$/.test(parts[2]!)) return undefined;
    const [, id, exp, nonce, mac] = parts as [string, string, string, string, string];
    const expiresAt = Number(exp) * 1000;
    if (expiresAt <= this.now() || this.revoked.has(nonce)) return undefined;
    const project = this.registry.byId(Number(id));
    if (!project) return undefined;
    const want = Buffer.from(this.mac(project.id, Number(exp), nonce, fingerprint(project)));
    const got = Buffer.from(mac);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return undefined;
    return { project, expiresAt };
  }

  /** Ends a session in this process. Only valid tokens are remembered, so junk cannot fill the list. */
  revoke(token: string | undefined): void {
    const session = this.verify(token);
    if (!session) return;
    const now = this.now();
    for (const [nonce, until] of this.revoked) if (until <= now) this.revoked.delete(nonce);
    if (this.revoked.size >= MAX_REVOKED) {
      const soonest = [...this.revoked].sort((a, b) => a[1] - b[1]).slice(0, this.revoked.size - MAX_REVOKED + 1);
      for (const [nonce] of soonest) this.revoked.delete(nonce);
    }
    this.revoked.set(token!.split('.')[3]!, session.expiresAt);
  }
}

/**
 * The server key that signs sessions: QUERY_SESSION_SECRET when set, else a random key created once in
 * `<data dir>/session-secret` (mode 0600) so that every query process on the machine signs alike. The file is
 * written under another name and linked into place, so a concurrent starter never reads half a key.
 */
export function sessionKey(secret: string | undefined, dataDir: string): Buffer {
  if (secret) return Buffer.from(secret, 'utf8');
  const dir = resolve(dataDir);
  const file = join(dir, 'session-secret');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    try {
      linkSync(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      unlinkSync(tmp);
    }
  }
  const hex = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64,}$/i.test(hex)) throw new Error(`${file} does not hold a session key (64 hex digits); delete it to have a new one made`);
  return Buffer.from(hex, 'hex');
}

/** The session token a request carries in its cookie, if any. */
export function sessionCookie(req: Request): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === SESSION_COOKIE) return part.slice(i + 1).trim() || undefined;
  }
  return undefined;
}

function cookie(req: Request, value: string, maxAgeS: number): string {
  return `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeS}${req.secure ? '; Secure' : ''}`;
}

export function setSessionCookie(req: Request, res: Response, token: string, maxAgeS: number): void {
  res.setHeader('Set-Cookie', cookie(req, token, maxAgeS));
}

export function clearSessionCookie(req: Request, res: Response): void {
  res.setHeader('Set-Cookie', cookie(req, '', 0));
}

/** False when the request names an Origin other than the host it was sent to (a cross-site request). */
export function sameOrigin(req: Request): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host.toLowerCase() === (req.headers.host ?? '').toLowerCase();
  } catch {
    return false;
  }
}
