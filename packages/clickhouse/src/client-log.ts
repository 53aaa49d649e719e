// The HTTP client's own log lines. Its errors are dropped: every one is also thrown to the caller, which handles
// it (the writer isolates a refused INSERT, the query service answers 504), so printing them too would flood the
// console (one block per attempt while the writer splits a batch). Its warnings go to stderr as by default.
interface LogParams {
  module: string;
  message: string;
  args?: Record<string, unknown>;
  err?: Error;
}

export class ClientLog {
  trace(): void {}
  debug(): void {}
  info(): void {}
  warn(p: LogParams): void {
    console.warn(`[@clickhouse/client][${p.module}] ${p.message}`, ...(p.err ? [p.err.message] : []));
  }
  error(): void {}
}
