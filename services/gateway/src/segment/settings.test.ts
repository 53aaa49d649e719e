import { apiTarget, settingsDocument } from './settings';

describe('apiTarget: where analytics-next is told to send', () => {
  it.each([
    ['request host and port', undefined, 'http', '127.0.0.1:8080', { apiHost: '127.0.0.1:8080/v1', protocol: 'http' }],
    ['https request', undefined, 'https', 'ingest.example.com', { apiHost: 'ingest.example.com/v1', protocol: 'https' }],
    ['IPv6 host', undefined, 'http', '[::1]:8080', { apiHost: '[::1]:8080/v1', protocol: 'http' }],
    ['configured public URL wins', 'https://ingest.example.com', 'http', '10.0.0.5:8080', { apiHost: 'ingest.example.com/v1', protocol: 'https' }],
    ['public URL with a path prefix', 'https://example.com/groupscope/', 'http', 'x', { apiHost: 'example.com/groupscope/v1', protocol: 'https' }],
    ['public URL with a port', 'http://10.1.2.3:9000', 'https', 'x', { apiHost: '10.1.2.3:9000/v1', protocol: 'http' }],
  ])('%s', (_n, publicUrl, protocol, host, want) => {
    expect(apiTarget(publicUrl, { protocol, host })).toEqual(want);
  });

  it.each([
    ['no Host', undefined],
    ['a path in Host', 'evil.test/x'],
    ['quotes', 'a"b'],
    ['a script', '<script>'],
    ['spaces', 'a b'],
    ['credentials', 'user@host'],
    ['absurd length', `${'a'.repeat(400)}.test`],
  ])('refuses a Host header with %s', (_n, host) => {
    expect(apiTarget(undefined, { protocol: 'http', host })).toBeUndefined();
  });
});

describe('settingsDocument', () => {
  it('names only the Segment.io destination, pointing at the gateway, and turns off the library telemetry', () => {
    const doc = settingsDocument('wk-1', { apiHost: '127.0.0.1:8080/v1', protocol: 'http' });
    expect(doc.integrations).toEqual({
      'Segment.io': expect.objectContaining({ apiKey: 'wk-1', apiHost: '127.0.0.1:8080/v1', protocol: 'http' }),
    });
    expect(doc).toMatchObject({ metrics: { sampleRate: 0 }, remotePlugins: [], enabledMiddleware: {} });
  });
});
