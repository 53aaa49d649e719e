import { eventTime, FALLBACK_GROUP_TYPE, mapMessage, parseTimestamp, viewedName, type Mapped, type MappingEnv } from './mapping';

const T = Date.parse('2026-03-01T12:00:00.000Z');
const env = (over: Partial<MappingEnv> = {}): MappingEnv => ({ receiveTime: T + 60_000, ...over });
const traitsSettings = { group_type_trait: 'group_type', group_value_trait: 'name' };

const events = (m: Mapped) => {
  if (!m.ok) throw new Error(`dead: ${m.reason} ${m.error}`);
  return m.events;
};
const deadReason = (m: Mapped) => (m.ok ? 'ok' : m.reason);

describe('mapMessage: what each call becomes', () => {
  it('track: event, properties, ids, insert_id, time, event-level groups from integrations.Amplitude.groups', () => {
    const [ev] = events(
      mapMessage(
        {
          type: 'track',
          event: 'Clicked Benefits Dropdown',
          userId: 'user-1',
          anonymousId: 'anon-1',
          messageId: 'm-1',
          timestamp: '2026-03-01T12:00:00.000Z',
          properties: { dropdownColor: 'blue' },
          integrations: { Amplitude: { groups: { onboarding_cohort: 'Summer 2022' }, session_id: 1700000000000 } },
        },
        env(),
      ),
    );
    expect(ev).toEqual({
      library: 'segment',
      user_id: 'user-1',
      device_id: 'anon-1',
      time: T,
      insert_id: 'm-1',
      session_id: 1700000000000,
      event_type: 'Clicked Benefits Dropdown',
      event_properties: { dropdownColor: 'blue' },
      groups: { onboarding_cohort: 'Summer 2022' },
    });
  });

  it('context: device, os, network, location, locale, ip, user agent, advertising id; device.id wins over anonymousId', () => {
    const [ev] = events(
      mapMessage(
        {
          type: 'track',
          event: 'Opened',
          anonymousId: 'anon-1',
          context: {
            app: { version: '3.2.1' },
            device: { id: 'dev-42', type: 'ios', brand: 'Apple', manufacturer: 'Apple', model: 'iPhone15,2', advertisingId: 'ad-1' },
            os: { name: 'iOS', version: '17.1' },
            network: { carrier: 'T-Mobile' },
            location: { city: 'Paris', country: 'France', region: 'IDF', latitude: 48.85, longitude: '2.35' },
            locale: 'fr-FR',
            ip: '198.51.100.7',
            userAgent: 'Mozilla/5.0',
            library: { name: 'analytics-ios', version: '4.1' },
          },
        },
        env({ remoteIp: '203.0.113.1' }),
      ),
    );
    expect(ev).toMatchObject({
      device_id: 'dev-42',
      app_version: '3.2.1',
      platform: 'iOS',
      os_name: 'iOS',
      os_version: '17.1',
      device_brand: 'Apple',
      device_manufacturer: 'Apple',
      device_model: 'iPhone15,2',
      carrier: 'T-Mobile',
      city: 'Paris',
      country: 'France',
      region: 'IDF',
      location_lat: 48.85,
      location_lng: 2.35,
      language: 'fr-FR',
      ip: '198.51.100.7',
      user_agent: 'Mozilla/5.0',
      idfa: 'ad-1',
    });
    expect(ev).not.toHaveProperty('user_id');
  });

  it.each([
    ['a browser message without context.ip takes the request address', {}, { remoteIp: '203.0.113.1' }, '203.0.113.1'],
    ['a server message without context.ip has none', {}, {}, undefined],
    ['context.ip wins', { ip: '198.51.100.7' }, { remoteIp: '203.0.113.1' }, '198.51.100.7'],
  ])('%s', (_n, context, over, ip) => {
    const [ev] = events(mapMessage({ type: 'track', event: 'x', userId: 'user-1', context }, env(over)));
    expect(ev!.ip).toBe(ip);
  });

  it('identify: traits become $set user properties; Amplitude groups on it are user-level', () => {
    const [ev] = events(
      mapMessage(
        { type: 'identify', userId: 'user-1', traits: { plan: 'pro', seats: 3 }, integrations: { Amplitude: { groups: { org: 'acme' } } } },
        env(),
      ),
    );
    expect(ev).toMatchObject({ event_type: '$identify', user_id: 'user-1', user_properties: { $set: { plan: 'pro', seats: 3 } }, groups: { org: 'acme' } });
    expect(events(mapMessage({ type: 'identify', userId: 'user-1' }, env()))[0]).not.toHaveProperty('user_properties');
  });

  it('group with the trait settings: user-level group by the traits, and a group identify $set of every trait', () => {
    const traits = { group_type: 'Organization', name: 'ExampleCorp, LLC', employees: '20', email: 'hello@example.com' };
    const out = events(mapMessage({ type: 'group', groupId: '082108b9-f41d-486g-9d2d-b5ab68bb3d5o', userId: 'user-1', traits, messageId: 'g-1' }, env({ settings: traitsSettings })));
    expect(out).toEqual([
      expect.objectContaining({ event_type: '$identify', user_id: 'user-1', insert_id: 'g-1', groups: { Organization: 'ExampleCorp, LLC' }, user_properties: { $set: { Organization: 'ExampleCorp, LLC' } } }),
      expect.objectContaining({ event_type: '$groupidentify', user_id: 'user-1', groups: { Organization: 'ExampleCorp, LLC' }, group_properties: { $set: traits } }),
    ]);
  });

  it.each([
    ['no settings', undefined, { group_type: 'Organization', name: 'Acme' }],
    ['only the type trait configured', { group_type_trait: 'group_type' }, { group_type: 'Organization', name: 'Acme' }],
    ['the value trait missing from the call', traitsSettings, { group_type: 'Organization' }],
    ['the type trait empty', traitsSettings, { group_type: '', name: 'Acme' }],
    ['the type trait an object', traitsSettings, { group_type: { a: 1 }, name: 'Acme' }],
    ['a setting naming an inherited property', { group_type_trait: 'constructor', group_value_trait: '__proto__' }, { name: 'Acme' }],
  ])('group falls back to "[Segment] Group" = groupId with no properties: %s', (_n, settings, traits) => {
    const out = events(mapMessage({ type: 'group', groupId: 'grp-77', anonymousId: 'anon-1', traits }, env({ settings })));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ event_type: '$identify', groups: { [FALLBACK_GROUP_TYPE]: 'grp-77' }, user_properties: { $set: { [FALLBACK_GROUP_TYPE]: 'grp-77' } } });
    expect(out[0]).not.toHaveProperty('group_properties');
  });

  it('group traits with numbers: type and value become text', () => {
    const out = events(mapMessage({ type: 'group', groupId: 'g', userId: 'user-1', traits: { kind: 'org', id: 42 } }, env({ settings: { group_type_trait: 'kind', group_value_trait: 'id' } })));
    expect(out[0]!.groups).toEqual({ org: '42' });
  });

  it.each([
    ['page', { name: 'Pricing' }, 'Viewed Pricing Page'],
    ['page', { name: 'Analytics iOS', category: 'Docs' }, 'Viewed Docs Analytics iOS Page'],
    ['page', { category: 'Docs' }, 'Loaded a Page'],
    ['page', {}, 'Loaded a Page'],
    ['screen', { name: 'Home' }, 'Viewed Home Screen'],
    ['screen', {}, 'Loaded a Screen'],
  ])('%s %j is named %s, with name and category as properties', (type, fields, name) => {
    const [ev] = events(mapMessage({ type, userId: 'user-1', properties: { url: 'https://x.test/p' }, ...fields }, env()));
    expect(ev!.event_type).toBe(name);
    expect(ev!.event_properties).toEqual({ url: 'https://x.test/p', ...fields });
  });

  it('page keeps event-level groups and revenue fields travel as Amplitude fields', () => {
    const [page] = events(mapMessage({ type: 'page', userId: 'user-1', name: 'Home', integrations: { Amplitude: { groups: { org: ['a', 'b'] } } } }, env()));
    expect(page!.groups).toEqual({ org: ['a', 'b'] });
    const [order] = events(mapMessage({ type: 'track', event: 'Order Completed', userId: 'user-1', properties: { revenue: '19.99', price: 9.995, quantity: 2, productId: 'p-1' } }, env()));
    expect(order).toMatchObject({ revenue: 19.99, price: 9.995, quantity: 2, productId: 'p-1', event_properties: { revenue: '19.99', price: 9.995, quantity: 2, productId: 'p-1' } });
  });

  it('context.traits on a track update the user', () => {
    const [ev] = events(mapMessage({ type: 'track', event: 'x', userId: 'user-1', context: { traits: { plan: 'pro' } } }, env()));
    expect(ev!.user_properties).toEqual({ $set: { plan: 'pro' } });
  });

  it('numeric ids are accepted as text, and short ids are kept (Segment has no minimum length)', () => {
    const [ev] = events(mapMessage({ type: 'track', event: 'x', userId: 42, anonymousId: 'ab' }, env()));
    expect(ev).toMatchObject({ user_id: '42', device_id: 'ab' });
  });

  it('the type of the path wins over the message type', () => {
    expect(events(mapMessage({ type: 'identify', event: 'Signed Up', userId: 'user-1' }, env(), 'track'))[0]!.event_type).toBe('Signed Up');
  });
});

