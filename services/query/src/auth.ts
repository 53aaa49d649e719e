// HTTP Basic auth with a project's api_key:secret_key; the authenticated project scopes every query of the request.
import type { NextFunction, Request, Response } from '@groupscope/http';
import type { Project, ProjectRegistry } from '@groupscope/projects';
import { unauthorized } from './errors';

export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  if (!header) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = text.indexOf(':');
  if (i <= 0) return undefined;
  return { user: text.slice(0, i), password: text.slice(i + 1) };
}

export function basicAuth(registry: ProjectRegistry) {
  return (req: Request, res: Response, next: NextFunction) => {
    const creds = parseBasic(req.headers.authorization);
    const project = creds ? registry.authenticate(creds.user, creds.password) : undefined;
    if (!project) {
      res.setHeader('WWW-Authenticate', 'Basic realm="groupscope"');
      next(unauthorized(creds ? 'invalid api_key or secret_key' : undefined));
      return;
    }
    res.locals.project = project;
    next();
  };
}

/** The project the request authenticated as (set by basicAuth). */
export function projectOf(res: Response): Project {
  const p = res.locals.project as Project | undefined;
  if (!p) throw unauthorized();
  return p;
}
