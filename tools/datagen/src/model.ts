// A realistic B2B SaaS data set, deterministic for a seed: accounts (group type `company`, with plan, region, size,
// industry), workspaces (`workspace`, user-level and multi-valued: a user may belong to two), projects (`project`,
// event-level), users with roles, daily product usage with weekly seasonality and heavy users, an onboarding funnel
// with drop-off for users who sign up in the range, and an account billing funnel done by several members that ends
// in a plan upgrade (a group property that changes mid-range). Records come out in time order, one day at a time.
export type Props = Record<string, string | number | boolean>;

export type GenRecord =
  /** a group identify: the properties it sets */
  | { kind: 'group'; time: number; groupType: string; groupValue: string; properties: Props }
  /** a user identify: user properties to set and the user's (user-level) groups */
  | { kind: 'identify'; time: number; userId: string; userProperties: Props; groups: Record<string, string[]> }
  /** an event; `groups` are event-level groups (the user's own groups are attached by the pipeline) */
  | { kind: 'event'; time: number; userId: string; eventType: string; eventProperties: Props; groups?: Record<string, string[]>; insertId: string };

export interface GenOptions {
  /** roughly how many events to generate (identifies and group identifies come on top) */
  events: number;
  /** the range: `days` days ending at `end` (exclusive; default: now, rounded down to the hour) */
  days?: number;
  end?: number;
  /** default: events / 500 (at least 8) */
  accounts?: number;
  /** default: events / 10 (at least 3 per account) */
  users?: number;
  seed?: number;
}

export const GROUP_TYPES = ['company', 'workspace', 'project'] as const;

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** mulberry32: small, fast, good enough for synthetic data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Account {
  id: string;
  props: Props;
  workspaces: string[];
  projects: string[];
  members: number[];
}

interface User {
  id: string;
  account: number;
  role: 'admin' | 'member' | 'viewer';
  workspaces: string[];
  /** when the user appears: before the range (existing) or inside it (signs up) */
  joinedAt: number;
  signsUp: boolean;
}

type Plan = 'free' | 'pro' | 'enterprise';
type Region = 'EU' | 'US' | 'APAC';
const SIZES = ['1-10', '11-50', '51-200', '201-1000', '1000+'] as const;
const INDUSTRIES = ['software', 'finance', 'retail', 'healthcare', 'education', 'manufacturing', 'media'] as const;
const NAMES_A = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Vandelay', 'Stark', 'Wayne', 'Tyrell', 'Soylent', 'Cyberdyne', 'Wonka'];
const NAMES_B = ['Corp', 'Labs', 'Systems', 'Industries', 'Group', 'Analytics', 'Cloud', 'Partners'];
const WORKSPACE_NAMES = ['Marketing', 'Sales', 'Engineering', 'Finance', 'Support', 'Operations'];

/** Product usage events and their relative frequency. */
const USAGE: [string, number][] = [
  ['Page Viewed', 34],
  ['Dashboard Viewed', 20],
  ['Search Performed', 12],
  ['Report Created', 8],
  ['Report Exported', 7],
  ['Comment Added', 8],
  ['File Uploaded', 6],
  ['Alert Configured', 3],
  ['Integration Connected', 2],
];
/** Usage events done inside one of the account's projects (event-level group). */
const IN_PROJECT = new Set(['Dashboard Viewed', 'Report Created', 'Report Exported', 'Comment Added', 'File Uploaded']);

function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)]!;
}

function weighted<T>(r: () => number, items: readonly [T, number][]): T {
  let total = 0;
  for (const [, w] of items) total += w;
  let x = r() * total;
  for (const [v, w] of items) {
    x -= w;
    if (x < 0) return v;
  }
  return items[items.length - 1]![0];
}

