// Serves the built web UI (services/web/dist). Files under assets/ carry a content hash in their name and are cached
// for a year; everything else, index.html first, is revalidated on each load so a new release shows at once. A
// page address of the single-page app (a GET that accepts HTML, outside the API and the operations endpoints) gets
// index.html, and the app's router takes it from there.
import { existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { express, type RequestHandler } from '@groupscope/http';

const NOT_UI = ['/api', '/health', '/ready', '/metrics'];
const LONG = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

/** The handler, or undefined when `dir` holds no built UI (index.html). */
export function webUi(dir: string): RequestHandler | undefined {
  const index = join(dir, 'index.html');
  if (!existsSync(index)) return undefined;
  const files = express.static(dir, {
    index: false,
    cacheControl: false,
    setHeaders(res, path) {
      res.setHeader('Cache-Control', relative(dir, path).startsWith(`assets${sep}`) ? LONG : REVALIDATE);
    },
  });
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (NOT_UI.some((p) => req.path === p || req.path.startsWith(`${p}/`))) return next();
    files(req, res, (err?: unknown) => {
      if (err) return next(err);
      // a missing script or image (Accept: */*) stays a 404 rather than receiving the page
      if (req.path !== '/' && !(req.headers.accept ?? '').includes('text/html')) return next();
      res.setHeader('Cache-Control', REVALIDATE);
      res.sendFile(index, { cacheControl: false }, (sendErr) => {
        if (sendErr) next(sendErr);
      });
    });
  };
}
