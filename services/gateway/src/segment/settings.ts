// The settings document analytics-next fetches from `{cdnURL}/v1/projects/{writeKey}/settings` before it sends
// anything. It names one destination, "Segment.io" (this gateway), and nothing the library would load or call
// elsewhere: no device-mode destinations, no remote plugins or middleware, no library telemetry.

export interface ApiTarget {
  /** host[:port][/path]/v1: analytics-next posts to `{protocol}://{apiHost}/t` (and `/b` when batching) */
  apiHost: string;
  protocol: 'http' | 'https';
}

/** A Host header value: a DNS name, IPv4 or bracketed IPv6 address, and an optional port. */
const HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * Where browsers should send: the configured public URL when there is one (behind a proxy or load balancer),
 * else the host and protocol this request came in on. Undefined when the request's Host is unusable.
 */
export function apiTarget(publicUrl: string | undefined, request: { protocol: string; host: string | undefined }): ApiTarget | undefined {
  if (publicUrl) {
    const u = new URL(publicUrl);
    return { apiHost: `${u.host}${u.pathname.replace(/\/+$/, '')}/v1`, protocol: u.protocol === 'https:' ? 'https' : 'http' };
  }
  const host = request.host;
  if (!host || host.length > 300 || !HOST.test(host)) return undefined;
  return { apiHost: `${host}/v1`, protocol: request.protocol === 'https' ? 'https' : 'http' };
}

export function settingsDocument(writeKey: string, target: ApiTarget): Record<string, unknown> {
  return {
    integrations: {
      'Segment.io': {
        apiKey: writeKey,
        apiHost: target.apiHost,
        protocol: target.protocol,
        unbundledIntegrations: [],
        addBundledMetadata: true,
        maybeBundledConfigIds: {},
      },
    },
    plan: {
      track: { __default: { enabled: true, integrations: {} } },
      identify: { __default: { enabled: true } },
      group: { __default: { enabled: true } },
    },
    edgeFunction: {},
    analyticsNextEnabled: true,
    middlewareSettings: {},
    enabledMiddleware: {},
    // the library's own telemetry would go to Segment's hosts
    metrics: { sampleRate: 0 },
    legacyVideoPluginsEnabled: false,
    remotePlugins: [],
  };
}
