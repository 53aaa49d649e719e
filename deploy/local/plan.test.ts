import { loadLocalConfig, planServices } from './plan';

const ports = (env: NodeJS.ProcessEnv) => planServices(loadLocalConfig(env)).map((s) => [s.name, s.port]);

describe('planServices', () => {
  it('runs one process per service by default, each on its own port', () => {
    expect(ports({})).toEqual([['gateway', 8080], ['query', 8081], ['enricher', 8082], ['writer', 8083]]);
    const plan = planServices(loadLocalConfig({}));
    expect(plan.map((s) => s.entry)).toEqual(['gateway', 'query', 'enricher', 'writer'].map((s) => `services/${s}/src/main.ts`));
    expect(plan[2]!.env).toEqual({ ENRICHER_PORT: '8082', ENRICHER_SESSION_TIMEOUT_MS: '10000' });
  });

  it('numbers extra enrichers and writers and interleaves their health ports', () => {
    expect(ports({ GROUPSCOPE_ENRICHERS: '2', GROUPSCOPE_WRITERS: '3', ENRICHER_PORT: '23082', WRITER_PORT: '23083' }).slice(2)).toEqual([
      ['enricher-1', 23082],
      ['enricher-2', 23084],
      ['writer-1', 23083],
      ['writer-2', 23085],
      ['writer-3', 23087],
    ]);
    const writer3 = planServices(loadLocalConfig({ GROUPSCOPE_WRITERS: '3', WRITER_SESSION_TIMEOUT_MS: '6000' })).find((s) => s.name === 'writer-3')!;
    expect(writer3.env).toEqual({ WRITER_PORT: '8087', WRITER_SESSION_TIMEOUT_MS: '6000' });
  });

  it('gives the gateway HTTPS only with both TLS files', () => {
    const gateway = (env: NodeJS.ProcessEnv) => planServices(loadLocalConfig(env))[0]!.env;
    expect(gateway({ GATEWAY_TLS_CERT: '/c.pem' })).toEqual({ GATEWAY_PORT: '8080' });
    expect(gateway({ GATEWAY_TLS_CERT: '/c.pem', GATEWAY_TLS_KEY: '/k.pem', GATEWAY_HTTPS_PORT: '23443' })).toEqual({
      GATEWAY_PORT: '8080',
      GATEWAY_TLS_CERT: '/c.pem',
      GATEWAY_TLS_KEY: '/k.pem',
      GATEWAY_HTTPS_PORT: '23443',
    });
  });

  it('refuses two processes on one port, and instance counts out of range', () => {
    expect(() => ports({ GROUPSCOPE_ENRICHERS: '2', ENRICHER_PORT: '8082', WRITER_PORT: '8084' })).toThrow(/writer and enricher-2 would both listen on port 8084/);
    expect(() => ports({ GATEWAY_TLS_CERT: '/c', GATEWAY_TLS_KEY: '/k', GATEWAY_HTTPS_PORT: '8081' })).toThrow(/gateway \(HTTPS\) and query/);
    expect(() => ports({ GROUPSCOPE_WRITERS: '0' })).toThrow(/GROUPSCOPE_WRITERS/);
    expect(() => ports({ GROUPSCOPE_ENRICHERS: 'two' })).toThrow(/GROUPSCOPE_ENRICHERS/);
  });
});
