// The Salesforce sync's schedule with an injected clock, through the scheduler's own check (salesforce.tick()),
// against the local Salesforce-compatible server, the real broker and embedded ClickHouse:
//   daily: the first sync is the next morning's job at the configured UTC hour, then every morning;
//   every 7 days: groups are picked up on their own pickup dates (last update 2017-09-01 -> 2017-09-08); a change
//     in Salesforce before that waits for the group's date, and a group unchanged on its date moves on 7 days;
//   hourly: on every hour.
import type { GroupIdentifyRecord } from '@groupscope/events';
import { testClickHouse, testKafka, waitFor, insertEvents, type TestClickHouse, type TestKafka } from '@groupscope/testing';
import type { NewKeys } from '@groupscope/projects';
import { startFakeSalesforce, type FakeSalesforce } from './fake-salesforce';
import { collectGroupIdentifies } from './pipeline';
import { startTestService, type TestService } from './service';

let ch: TestClickHouse;
let tk: TestKafka;
let sf: FakeSalesforce;
let svc: TestService;
let A: NewKeys;
let identifies: Awaited<ReturnType<typeof collectGroupIdentifies>>;
let received: GroupIdentifyRecord[];
let clock = Date.parse('2017-08-31T12:00:00Z');
const at = (iso: string) => Date.parse(iso);

beforeAll(async () => {
  ch = await testClickHouse();
  tk = testKafka();
  await tk.ensureTopics(2);
  sf = await startFakeSalesforce();
  for (const object of ['Daily__c', 'Weekly__c', 'Hourly__c']) sf.defineObject(object, [{ name: 'Name', type: 'string' }, { name: 'Tier__c', type: 'string' }]);
  svc = await startTestService(ch, {
    kafka: { brokers: tk.brokers, clientId: 'test', topicPrefix: tk.prefix },
    now: () => clock,
    env: { ...sf.env(1), SALESFORCE_DAILY_HOUR_UTC: '6' },
  });
  A = svc.projects[0]!;
  const groups = { daily_team: ['d1'], weekly_team: ['w1', 'w2'], hourly_team: ['h1'] };
  await insertEvents(
    ch,
    Object.entries(groups).flatMap(([type, values]) => values.map((v) => ({ project: A.project_id, time: at('2017-08-30T10:00:00Z'), type: 'Login', user: `u-${v}`, groups: { [type]: { [v]: {} } } }))),
  );
  identifies = await collectGroupIdentifies(tk);
  received = identifies.received;
}, 90_000);

afterAll(async () => {
  await identifies?.stop();
  await svc?.stop();
  await sf?.stop();
  await ch?.cleanup();
});