describe('mapMessage: unusable messages and their reasons', () => {
  it.each([
    ['not an object', [1, 2], 'invalid_message'],
    ['a string', 'track', 'invalid_message'],
    ['no type', { event: 'x', userId: 'user-1' }, 'invalid_type'],
    ['an unknown type', { type: 'purchase', userId: 'user-1' }, 'invalid_type'],
    ['a type that is not a string', { type: ['track'], userId: 'user-1' }, 'invalid_type'],
    ['no userId and no anonymousId', { type: 'track', event: 'x' }, 'missing_id'],
    ['empty ids', { type: 'track', event: 'x', userId: '', anonymousId: '' }, 'missing_id'],
    ['placeholder ids', { type: 'track', event: 'x', userId: 'null', anonymousId: 'undefined' }, 'missing_id'],
    ['ids that are objects', { type: 'track', event: 'x', userId: { $gt: '' } }, 'invalid_fields'],
    ['an id over 1024 characters', { type: 'track', event: 'x', userId: 'u'.repeat(1025) }, 'invalid_fields'],
    ['track without event', { type: 'track', userId: 'user-1' }, 'missing_event'],
    ['track with a blank event', { type: 'track', event: '  ', userId: 'user-1' }, 'missing_event'],
    ['track with a numeric event', { type: 'track', event: 7, userId: 'user-1' }, 'missing_event'],
    ['group without groupId', { type: 'group', userId: 'user-1', traits: {} }, 'missing_group_id'],
    ['group with traits that are a list', { type: 'group', groupId: 'g', userId: 'user-1', traits: ['a'] }, 'invalid_fields'],
    ['an unreadable timestamp', { type: 'track', event: 'x', userId: 'user-1', timestamp: 'yesterday' }, 'invalid_timestamp'],
    ['a timestamp that is an object', { type: 'track', event: 'x', userId: 'user-1', timestamp: {} }, 'invalid_timestamp'],
    ['alias', { type: 'alias', userId: 'user-2', previousId: 'user-1' }, 'alias_unsupported'],
  ])('%s -> %s', (_n, msg, reason) => {
    expect(deadReason(mapMessage(msg, env()))).toBe(reason);
  });

  it('a blocked device.id does not hide a usable anonymousId', () => {
    const [ev] = events(mapMessage({ type: 'track', event: 'x', anonymousId: 'anon-1', context: { device: { id: 'unknown' } } }, env()));
    expect(ev!.device_id).toBe('anon-1');
  });

  it('hostile keys stay data: __proto__ in properties and traits, context fields of the wrong type are skipped', () => {
    const msg = JSON.parse('{"type":"identify","userId":"user-1","traits":{"__proto__":{"polluted":true}},"context":{"os":{"name":{"x":1}},"location":{"latitude":"north"}}}');
    const [ev] = events(mapMessage(msg, env()));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.stringify(ev!.user_properties)).toBe('{"$set":{"__proto__":{"polluted":true}}}');
    expect(ev).not.toHaveProperty('os_name');
    expect(ev).not.toHaveProperty('location_lat');
  });
});

