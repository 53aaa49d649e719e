// Private Kafka clusters and ClickHouse servers for fault tests, started with the project's own scripts
// (deploy/kafka/kafka.sh, deploy/clickhouse/clickhouse.sh) on ports and data folders of their own, so a test can
// kill -9 one of their processes without touching the servers other test files share.
// Ports derive from the test ports (TEST_KAFKA_PORT, TEST_CLICKHOUSE_PORT), each test file taking a fixed offset.
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClickHouse, type ClickHouse } from '@groupscope/clickhouse';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');

/** Where tests keep data of servers they start: <GROUPSCOPE_TEST_DATA_DIR>/<name> (set by the jest global set-up). */
export function testDataDir(name: string): string {
  return join(process.env.GROUPSCOPE_TEST_DATA_DIR ?? join(root, '.data', 'test'), name);
}

/** A port `offset` above a test port variable (its default when unset). */
export function testPort(variable: 'TEST_KAFKA_PORT' | 'TEST_KAFKA_CONTROLLER_PORT' | 'TEST_CLICKHOUSE_PORT', offset: number): number {
  const defaults = { TEST_KAFKA_PORT: 19092, TEST_KAFKA_CONTROLLER_PORT: 19093, TEST_CLICKHOUSE_PORT: 18123 };
  return Number(process.env[variable] ?? defaults[variable]) + offset;
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** kill -9 of a process; resolves once it is gone. */
async function killHard(pid: number): Promise<number> {
  process.kill(pid, 'SIGKILL');
  while (isRunning(pid)) await new Promise((r) => setTimeout(r, 50));
  return pid;
}

/** A server run by one of the project's deploy scripts (start waits until it is ready), with a data folder of its own. */
abstract class ScriptedServer {
  private fresh = true;

  protected constructor(
    private readonly scriptPath: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly dataDir: string,
  ) {}

  private script(cmd: string) {
    return run('bash', [join(root, this.scriptPath), cmd], { env: this.env, timeout: 300_000 });
  }

  /** Starts what is not running (from an empty data folder the first time) and waits until it is ready. */
  async start(): Promise<void> {
    if (this.fresh) rmSync(this.dataDir, { recursive: true, force: true });
    this.fresh = false;
    try {
      await this.script('start');
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      throw new Error(`${this.scriptPath} start failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
    }
  }

  async stop(): Promise<void> {
    await this.script('stop');
  }
}

export interface LocalKafkaOptions {
  nodes: number;
  /** node i listens on port + 2(i-1), its controller on controllerPort + 2(i-1) */
  port: number;
  controllerPort: number;
  dataDir: string;
  heap?: string;
}

/** A Kafka cluster of its own (kafka.sh with a private data folder); start() also restarts nodes killed since. */
export class LocalKafka extends ScriptedServer {
  constructor(readonly opts: LocalKafkaOptions) {
    super(
      'deploy/kafka/kafka.sh',
      {
        ...process.env,
        KAFKA_NODES: String(opts.nodes),
        KAFKA_PORT: String(opts.port),
        KAFKA_CONTROLLER_PORT: String(opts.controllerPort),
        KAFKA_DATA_DIR: opts.dataDir,
        KAFKA_HEAP: opts.heap ?? '512m',
        KAFKA_READY_TIMEOUT_S: '180',
      },
      opts.dataDir,
    );
  }

  get brokers(): string[] {
    return Array.from({ length: this.opts.nodes }, (_, i) => `127.0.0.1:${this.brokerPort(i + 1)}`);
  }

  brokerPort(node: number): number {
    return this.opts.port + 2 * (node - 1);
  }

  /** Node i's process id (kafka.sh's pid file). */
  pid(node: number): number {
    return Number(readFileSync(join(this.opts.dataDir, `node-${node}`, 'kafka.pid'), 'utf8'));
  }

  /** kill -9 of node i; resolves once the process is gone. */
  kill(node: number): Promise<number> {
    return killHard(this.pid(node));
  }
}

export interface ClickHouseCredentials {
  url: string;
  username: string;
  password: string;
}

/** A ClickHouse server of its own (clickhouse.sh with a private data folder and port). */
export class LocalClickHouse extends ScriptedServer {
  constructor(readonly opts: { port: number; dataDir: string }) {
    super(
      'deploy/clickhouse/clickhouse.sh',
      { ...process.env, CLICKHOUSE_HTTP_PORT: String(opts.port), CLICKHOUSE_DATA_DIR: opts.dataDir, CLICKHOUSE_READY_TIMEOUT_S: '180' },
      opts.dataDir,
    );
  }

  pid(): number {
    return Number(readFileSync(join(this.opts.dataDir, 'clickhouse.pid'), 'utf8'));
  }

  /** kill -9 of the server process; resolves once it is gone. */
  kill(): Promise<number> {
    return killHard(this.pid());
  }

  credentials(): ClickHouseCredentials {
    const lines = readFileSync(join(this.opts.dataDir, 'credentials'), 'utf8').split('\n').filter(Boolean);
    const kv = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    return { url: kv.CLICKHOUSE_URL!, username: kv.CLICKHOUSE_USER!, password: kv.CLICKHOUSE_PASSWORD! };
  }
}

/** A handle on one database of a ClickHouse server (the test's own reads; the services open their own). */
export function clickhouseOn(server: ClickHouseCredentials, database: string): ClickHouse {
  return createClickHouse({ ...server, database });
}