async function create(object: string, groupType: string, cadence: unknown): Promise<string> {
  const res = await svc.call(A, 'POST', '/api/3/integrations/salesforce/mappings', {
    sobject: object,
    group_type: groupType,
    name_field: 'Name',
    properties: [{ sf_field: 'Tier__c', group_property: 'tier' }],
    cadence,
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

const status = async (id: string) => (await svc.call(A, 'GET', `/api/3/integrations/salesforce/mappings/${id}/status`)).body;

/**
 * Sets the clock, runs the scheduler's check (every due mapping runs), and returns the identifies that check
 * published for one group type as [group value, tier] pairs. A run's identifies carry the run's time as receive_time,
 * which tells them from any other check's. That nothing was published is shown by the run's status
 * (groups_updated), which is recorded only after Kafka acknowledged the run's identifies.
 */
async function tickOf(groupType: string, iso: string, expected: number): Promise<[string, unknown][]> {
  clock = at(iso);
  await svc.salesforce.tick();
  const mine = () => received.filter((r) => r.group_type === groupType && r.receive_time === clock);
  const got = await waitFor(() => (mine().length >= expected ? mine() : undefined), { timeoutMs: 60_000, message: `${expected} ${groupType} identifies at ${iso}` });
  return got.map((r) => [r.group_value, (JSON.parse(r.group_properties) as { $set?: { tier?: unknown } }).$set?.tier]);
}
const tickDaily = (iso: string, n: number) => tickOf('daily_team', iso, n);
const tickWeekly = (iso: string, n: number) => tickOf('weekly_team', iso, n);
const tickHourly = (iso: string, n: number) => tickOf('hourly_team', iso, n);

/** The runs recorded so far (last_run_at of the mapping) and its sync result. */
const lastRun = async (id: string) => {
  const s = await status(id);
  return { last_run_at: s.last_run_at, next_run_at: s.next_run_at, groups_updated: s.groups_updated, groups_deferred: s.groups_deferred, next_pickup_at: s.next_pickup_at };
};

describe('the Salesforce schedule', () => {
  let daily: string;
  let weekly: string;
  let hourly: string;

  it('runs daily mappings at the configured hour: the first sync the next morning, then each morning', async () => {
    sf.upsert('Daily__c', 'a01', { Name: 'd1', Tier__c: 'silver' }, at('2017-08-20T00:00:00Z'));
    daily = await create('Daily__c', 'daily_team', 'daily');
    expect((await status(daily)).next_run_at).toBe('2017-09-01T06:00:00.000Z');
    expect(await tickDaily('2017-09-01T05:59:00Z', 0)).toEqual([]);
    expect((await lastRun(daily)).last_run_at).toBeNull();
    expect(await tickDaily('2017-09-01T06:00:00Z', 1)).toEqual([['d1', 'silver']]);
    expect(await lastRun(daily)).toMatchObject({ last_run_at: '2017-09-01T06:00:00.000Z', next_run_at: '2017-09-02T06:00:00.000Z', groups_updated: 1 });
    // a change during the day waits for the next morning
    sf.upsert('Daily__c', 'a01', { Tier__c: 'gold' }, at('2017-09-01T10:00:00Z'));
    expect(await tickDaily('2017-09-01T12:00:00Z', 0)).toEqual([]);
    expect(await tickDaily('2017-09-02T05:59:59Z', 0)).toEqual([]);
    expect((await lastRun(daily)).last_run_at).toBe('2017-09-01T06:00:00.000Z');
    expect(await tickDaily('2017-09-02T06:00:30Z', 1)).toEqual([['d1', 'gold']]);
    expect(await lastRun(daily)).toMatchObject({ last_run_at: '2017-09-02T06:00:30.000Z', next_run_at: '2017-09-03T06:00:00.000Z' });
  });

  it('picks groups up every 7 days from their last update: 2017-09-01 -> 2017-09-08', async () => {
    clock = at('2017-08-31T12:00:00Z');
    sf.upsert('Weekly__c', 'b01', { Name: 'w1', Tier__c: 'bronze' }, at('2017-08-20T00:00:00Z'));
    sf.upsert('Weekly__c', 'b02', { Name: 'w2', Tier__c: 'bronze' }, at('2017-08-20T00:00:00Z'));
    weekly = await create('Weekly__c', 'weekly_team', { days: 7 });
    // the first sync on 2017-09-01's morning job updates both groups; their next pickup is 2017-09-08
    const first = await tickWeekly('2017-09-01T06:00:00Z', 2);
    expect(first.sort()).toEqual([
      ['w1', 'bronze'],
      ['w2', 'bronze'],
    ]);
    expect(await lastRun(weekly)).toMatchObject({ groups_updated: 2, next_pickup_at: '2017-09-08T06:00:00.000Z' });

    // w1 changes in Salesforce on 2017-09-02: the daily job sees it but the group is not due until 2017-09-08
    sf.upsert('Weekly__c', 'b01', { Tier__c: 'silver' }, at('2017-09-02T03:00:00Z'));
    expect(await tickWeekly('2017-09-02T06:00:00Z', 0)).toEqual([]);
    expect(await lastRun(weekly)).toMatchObject({ last_run_at: '2017-09-02T06:00:00.000Z', groups_updated: 0, groups_deferred: 1 });
    expect((await status(weekly)).groups).toMatchObject({ synced: 1, pending: 1 });
    for (const day of ['03', '04', '05', '06', '07']) {
      expect(await tickWeekly(`2017-09-${day}T06:00:00Z`, 0)).toEqual([]);
      expect(await lastRun(weekly)).toMatchObject({ last_run_at: `2017-09-${day}T06:00:00.000Z`, groups_updated: 0 });
    }

    // 2017-09-08: w1 is written with its current value; w2, unchanged, moves on to its next pickup without a write
    expect(await tickWeekly('2017-09-08T06:00:00Z', 1)).toEqual([['w1', 'silver']]);
    expect((await status(weekly)).groups).toMatchObject({ synced: 2, pending: 0 });
    expect((await status(weekly)).next_pickup_at).toBe('2017-09-15T06:00:00.000Z');

    // a change on 2017-09-10 to w2 waits for 2017-09-15, not 2017-09-11
    sf.upsert('Weekly__c', 'b02', { Tier__c: 'gold' }, at('2017-09-10T01:00:00Z'));
    expect(await tickWeekly('2017-09-11T06:00:00Z', 0)).toEqual([]);
    expect(await lastRun(weekly)).toMatchObject({ groups_updated: 0, groups_deferred: 1 });
    expect(await tickWeekly('2017-09-15T06:00:00Z', 1)).toEqual([['w2', 'gold']]);
  });

  it('runs hourly mappings on every hour', async () => {
    clock = at('2017-09-20T10:20:00Z');
    sf.upsert('Hourly__c', 'c01', { Name: 'h1', Tier__c: 'trial' }, at('2017-09-20T09:00:00Z'));
    hourly = await create('Hourly__c', 'hourly_team', 'hourly');
    expect((await status(hourly)).next_run_at).toBe('2017-09-20T11:00:00.000Z');
    expect(await tickHourly('2017-09-20T10:59:00Z', 0)).toEqual([]);
    expect(await tickHourly('2017-09-20T11:00:00Z', 1)).toEqual([['h1', 'trial']]);
    sf.upsert('Hourly__c', 'c01', { Tier__c: 'paid' }, at('2017-09-20T11:10:00Z'));
    expect(await tickHourly('2017-09-20T11:30:00Z', 0)).toEqual([]);
    expect((await lastRun(hourly)).last_run_at).toBe('2017-09-20T11:00:00.000Z');
    expect(await tickHourly('2017-09-20T12:00:00Z', 1)).toEqual([['h1', 'paid']]);
    expect(await lastRun(hourly)).toMatchObject({ last_run_at: '2017-09-20T12:00:00.000Z', next_run_at: '2017-09-20T13:00:00.000Z' });
  });
});
