// /api/session: sign in with the project's keys (POST), ask who is signed in (GET), sign out (DELETE). Failed
// sign-ins are limited per client address, so the keys cannot be guessed at speed.
import { express, type Request, type Router } from '@groupscope/http';
import type { Logger } from '@groupscope/logger';
import type { ProjectRegistry } from '@groupscope/projects';
import { Counter } from 'prom-client';
import { ApiError, badParam, forbidden, unauthorized } from './errors';
import { handle } from './handler';
import { jsonBody } from './params';
import { clearSessionCookie, sameOrigin, sessionCookie, setSessionCookie, type Session, type SessionTokens } from './session';

const signIns = new Counter({
  name: 'groupscope_query_sign_ins_total',
  help: 'Web UI sign-ins by outcome (ok, refused, limited)',
  labelNames: ['outcome'] as const,
});

/** At most `max` failures per client in any `windowMs`; further attempts wait. */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly max = 10,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  private recent(client: string): number[] {
    const since = this.now() - this.windowMs;
    const list = (this.failures.get(client) ?? []).filter((t) => t > since);
    if (list.length === 0) this.failures.delete(client);
    else this.failures.set(client, list);
    return list;
  }

  /** Seconds until `client` may try again; 0 when it may now. */
  retryAfterSeconds(client: string): number {
    const list = this.recent(client);
    if (list.length < this.max) return 0;
    return Math.max(1, Math.ceil((list[list.length - this.max]! + this.windowMs - this.now()) / 1000));
  }

  fail(client: string): void {
    const list = this.recent(client);
    // a flood of distinct addresses must not grow the map without bound: forget the oldest clients first
    if (list.length === 0 && this.failures.size >= 100_000) this.failures.delete(this.failures.keys().next().value!);
    list.push(this.now());
    this.failures.set(client, list);
  }
}

const sessionJson = (s: Session) => ({ project: { id: s.project.id, name: s.project.name }, expires_at: new Date(s.expiresAt).toISOString() });

const keyParam = (body: Record<string, unknown>, name: string): string => {
  const v = body[name];
  if (typeof v !== 'string' || v === '') throw badParam(name, `${name} is required`, 'missing_parameter');
  return v;
};

export interface SignInDeps {
  registry: ProjectRegistry;
  tokens: SessionTokens;
  limiter: FailureLimiter;
  logger: Logger;
}

export function sessionRouter(deps: SignInDeps): Router {
  const { registry, tokens, limiter } = deps;
  const log = deps.logger.child({ module: 'session' });
  const router = express.Router();
  const client = (req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown';
  const refuseCrossSite = (req: Request) => {
    if (!sameOrigin(req)) throw forbidden('cross-origin request refused: the Origin differs from the Host');
  };

  router.post(
    '/session',
    jsonBody,
    handle(log, 'session_sign_in', async (req, res) => {
      refuseCrossSite(req);
      const retryAfter = limiter.retryAfterSeconds(client(req));
      if (retryAfter > 0) {
        signIns.inc({ outcome: 'limited' });
        res.setHeader('Retry-After', String(retryAfter));
        throw new ApiError(429, 'too_many_requests', `too many failed sign-ins; try again in ${retryAfter} s`);
      }
      const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
      const project = registry.authenticate(keyParam(body, 'api_key'), keyParam(body, 'secret_key'));
      if (!project) {
        limiter.fail(client(req));
        signIns.inc({ outcome: 'refused' });
        log.info({ client: client(req) }, 'sign_in_refused');
        throw unauthorized('Invalid API key or secret key');
      }
      const { token, expiresAt } = tokens.issue(project);
      setSessionCookie(req, res, token, tokens.ttlSeconds);
      signIns.inc({ outcome: 'ok' });
      log.info({ project_id: project.id }, 'signed_in');
      return sessionJson({ project, expiresAt });
    }),
  );

  router.get(
    '/session',
    handle(log, 'session', async (req) => {
      const session = tokens.verify(sessionCookie(req));
      if (!session) throw unauthorized('not signed in');
      return sessionJson(session);
    }),
  );

  router.delete(
    '/session',
    handle(log, 'session_sign_out', async (req, res) => {
      refuseCrossSite(req);
      tokens.revoke(sessionCookie(req));
      clearSessionCookie(req, res);
      res.status(204).end();
    }),
  );

  return router;
}
