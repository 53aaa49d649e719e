import { createServer } from 'node:net';

/**
 * A loopback port nothing listens on right now: one the OS handed out and that was closed again. For tests of what a
 * service does when a server is unreachable (a fixed port number may belong to another run's broker).
 */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
