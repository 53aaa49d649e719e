// One pino root per process; modules take child loggers. Messages are stable snake_case names, data in fields.
import pino, { type Logger } from 'pino';

export type { Logger };

const VERSION = process.env.npm_package_version ?? '0.1.0';

export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service, version: VERSION },
    timestamp: pino.stdTimeFunctions.isoTime,
    // keys that may hold secrets are never printed, even if a caller logs them by mistake
    redact: { paths: ['api_key', 'secret_key', '*.api_key', '*.secret_key', 'authorization', '*.authorization'], censor: '[redacted]' },
  });
}

/** A logger that prints nothing: for tests and library defaults. */
export const silentLogger: Logger = pino({ level: 'silent' });
