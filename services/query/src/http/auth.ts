// Who a request acts for: HTTP Basic with a project's api_key:secret_key (scripts, notebooks), or the session
// cookie of a signed-in browser. The authenticated project scopes every query of the request.
import type { NextFunction, Request, RequestHandler, Response } from '@groupscope/http';
import type { Project, ProjectRegistry } from '@groupscope/projects';
import { forbidden, unauthorized } from './errors';
import { sameOrigin, sessionCookie, type SessionTokens } from './session';

export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  if (!header) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = text.indexOf(':');
  if (i <= 0) return undefined;
  return { user: text.slice(0, i), password: text.slice(i + 1) };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A browser page's own fetch: browsers send Sec-Fetch-Site on every request (Node's fetch sends only Sec-Fetch-Mode). */
const fromPageScript = (req: Request): boolean => {
  const mode = req.headers['sec-fetch-mode'];
  return typeof req.headers['sec-fetch-site'] === 'string' && typeof mode === 'string' && mode !== 'navigate';
};

/**
 * An Authorization header decides alone (a wrong one is a 401 even with a valid cookie). A request on a session
 * that changes data must come from the page's own origin: SameSite=Strict already keeps the cookie off cross-site
 * requests in current browsers, and the Origin check covers the rest.
 */
export function authenticate(registry: ProjectRegistry, tokens: SessionTokens): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.headers.authorization !== undefined) {
      const creds = parseBasic(req.headers.authorization);
      const project = creds ? registry.authenticate(creds.user, creds.password) : undefined;
      if (!project) {
        res.setHeader('WWW-Authenticate', 'Basic realm="groupscope"');
        return next(unauthorized(creds ? 'invalid api_key or secret_key' : undefined));
      }
      res.locals.project = project;
      return next();
    }
    const token = sessionCookie(req);
    if (token === undefined) {
      // a page's own script (fetch sets Sec-Fetch-Mode) whose session cookie expired gets no challenge, or the
      // browser would answer it with its password dialog instead of the UI's sign-in; other clients get one
      if (!fromPageScript(req)) res.setHeader('WWW-Authenticate', 'Basic realm="groupscope"');
      return next(unauthorized());
    }
    // no WWW-Authenticate here: a browser would answer it with its own password dialog instead of the UI's sign-in
    const session = tokens.verify(token);
    if (!session) return next(unauthorized('the session has expired or was ended; sign in again'));
    if (!SAFE_METHODS.has(req.method) && !sameOrigin(req)) return next(forbidden('cross-origin request refused: the Origin differs from the Host'));
    res.locals.project = session.project;
    next();
  };
}

/** The project the request authenticated as (set by authenticate). */
export function projectOf(res: Response): Project {
  const p = res.locals.project as Project | undefined;
  if (!p) throw unauthorized();
  return p;
}
