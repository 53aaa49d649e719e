// Browser sessions and the web UI's files, for the single-page app served from this origin:
//   POST /api/session {api_key, secret_key} -> an HttpOnly, SameSite=Strict `gs_session` cookie (the secret stays
//   on the server); GET /api/session -> the project; DELETE /api/session -> signed out. Every /api route accepts the
//   cookie as well as Basic auth; POST/DELETE from a foreign Origin are refused (403).
//   Everything outside /api and the health endpoints is the built UI (services/web/dist), with index.html for the
//   app's own paths. Sessions live in memory: a restart signs browsers out.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { express, type NextFunction, type Request, type Response } from '@groupscope/http';
import type { Project, ProjectRegistry } from '@groupscope/projects';
import { basicAuth } from './auth';
import { ApiError, badRequest, unauthorized } from './errors';

const COOKIE = 'gs_session';
const TTL_MS = 12 * 3_600_000;
const MAX_SESSIONS = 100_000;

interface Session {
  projectId: number;
  /** the secret's hash when the session began: rotating the keys ends the session */
  secretHash: string;
  expiresAt: number;
}

export class Sessions {
  private readonly map = new Map<string, Session>();

  constructor(private readonly now: () => number = Date.now) {}

  create(project: Project): { token: string; expiresAt: number } {
    if (this.map.size >= MAX_SESSIONS) this.sweep();
    const token = randomBytes(32).toString('base64url');
    const expiresAt = this.now() + TTL_MS;
    this.map.set(token, { projectId: project.id, secretHash: project.secret_hash, expiresAt });
    return { token, expiresAt };
  }

  resolve(registry: ProjectRegistry, token: string | undefined): { project: Project; expiresAt: number } | undefined {
    if (!token) return undefined;
    const s = this.map.get(token);
    if (!s) return undefined;
    const project = registry.byId(s.projectId);
    if (s.expiresAt <= this.now() || !project || project.secret_hash !== s.secretHash) {
      this.map.delete(token);
      return undefined;
    }
    return { project, expiresAt: s.expiresAt };
  }

  delete(token: string | undefined): void {
    if (token) this.map.delete(token);
  }

  private sweep(): void {
    const t = this.now();
    for (const [k, s] of this.map) if (s.expiresAt <= t) this.map.delete(k);
    // still full: drop the oldest (insertion order)
    for (const k of this.map.keys()) {
      if (this.map.size < MAX_SESSIONS) break;
      this.map.delete(k);
    }
  }
}

function cookieToken(req: Request): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === COOKIE) return part.slice(i + 1).trim();
  }
  return undefined;
}

function setCookie(res: Response, value: string, maxAgeS: number, secure: boolean): void {
  res.setHeader('Set-Cookie', `${COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure ? '; Secure' : ''}`);
}

/** State-changing requests from another site's page are refused; requests without Origin (curl, scripts) pass. */
function sameOrigin(req: Request, _res: Response, next: NextFunction): void {
  const origin = req.headers.origin;
  if ((req.method === 'POST' || req.method === 'DELETE' || req.method === 'PUT' || req.method === 'PATCH') && origin !== undefined) {
    if (origin !== `${req.protocol}://${req.headers.host ?? ''}`) {
      next(new ApiError(403, 'forbidden', 'cross-origin request refused'));
      return;
    }
  }
  next();
}

const sessionBody = (project: Project, expiresAt: number) => ({
  project: { id: project.id, name: project.name },
  expires_at: new Date(expiresAt).toISOString(),
});

/** /api/session routes, the Origin check, and auth by Basic credentials or by the session cookie. */
export function sessionAuth(registry: ProjectRegistry, sessions = new Sessions()): express.Router {
  const router = express.Router();
  const basic = basicAuth(registry);
  router.use(sameOrigin);
  router.post('/session', express.json({ limit: '16kb' }), (req, res, next) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (typeof body.api_key !== 'string' || typeof body.secret_key !== 'string' || !body.api_key || !body.secret_key) {
      next(badRequest('body', 'api_key and secret_key are required', 'missing_parameter'));
      return;
    }
    const project = registry.authenticate(body.api_key, body.secret_key);
    if (!project) {
      next(unauthorized('invalid api_key or secret_key'));
      return;
    }
    const s = sessions.create(project);
    setCookie(res, s.token, Math.floor(TTL_MS / 1000), req.secure);
    res.json(sessionBody(project, s.expiresAt));
  });
  router.get('/session', (req, res, next) => {
    const s = sessions.resolve(registry, cookieToken(req));
    if (!s) {
      next(unauthorized('not signed in'));
      return;
    }
    res.json(sessionBody(s.project, s.expiresAt));
  });
  router.delete('/session', (req, res) => {
    sessions.delete(cookieToken(req));
    setCookie(res, '', 0, req.secure);
    res.status(204).end();
  });
  router.use((req, res, next) => {
    if (req.headers.authorization === undefined) {
      const s = sessions.resolve(registry, cookieToken(req));
      if (s) {
        res.locals.project = s.project;
        next();
        return;
      }
      if (cookieToken(req) !== undefined) {
        // no Basic challenge for a browser whose session ended: the app signs in again itself
        next(unauthorized('your session has expired; sign in again'));
        return;
      }
    }
    basic(req, res, next);
  });
  return router;
}

/** The built web UI (when present): its files, and index.html for any other GET outside /api. */
export function webStatic(dir = resolve(__dirname, '..', '..', 'web', 'dist')): express.RequestHandler {
  const index = join(dir, 'index.html');
  const files = express.static(dir, { index: false, maxAge: 0 });
  return (req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || req.path.startsWith('/api/') || !existsSync(index)) {
      next();
      return;
    }
    files(req, res, () => {
      if (req.path.startsWith('/assets/')) {
        next();
        return;
      }
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(index);
    });
  };
}
