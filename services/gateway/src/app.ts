// The HTTP layer: routes of the four ingestion endpoints, CORS, replies in Amplitude's shapes. Bodies are read
// here (limits, gzip, forms); the rules live in protocol.ts; delivery to Kafka in batcher.ts.
import { randomUUID } from 'node:crypto';
import type { Express, Request, Response, NextFunction } from '@groupscope/http';
import type { Logger } from '@groupscope/logger';
import { formFields, queryFields, readBody, type BodyResult } from './body';
import {
  parseJson,
  processEvents,
  processGroupIdentify,
  processIdentify,
  replies,
  type Accepted,
  type FormFields,
  type Limits,
  type Rejected,
  type RejectReason,
  type Reply,
  type RequestContext,
} from './protocol';
import type { Batcher } from './batcher';
import type { Positions } from './positions';
import type { ProjectLookup } from './projects';
import type { Throttle } from './throttle';
import * as metrics from './metrics';
import { mountSegmentRoutes } from './segment/routes';

export interface RouteDeps {
  logger: Logger;
  projects: ProjectLookup;
  throttle: Throttle;
  batcher: Batcher;
  /** receive positions of this gateway (taken in the same synchronous step as the records are queued) */
  positions: Positions;
  limits: Limits;
  /** decompressed body limits per endpoint, and how much of an oversized body is read and thrown away */
  bodyLimits: { httpapi: number; batch: number; identify: number; discard?: number };
  /** the gateway's address as browsers reach it, for the Segment settings document (else each request's Host) */
  publicUrl?: string;
}

type Endpoint = 'httpapi' | 'batch' | 'identify' | 'groupidentify';

/** Logs at most once per interval per message: an outage must not flood the log with one line per request. */
function throttledLog(logger: Logger, intervalMs = 5000) {
  const last = new Map<string, number>();
  return (level: 'warn' | 'error', fields: Record<string, unknown>, msg: string) => {
    const now = Date.now();
    if (now - (last.get(msg) ?? 0) < intervalMs) return;
    last.set(msg, now);
    logger[level](fields, msg);
  };
}

const ipOf = (req: Request) => {
  const ip = req.ip ?? req.socket.remoteAddress;
  return ip?.startsWith('::ffff:') ? ip.slice(7) : ip;
};

