// HTTP routes of Segment's Tracking API (what @segment/analytics-node and server code send), analytics-next's
// short paths, and the settings document analytics-next loads first. Bodies are JSON whatever the Content-Type
// (analytics-next posts text/plain); CORS is the gateway's; the rules live in protocol.ts; records go to Kafka
// through the gateway's batcher, and a 200 follows only Kafka's acknowledgement of every record and dead letter.
import { randomUUID } from 'node:crypto';
import type { Express, Request, Response } from '@groupscope/http';
import { deadLetters } from '@groupscope/kafka';
import type { Logger } from '@groupscope/logger';
import { readBody } from '../body';
import { parseJson, type Limits, type RequestContext } from '../protocol';
import type { Batcher } from '../batcher';
import type { Positions } from '../positions';
import type { ProjectLookup } from '../projects';
import type { Throttle } from '../throttle';
import * as metrics from '../metrics';
import { segmentMessages } from './metrics';
import { processSegment, segmentReplies, SEGMENT_LIMITS, type SegmentAccepted, type SegmentReply, type SegmentRoute } from './protocol';
import { apiTarget, settingsDocument } from './settings';

export interface SegmentRouteDeps {
  logger: Logger;
  projects: ProjectLookup;
  throttle: Throttle;
  batcher: Batcher;
  positions: Positions;
  limits: Limits;
  /** how much of an oversized body is read and thrown away before the reply (see readBody) */
  bodyLimits?: { discard?: number };
  /** the gateway's address as browsers reach it (e.g. https://ingest.example.com); else each request's Host */
  publicUrl?: string;
}

/** Every path Segment's libraries post to. `/b` is analytics-next's batching path when apiHost has no /v1. */
export const SEGMENT_ROUTES: readonly SegmentRoute[] = [
  { path: '/v1/batch', batch: true, browser: false },
  { path: '/v1/import', batch: true, browser: false },
  ...(['track', 'identify', 'group', 'page', 'screen', 'alias'] as const).map((type) => ({ path: `/v1/${type}`, type, batch: false, browser: false })),
  ...(['track', 'identify', 'group', 'page', 'screen', 'alias'] as const).map((type) => ({ path: `/v1/${type[0]}`, type, batch: false, browser: true })),
  { path: '/v1/b', batch: true, browser: true },
  { path: '/b', batch: true, browser: true },
];

const endpointOf = (route: SegmentRoute) => `segment_${route.path.slice(route.path.lastIndexOf('/') + 1)}`;

const clientIp = (req: Request) => {
  const ip = req.ip ?? req.socket.remoteAddress;
  return ip?.startsWith('::ffff:') ? ip.slice(7) : ip;
};

export function mountSegmentRoutes(app: Express, deps: SegmentRouteDeps): void {
  const log = deps.logger.child({ module: 'segment' });
  let warnedAt = 0;

  const send = (res: Response, endpoint: string, reply: SegmentReply, reason?: string) => {
    metrics.requests.inc({ endpoint, code: String(reply.status) });
    if (reason) metrics.rejects.inc({ endpoint, reason });
    if (res.headersSent) return;
    for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
    res.status(reply.status).json(reply.body);
  };

  const counted = (endpoint: string, result: SegmentAccepted) => {
    for (const [kind, n] of Object.entries(result.kinds)) if (n > 0) metrics.accepted.inc({ endpoint, kind }, n);
    if (result.truncatedGroups > 0) metrics.truncatedGroups.inc({ endpoint }, result.truncatedGroups);
    const reasons: Record<string, number> = {};
    for (const o of result.outcomes) {
      segmentMessages.inc({ type: o.type, outcome: o.dead ? 'dead_lettered' : 'stored' });
      if (o.dead) {
        deadLetters.inc({ stage: 'gateway', reason: o.dead });
        reasons[o.dead] = (reasons[o.dead] ?? 0) + 1;
      }
    }
    if (Object.keys(reasons).length > 0) log.debug({ endpoint, project_id: result.project.id, reasons }, 'segment_messages_dead_lettered');
  };

  for (const route of SEGMENT_ROUTES) {
    const endpoint = endpointOf(route);
    const limit = route.batch ? SEGMENT_LIMITS.batchBytes : SEGMENT_LIMITS.messageBytes;
    app.post(route.path, async (req: Request, res: Response) => {
      const body = await readBody(req, limit, deps.bodyLimits?.discard);
      if (!body.ok) {
        if (body.error === 'aborted') return void metrics.rejects.inc({ endpoint, reason: 'client_aborted' });
        if (body.error === 'unsupported_encoding' || (body.error === 'too_large' && !body.drained)) res.setHeader('Connection', 'close');
        if (body.error === 'too_large') return send(res, endpoint, segmentReplies.error(400, `Payload too large: at most ${limit} bytes`), 'payload_too_large');
        if (body.error === 'unsupported_encoding') return send(res, endpoint, segmentReplies.error(415, 'Unsupported Content-Encoding'), 'unsupported_encoding');
        return send(res, endpoint, segmentReplies.error(400, 'Invalid request body encoding'), 'bad_body_encoding');
      }
      const receiveTime = Date.now();
      const parsed = parseJson(body.body);
      if (parsed === undefined) return send(res, endpoint, segmentReplies.error(400, 'Invalid JSON'), 'invalid_json');
      const ctx: RequestContext = {
        lookup: (key) => deps.projects.get(key),
        throttle: deps.throttle,
        limits: deps.limits,
        receiveTime,
        position: deps.positions,
        uuid: randomUUID,
        remoteIp: clientIp(req),
      };
      const result = processSegment(route, parsed, req.headers.authorization, ctx);
      if (!result.ok) return send(res, endpoint, result.reply, result.reason);
      try {
        await deps.batcher.submit(result.messages);
      } catch (err) {
        const e = err as Error & { reason?: string };
        metrics.sendTimeouts.inc({ reason: e.reason ?? 'send_error' });
        if (Date.now() - warnedAt > 5000) {
          warnedAt = Date.now();
          log.warn({ endpoint, project_id: result.project.id, records: result.messages.length, err: { name: e.name, message: e.message } }, 'kafka_unavailable');
        }
        return send(res, endpoint, segmentReplies.error(503, 'Service unavailable: Kafka did not acknowledge the records; retry later'), 'kafka_unavailable');
      }
      counted(endpoint, result);
      send(res, endpoint, segmentReplies.ok());
    });
  }

  app.get('/v1/projects/:writeKey/settings', (req: Request, res: Response) => {
    const endpoint = 'segment_settings';
    const writeKey = String(req.params.writeKey);
    if (!deps.projects.get(writeKey)) return send(res, endpoint, segmentReplies.error(404, 'Unknown write key'));
    const target = apiTarget(deps.publicUrl, { protocol: req.protocol, host: req.host });
    if (!target) return send(res, endpoint, segmentReplies.error(400, 'Invalid Host header'));
    // browsers fetch this on every page load; the answer depends on the Host it was asked for unless configured
    res.setHeader('Cache-Control', 'public, max-age=60');
    if (!deps.publicUrl) res.setHeader('Vary', 'Host, X-Forwarded-Host, X-Forwarded-Proto');
    send(res, endpoint, { status: 200, body: settingsDocument(writeKey, target) });
  });
}