describe('time', () => {
  it.each([
    ['ISO string', '2026-03-01T12:00:00.000Z', T],
    ['with offset', '2026-03-01T13:00:00+01:00', T],
    ['epoch ms', T, T],
    ['absent', undefined, null],
    ['garbage', 'soon', undefined],
    ['an absurdly long string', '2'.repeat(100), undefined],
  ])('parseTimestamp: %s', (_n, v, want) => {
    expect(parseTimestamp(v)).toBe(want);
  });

  it("corrects the sender's clock skew with sentAt: receivedAt - (sentAt - timestamp)", () => {
    const receive = T + 10_000;
    // the device clock is an hour fast: it stamped the event at T+1h and sent it 2 s later
    const msg = { timestamp: new Date(T + 3_600_000).toISOString(), sentAt: new Date(T + 3_602_000).toISOString() };
    expect(eventTime(msg, { receiveTime: receive })).toBe(receive - 2_000);
    // the batch's sentAt serves messages without their own
    expect(eventTime({ timestamp: msg.timestamp }, { receiveTime: receive, batchSentAt: msg.sentAt })).toBe(receive - 2_000);
    // without sentAt the timestamp is taken as sent; an unreadable sentAt is ignored
    expect(eventTime({ timestamp: msg.timestamp }, { receiveTime: receive })).toBe(T + 3_600_000);
    expect(eventTime({ timestamp: msg.timestamp, sentAt: 'later' }, { receiveTime: receive })).toBe(T + 3_600_000);
    expect(eventTime({ originalTimestamp: msg.timestamp }, { receiveTime: receive })).toBe(T + 3_600_000);
    expect(eventTime({}, { receiveTime: receive })).toBeNull();
  });

  it('viewedName', () => {
    expect(viewedName('Page', 'Home', undefined)).toBe('Viewed Home Page');
    expect(viewedName('Screen', undefined, 'Docs')).toBe('Loaded a Screen');
  });
});
