// What the load-generating benches send and how: an Amplitude-shaped event, and POSTs over keep-alive
// connections. Kept free of groupscope's packages, so a load generator in a child process stays light.
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';

/** Event i of a B2B product: one of 5000 users, in one of 500 companies, with event and user properties. */
export function sampleEvent(i: number) {
  return {
    user_id: `user-${i % 5000}`,
    device_id: `device-${i % 6000}`,
    event_type: ['Page Viewed', 'Invoice Sent', 'Payment Received', 'Signed Up'][i % 4],
    time: 1_762_000_000_000 + i,
    insert_id: `${i}-${randomUUID()}`,
    session_id: 1_762_000_000_000,
    event_properties: { amount: i % 500, page: `/p/${i % 50}` },
    user_properties: { $set: { role: i % 3 === 0 ? 'admin' : 'member' } },
    groups: { company: `c-${i % 500}` },
    platform: 'Web',
    os_name: 'Chrome',
    country: 'France',
    library: 'amplitude-node/1.5.73',
  };
}

export interface Poster {
  /** POSTs `body` as JSON; resolves with the status (the body is read and dropped), rejects on a network error */
  post(body: Buffer): Promise<number>;
  close(): void;
}

/** POSTs to `url` over at most `sockets` keep-alive connections. */
export function keepAlivePoster(url: string, sockets: number): Poster {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const target = new URL(url);
  return {
    post: (body) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          { agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      }),
    close: () => agent.destroy(),
  };
}