/** Index into a cumulative weight table. */
function pickCumulative(r: () => number, cumulative: Float64Array): number {
  const x = r() * cumulative[cumulative.length - 1]!;
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function eventProps(r: () => number, type: string): Props {
  switch (type) {
    case 'Page Viewed':
      return { page: pick(r, ['/home', '/dashboards', '/reports', '/settings', '/billing', '/integrations', '/search']), load_ms: Math.round(80 + r() * 900) };
    case 'Dashboard Viewed':
      return { dashboard_id: `d-${Math.floor(r() * 400)}`, widgets: 2 + Math.floor(r() * 12) };
    case 'Search Performed':
      return { results: Math.floor(r() * 60), query_length: 3 + Math.floor(r() * 25) };
    case 'Report Created':
      return { chart: pick(r, ['line', 'bar', 'funnel', 'retention', 'table']) };
    case 'Report Exported':
      return { format: pick(r, ['csv', 'pdf', 'png']), rows: Math.floor(r() * 5000) };
    case 'Comment Added':
      return { length: 5 + Math.floor(r() * 400), mentions: Math.floor(r() * 3) };
    case 'File Uploaded':
      return { size_kb: Math.floor(20 + r() * 20000), type: pick(r, ['csv', 'xlsx', 'json']) };
    case 'Alert Configured':
      return { channel: pick(r, ['email', 'slack', 'webhook']) };
    case 'Integration Connected':
      return { integration: pick(r, ['salesforce', 'hubspot', 'slack', 'snowflake', 'segment']) };
    default:
      return {};
  }
}

export interface DataSet {
  start: number;
  end: number;
  days: number;
  accounts: number;
  users: number;
  records(): Generator<GenRecord>;
}

export function dataSet(opts: GenOptions): DataSet {
  const events = Math.max(1, Math.floor(opts.events));
  const days = Math.max(1, Math.floor(opts.days ?? 30));
  const end = opts.end ?? Math.floor(Date.now() / HOUR) * HOUR;
  const start = end - days * DAY;
  const nAccounts = Math.max(8, Math.floor(opts.accounts ?? events / 500));
  const nUsers = Math.max(nAccounts * 3, Math.floor(opts.users ?? events / 10));
  const seed = opts.seed ?? 42;

  function build(): { accounts: Account[]; users: User[] } {
    const r = rng(seed);
    const accounts: Account[] = [];
    const weights = new Float64Array(nAccounts);
    let acc = 0;
    for (let i = 0; i < nAccounts; i++) {
      // Pareto-like account sizes: a few large accounts, many small ones
      const w = 1 / Math.pow(1 - r() * 0.999, 0.8);
      acc += w;
      weights[i] = acc;
      const sizeIdx = Math.min(SIZES.length - 1, Math.floor(Math.log2(w + 1)));
      const plan = weighted<Plan>(r, [['free', 5 - sizeIdx], ['pro', 3], ['enterprise', 0.5 + sizeIdx]]);
      const id = `acct-${i + 1}`;
      const nWs = 1 + Math.min(3, Math.floor(sizeIdx / 1.5 + r()));
      const nProj = 2 + Math.floor(r() * (2 + sizeIdx * 2));
      accounts.push({
        id,
        props: {
          name: `${pick(r, NAMES_A)} ${pick(r, NAMES_B)} ${i + 1}`,
          plan,
          region: weighted(r, [['US', 45], ['EU', 35], ['APAC', 20]] as [Region, number][]),
          size: SIZES[sizeIdx]!,
          industry: pick(r, INDUSTRIES),
          seats: Math.round(w * 3 + r() * 5),
        },
        workspaces: Array.from({ length: nWs }, (_, k) => `${id}/ws-${k + 1}`),
        projects: Array.from({ length: nProj }, (_, k) => `${id}/p-${k + 1}`),
        members: [],
      });
    }
    const users: User[] = [];
    for (let u = 0; u < nUsers; u++) {
      // every account gets at least one user; the rest follow account sizes
      const a = u < nAccounts ? u : pickCumulative(r, weights);
      const account = accounts[a]!;
      const first = account.members.length === 0;
      const role = first ? 'admin' : weighted<User['role']>(r, [['admin', 12], ['member', 63], ['viewer', 25]]);
      const ws = [pick(r, account.workspaces)];
      if (account.workspaces.length > 1 && r() < 0.3) {
        const other = pick(r, account.workspaces);
        if (other !== ws[0]) ws.push(other);
      }
      const signsUp = !first && r() < 0.15;
      users.push({ id: `user-${u + 1}`, account: a, role, workspaces: ws, signsUp, joinedAt: signsUp ? start + Math.floor(r() * (days * DAY - HOUR)) : start });
      account.members.push(u);
    }
    return { accounts, users };
  }

  function* records(): Generator<GenRecord> {
    const { accounts, users } = build();
    const r = rng(seed + 1);
    let seq = 0;
    const insertId = () => `gen-${seed}-${(seq++).toString(36)}`;
    const plans = accounts.map((a) => a.props.plan as string);

    // everything that exists when the range starts
    for (const a of accounts) {
      yield { kind: 'group', time: start, groupType: 'company', groupValue: a.id, properties: a.props };
      for (const [k, ws] of a.workspaces.entries()) {
        yield { kind: 'group', time: start, groupType: 'workspace', groupValue: ws, properties: { name: WORKSPACE_NAMES[k % WORKSPACE_NAMES.length]!, account: a.id } };
      }
    }
    const identify = (u: User, time: number): GenRecord => ({
      kind: 'identify',
      time,
      userId: u.id,
      userProperties: { role: u.role, locale: pick(r, ['en-US', 'en-GB', 'fr-FR', 'de-DE', 'ja-JP']), email_domain: `${accounts[u.account]!.id}.example` },
      groups: { company: [accounts[u.account]!.id], workspace: u.workspaces },
    });
    for (const u of users) if (!u.signsUp) yield identify(u, start);

    // activity: heavy users do most of the work
    const activity = new Float64Array(users.length);
    let acc = 0;
    for (let i = 0; i < users.length; i++) {
      acc += Math.pow(r(), 2.5) + 0.02;
      activity[i] = acc;
    }
    // the share of the event budget for sessions (funnels add the rest)
    const signups = users.filter((u) => u.signsUp);
    // about a quarter of the accounts that can upgrade start a trial (at least three, so small sets show it too)
    const upgradable = accounts.map((_, i) => i).filter((i) => plans[i] !== 'enterprise');
    const trialAccounts = upgradable.filter(() => r() < 0.25);
    for (const i of upgradable) if (trialAccounts.length < 3 && !trialAccounts.includes(i)) trialAccounts.push(i);
    const funnelEvents = signups.length * 2.2 + trialAccounts.length * 3 * 2.2;
    const sessionBudget = Math.max(0, events - funnelEvents);
    const dayWeight = (d: number) => ([0, 6].includes(new Date(start + d * DAY).getUTCDay()) ? 0.45 : 1.15);
    let totalWeight = 0;
    for (let d = 0; d < days; d++) totalWeight += dayWeight(d);

    // funnel schedules, by day
    const scheduled: GenRecord[][] = Array.from({ length: days }, () => []);
    const at = (t: number, rec: GenRecord) => {
      const d = Math.floor((t - start) / DAY);
      if (d >= 0 && d < days) scheduled[d]!.push(rec);
    };
    for (const u of signups) {
      const a = accounts[u.account]!;
      let t = u.joinedAt;
      at(t, identify(u, t));
      at(t + 1, { kind: 'event', time: t + 1, userId: u.id, eventType: 'Signed Up', eventProperties: { source: weighted(r, [['organic', 40], ['ads', 25], ['referral', 20], ['invite', 15]]) }, insertId: insertId() });
      const steps: [string, number, () => Props, boolean][] = [
        ['Project Created', 0.72, () => ({ template: pick(r, ['blank', 'marketing', 'sales', 'product']) }), true],
        ['Teammate Invited', 0.48, () => ({ invitees: 1 + Math.floor(r() * 4) }), false],
        ['Integration Connected', 0.42, () => eventProps(r, 'Integration Connected'), false],
      ];
      for (const [type, p, props, inProject] of steps) {
        if (r() >= p) break;
        t += Math.floor(60_000 + r() * r() * 2 * DAY);
        at(t, { kind: 'event', time: t, userId: u.id, eventType: type, eventProperties: props(), ...(inProject ? { groups: { project: [pick(r, a.projects)] } } : {}), insertId: insertId() });
      }
    }
    // account billing: a member starts a trial, an admin gets the invoice, someone pays, the plan goes up
    for (const [n, i] of trialAccounts.entries()) {
      const a = accounts[i]!;
      // the first one always goes all the way: every data set has a plan that changes mid-range
      const sure = n === 0;
      const member = (role?: User['role']) => {
        const pool = role ? a.members.filter((m) => users[m]!.role === role) : a.members;
        return users[pick(r, pool.length > 0 ? pool : a.members)]!;
      };
      let t = start + Math.floor(r() * (days / 2) * DAY);
      at(t, { kind: 'event', time: t, userId: member().id, eventType: 'Trial Started', eventProperties: { plan: plans[i] === 'free' ? 'pro' : 'enterprise' }, insertId: insertId() });
      if (!sure && r() >= 0.6) continue;
      t += Math.floor(DAY / 2 + r() * 2.5 * DAY);
      const amount = plans[i] === 'free' ? 49 * Number(a.props.seats) : 199 * Number(a.props.seats);
      at(t, { kind: 'event', time: t, userId: member('admin').id, eventType: 'Invoice Sent', eventProperties: { amount, currency: 'USD' }, insertId: insertId() });
      if (!sure && r() >= 0.75) continue;
      t += Math.floor(HOUR + r() * DAY);
      const payer = member(r() < 0.5 ? 'admin' : undefined);
      const plan = plans[i] === 'free' ? 'pro' : 'enterprise';
      at(t, { kind: 'event', time: t, userId: payer.id, eventType: 'Payment Received', eventProperties: { amount, currency: 'USD' }, insertId: insertId() });
      at(t + 1000, { kind: 'group', time: t + 1000, groupType: 'company', groupValue: a.id, properties: { plan } });
      at(t + 2000, { kind: 'event', time: t + 2000, userId: payer.id, eventType: 'Plan Upgraded', eventProperties: { from: plans[i]!, to: plan }, insertId: insertId() });
    }

    for (let d = 0; d < days; d++) {
      const dayStart = start + d * DAY;
      const budget = Math.round((sessionBudget * dayWeight(d)) / totalWeight);
      const out: GenRecord[] = scheduled[d]!;
      let n = 0;
      while (n < budget) {
        let ui = pickCumulative(r, activity);
        // sessions cluster around working hours (UTC-centred, spread by region)
        const t = dayStart + Math.floor(Math.min(DAY - 60_000, Math.max(0, (13 + (r() + r() + r() - 1.5) * 8) * HOUR)));
        if (users[ui]!.joinedAt > t) ui = pickCumulative(r, activity);
        const u = users[ui]!;
        if (u.joinedAt > t) continue;
        const a = accounts[u.account]!;
        const len = Math.min(budget - n, 1 + Math.floor(r() * r() * 9));
        let et = t;
        for (let k = 0; k < len && et < dayStart + DAY; k++) {
          const type = weighted(r, USAGE);
          out.push({ kind: 'event', time: et, userId: u.id, eventType: type, eventProperties: eventProps(r, type), ...(IN_PROJECT.has(type) ? { groups: { project: [pick(r, a.projects)] } } : {}), insertId: insertId() });
          et += 5_000 + Math.floor(r() * 240_000);
        }
        n += len;
      }
      out.sort((x, y) => x.time - y.time);
      for (const rec of out) if (rec.time < end) yield rec;
      scheduled[d] = [];
    }
  }

  return { start, end, days, accounts: nAccounts, users: nUsers, records };
}