export function mountRoutes(app: Express, deps: RouteDeps): void {
  const log = deps.logger.child({ module: 'ingest' });
  const warn = throttledLog(log);

  const send = (res: Response, endpoint: Endpoint, reply: Reply, reason?: RejectReason) => {
    metrics.requests.inc({ endpoint, code: String(reply.status) });
    if (reason) metrics.rejects.inc({ endpoint, reason });
    if (!res.headersSent) res.status(reply.status).json(reply.body);
  };

  /** Replies for a body that could not be read; true when it replied. */
  const bodyFailed = (res: Response, endpoint: Endpoint, body: BodyResult): body is Exclude<BodyResult, { ok: true }> => {
    if (body.ok) return false;
    if (body.error === 'aborted') {
      metrics.rejects.inc({ endpoint, reason: 'client_aborted' });
      return true;
    }
    if (body.error === 'too_large') {
      // a body cut off before its end leaves the connection unusable: close it after the reply
      if (!body.drained) res.setHeader('Connection', 'close');
      send(res, endpoint, replies.tooLarge(), 'payload_too_large');
    } else if (body.error === 'unsupported_encoding') {
      res.setHeader('Connection', 'close');
      send(res, endpoint, replies.unsupportedEncoding(), 'unsupported_encoding');
    } else {
      send(res, endpoint, replies.badEncoding(), 'bad_body_encoding');
    }
    return true;
  };

  const context = (req: Request, receiveTime: number): RequestContext => ({
    lookup: (key) => deps.projects.get(key),
    throttle: deps.throttle,
    limits: deps.limits,
    receiveTime,
    position: deps.positions,
    uuid: randomUUID,
    remoteIp: ipOf(req),
  });

  /** Sends an accepted request's records and replies 200 once Kafka acknowledged them all, else 503. */
  const deliver = async (res: Response, endpoint: Endpoint, result: Accepted | Rejected, payloadBytes: number, receiveTime: number) => {
    if (!result.ok) {
      if (result.reason === 'invalid_api_key' || result.reason === 'throttled') log.debug({ endpoint, reason: result.reason }, 'request_rejected');
      send(res, endpoint, result.reply, result.reason);
      return;
    }
    const t0 = Date.now();
    try {
      await deps.batcher.submit(result.messages);
    } catch (err) {
      const e = err as Error & { reason?: string };
      metrics.sendTimeouts.inc({ reason: e.reason ?? 'send_error' });
      warn('warn', { endpoint, project_id: result.project.id, records: result.messages.length, wait_ms: Date.now() - t0, err: { name: e.name, message: e.message } }, 'kafka_unavailable');
      send(res, endpoint, replies.unavailable('Kafka did not acknowledge the records; retry later'), 'kafka_unavailable');
      return;
    }
    for (const [kind, n] of Object.entries(result.kinds)) if (n > 0) metrics.accepted.inc({ endpoint, kind }, n);
    const truncated = result.notes.events_with_truncated_groups as Record<string, number[]> | undefined;
    if (truncated) metrics.truncatedGroups.inc({ endpoint }, Object.values(truncated).reduce((a, l) => a + l.length, 0));
    send(res, endpoint, {
      status: 200,
      body: { code: 200, events_ingested: result.count, payload_size_bytes: payloadBytes, server_upload_time: receiveTime, ...result.notes },
    });
  };

  // CORS: browser SDKs post from any origin; preflights are answered here
  app.use((req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (req.method !== 'OPTIONS') return next();
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', req.headers['access-control-request-headers'] ?? 'Content-Type, Content-Encoding, Accept');
    // the answer echoes the asked-for headers: a cache must not hand it to a preflight that asked for others
    res.setHeader('Vary', 'Access-Control-Request-Headers');
    res.setHeader('Access-Control-Max-Age', '86400');
    res.status(200).json({ code: 200 });
  });

  const eventsRoute = (endpoint: 'httpapi' | 'batch', limit: number) => async (req: Request, res: Response) => {
    const body = await readBody(req, limit, deps.bodyLimits.discard);
    if (bodyFailed(res, endpoint, body)) return;
    const receiveTime = Date.now();
    const parsed = parseJson(body.body);
    if (parsed === undefined) return send(res, endpoint, replies.invalidJson(), 'invalid_json');
    await deliver(res, endpoint, processEvents(parsed, endpoint, context(req, receiveTime)), body.body.length, receiveTime);
  };
  app.post('/2/httpapi', eventsRoute('httpapi', deps.bodyLimits.httpapi));
  app.post('/batch', eventsRoute('batch', deps.bodyLimits.batch));

  const formRoute = (endpoint: 'identify' | 'groupidentify', process: (f: FormFields, ctx: RequestContext) => Accepted | Rejected) =>
    async (req: Request, res: Response) => {
      // express routes HEAD to GET handlers: a probe must not ingest anything
      if (req.method === 'HEAD') return void res.status(405).end();
      let fields = queryFields(req.originalUrl);
      let size: number;
      if (req.method === 'POST') {
        const body = await readBody(req, deps.bodyLimits.identify, deps.bodyLimits.discard);
        if (bodyFailed(res, endpoint, body)) return;
        size = body.body.length;
        const posted = await formFields(req.headers['content-type'], body.body);
        if (!posted) return send(res, endpoint, { status: 400, body: { code: 400, error: 'Invalid form body' } }, 'invalid_identification');
        fields = { ...fields, ...posted };
      } else {
        size = Buffer.byteLength(req.originalUrl);
      }
      const receiveTime = Date.now();
      await deliver(res, endpoint, process(fields, context(req, receiveTime)), size, receiveTime);
    };
  for (const [path, endpoint, process] of [
    ['/identify', 'identify', processIdentify],
    ['/groupidentify', 'groupidentify', processGroupIdentify],
  ] as const) {
    app.post(path, formRoute(endpoint, process));
    app.get(path, formRoute(endpoint, process));
  }

  mountSegmentRoutes(app, deps);

  app.use((_req: Request, res: Response) => {
    res.status(404).json(replies.notFound().body);
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    log.error({ err, path: req.path }, 'request_failed');
    if (!res.headersSent) res.status(500).json(replies.internal().body);
    else res.end();
  });
}
