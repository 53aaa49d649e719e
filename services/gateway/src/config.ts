import { ConfigError, loadConfig, commonEnv, kafkaEnv, httpEnv, int, port, envBool, z } from '@groupscope/config';
const MB = 1024 * 1024;

export const gatewayEnv = {
  ...commonEnv,
  ...kafkaEnv,
  ...httpEnv,
  GATEWAY_PORT: port(8080),
  /**
   * HTTPS beside HTTP when both are set: PEM files of the server certificate (chain) and its key. Some SDKs (the
   * official Java SDK) only send over HTTPS. Read at start; a renewed certificate takes a restart.
   */
  GATEWAY_TLS_CERT: z.string().min(1).optional(),
  GATEWAY_TLS_KEY: z.string().min(1).optional(),
  GATEWAY_HTTPS_PORT: port(8443),
  /**
   * How long a request waits for Kafka's acknowledgement before it gets a 503. Below the Node SDK's own 10 s
   * request timeout, so the SDK reads our 503 rather than timing out itself.
   */
  GATEWAY_SEND_TIMEOUT_MS: int(8000, { min: 100, max: 120_000 }),
  /** decompressed body limits (Amplitude's): 1 MB for /2/httpapi, 20 MB for /batch, 1 MB for the form APIs */
  GATEWAY_HTTPAPI_MAX_BYTES: int(1 * MB, { min: 1024 }),
  GATEWAY_BATCH_MAX_BYTES: int(20 * MB, { min: 1024 }),
  GATEWAY_IDENTIFY_MAX_BYTES: int(1 * MB, { min: 1024 }),
  GATEWAY_MAX_EVENTS: int(2000, { min: 1 }),
  GATEWAY_MAX_IDENTIFICATIONS: int(1024, { min: 1 }),
  /** an event time more than this past the receive time is refused (400, events_with_invalid_fields.time) */
  GATEWAY_MAX_FUTURE_MS: int(86_400_000, { min: 0, max: 366 * 86_400_000 }),
  /**
   * the rest of an oversized body is read and thrown away up to this many bytes, so the client (still sending)
   * reads the 413 instead of a reset connection; a body larger still is cut off
   */
  GATEWAY_DISCARD_MAX_BYTES: int(64 * MB, { min: 0 }),
  /** one encoded record may not exceed this (Kafka rejects messages over ~1 MB by default) */
  GATEWAY_MAX_RECORD_BYTES: int(900_000, { min: 1024 }),
  /** coalesce concurrent requests into shared producer sends (false: one send per request, for comparison) */
  GATEWAY_MICROBATCH: envBool.default(true),
  /** how long the first message of an idle batcher waits for company (0: until the current I/O turn ends) */
  GATEWAY_LINGER_MS: int(0, { min: 0, max: 1000 }),
  /** limits of one producer send; the byte cap keeps every partition's record batch under the broker's limit */
  GATEWAY_SEND_MAX_MESSAGES: int(10_000, { min: 1 }),
  GATEWAY_SEND_MAX_BYTES: int(900_000, { min: 1024 }),
  /** records waiting for Kafka beyond this many bytes: new requests get 503 at once (back-pressure) */
  GATEWAY_MAX_QUEUED_BYTES: int(128 * MB, { min: 1024 }),
  /** cap on the producer's retry back-off, so a send stuck during an outage resumes soon after Kafka returns */
  GATEWAY_KAFKA_MAX_RETRY_MS: int(2000, { min: 100, max: 60_000 }),
  /** how long a /ready answer about Kafka is reused */
  GATEWAY_READY_CACHE_MS: int(2000, { min: 0, max: 60_000 }),
  /**
   * Which proxies' X-Forwarded-For to believe for the client address (ip = "$remote"): express' `trust proxy`
   * (true, false, a hop count, or comma-separated addresses/subnets/names such as loopback, uniquelocal).
   */
  GATEWAY_TRUST_PROXY: z.string().default('loopback'),
  /**
   * The gateway's address as browsers and SDKs reach it (https://ingest.example.com), for the settings document
   * analytics-next loads; empty: the Host and protocol of each request (X-Forwarded-* from trusted proxies).
   */
  GATEWAY_PUBLIC_URL: z.union([z.literal(''), z.string().url().regex(/^https?:\/\//i)]).default(''),
  /**
   * This gateway instance's producer id, stamped on every record with its receive position. Keep it stable across
   * restarts of the same instance (a restart then continues the same producer); unique among running gateways.
   * Default: host name and GATEWAY_PORT (a random suffix when the port is 0).
   */
  GATEWAY_ID: z.string().min(1).max(200).optional(),
  /**
   * How often the gateway sends its watermark mark to every group-identify partition. Events wait for the next mark
   * of every gateway before they are stamped: about half of this is the average latency it adds.
   */
  GATEWAY_MARK_INTERVAL_MS: int(100, { min: 10, max: 5000 }),
  /** most ids tracked by the per-user/device throttle before the oldest are forgotten */
  GATEWAY_THROTTLE_MAX_IDS: int(1_000_000, { min: 1000 }),
};
export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;
export const loadGatewayConfig = (env: NodeJS.ProcessEnv = process.env) => {
  const config = loadConfig(gatewayEnv, env);
  if (Boolean(config.GATEWAY_TLS_CERT) !== Boolean(config.GATEWAY_TLS_KEY)) {
    throw new ConfigError('invalid configuration:\n  GATEWAY_TLS_CERT and GATEWAY_TLS_KEY: HTTPS needs both (or neither, for HTTP only)');
  }
  return config;
};
