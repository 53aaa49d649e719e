// App factory shared by every service: /health (liveness), /ready (dependencies reachable), /metrics
// (Prometheus), request logging without payloads, and a listener that closes gracefully.
import express, { type Express, type Request, type Response, type NextFunction, type RequestHandler, type Router } from 'express';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, register, Histogram } from 'prom-client';
import type { Logger } from '@groupscope/logger';

export { express, register };
export type { Express, Request, Response, NextFunction, RequestHandler, Router };

let defaultsCollected = false;

export const httpDuration = new Histogram({
  name: 'groupscope_http_request_duration_seconds',
  help: 'HTTP request duration by service, route and status',
  labelNames: ['service', 'route', 'status'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
});

/** A check's answer with its reason when not ready (e.g. why a consumer is stalled). */
export interface Readiness {
  ok: boolean;
  reason?: string;
}

/** A readiness probe: name -> check. A check resolves true (or {ok: true}) when its dependency answers. */
export type ReadinessChecks = Record<string, () => Promise<boolean | Readiness>>;

export interface AppOptions {
  service: string;
  logger: Logger;
  ready: ReadinessChecks;
}

async function runChecks(checks: ReadinessChecks): Promise<{ checks: Record<string, boolean>; reasons: Record<string, string> }> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      const answer = await Promise.race([
        check().catch((err: unknown): Readiness => ({ ok: false, reason: err instanceof Error ? err.message : String(err) })),
        new Promise<Readiness>((r) => setTimeout(() => r({ ok: false, reason: 'no answer within 3 s' }), 3000).unref()),
      ]);
      return [name, typeof answer === 'boolean' ? { ok: answer } : answer] as const;
    }),
  );
  const reasons: Record<string, string> = {};
  for (const [name, r] of entries) if (!r.ok && r.reason) reasons[name] = r.reason;
  return { checks: Object.fromEntries(entries.map(([name, r]) => [name, r.ok])), reasons };
}

export function createApp(opts: AppOptions): Express {
  if (!defaultsCollected) {
    collectDefaultMetrics({ prefix: 'groupscope_' });
    defaultsCollected = true;
  }
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use((req, res, next) => {
    const end = httpDuration.startTimer({ service: opts.service });
    res.on('finish', () => {
      const route = (req.route?.path as string | undefined) ?? (res.statusCode === 404 ? 'unmatched' : req.path);
      end({ route, status: String(res.statusCode) });
    });
    next();
  });
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', service: opts.service });
  });
  app.get('/ready', async (_req, res) => {
    const { checks, reasons } = await runChecks(opts.ready);
    const ok = Object.values(checks).every(Boolean);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not_ready', service: opts.service, checks, ...(ok ? {} : { reasons }) });
  });
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', register.contentType);
    res.send(await register.metrics());
  });
  return app;
}

export interface Listening {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** A PEM certificate (chain) and its private key: the listener then speaks HTTPS. */
export interface TlsCredentials {
  cert: string | Buffer;
  key: string | Buffer;
}

/**
 * Listens (HTTPS when given TLS credentials), and on close stops accepting, lets requests in flight finish (up to
 * graceMs), then ends idle sockets.
 */
export function listen(app: Express, port: number, host: string, logger: Logger, graceMs = 10000, tls?: TlsCredentials): Promise<Listening> {
  return new Promise((resolve, reject) => {
    // an https.Server is an http.Server as far as closing and connection handling go
    const server: Server = tls ? (createHttpsServer({ cert: tls.cert, key: tls.key }, app) as unknown as Server) : createHttpServer(app);
    server.keepAliveTimeout = 65000;
    server.once('error', reject);
    server.listen(port, host);
    server.once('listening', () => {
      const addr = server.address() as AddressInfo;
      const url = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
      logger.info({ url }, tls ? 'https_listening' : 'http_listening');
      resolve({
        server,
        port: addr.port,
        url,
        close: () =>
          new Promise<void>((done) => {
            const force = setTimeout(() => server.closeAllConnections(), graceMs);
            force.unref();
            server.close(() => {
              clearTimeout(force);
              done();
            });
            server.closeIdleConnections();
          }),
      });
    });
  });
}

/** Runs `stop` once on SIGTERM or SIGINT, then exits; a second signal exits at once. */
export function onShutdown(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'shutdown_started');
    stop()
      .then(() => {
        logger.info('shutdown_complete');
        process.exit(0);
      })
      .catch((err) => {
        logger.error({ err }, 'shutdown_failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => handler('SIGTERM'));
  process.once('SIGINT', () => handler('SIGINT'));
}
