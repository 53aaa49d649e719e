// The page of the analytics-next end-to-end test: Segment's browser library bundled as a site bundles it, loaded
// with the options the page's query string gives, and a few calls the test makes through `globalThis.segmentTest`.
// It runs in the browser; it reaches the page's globals through globalThis because the test's TypeScript settings
// have no DOM library.
import { AnalyticsBrowser, type Context, type InitOptions } from '@segment/analytics-next';

type Props = Record<string, string | number | boolean>;

/** What the test calls; each resolves with `delivered` once the library handed the call on, else with the failure. */
export interface SegmentTestPage {
  /** resolves once the settings are loaded and the library is ready */
  ready(): Promise<void>;
  identify(userId: string, traits: Props): Promise<string>;
  group(groupId: string, traits: Props): Promise<string>;
  track(event: string, properties: Props): Promise<string>;
  page(): Promise<string>;
  /** the ids the library keeps for the visitor (cookies and localStorage) */
  ids(): Promise<{ userId: string | null; anonymousId: string | null }>;
}

const query = new URLSearchParams((globalThis as unknown as { location: { search: string } }).location.search);
const writeKey = query.get('writeKey') ?? '';
const cdnURL = query.get('cdnURL') ?? '';
// batching mode as "size,timeout" (events per request, ms before a partial batch goes)
const batching = query.get('batching')?.split(',').map(Number);

const options: InitOptions = batching
  ? { integrations: { 'Segment.io': { deliveryStrategy: { strategy: 'batching', config: { size: batching[0]!, timeout: batching[1]! } } } } }
  : {};
const analytics = AnalyticsBrowser.load({ writeKey, cdnURL }, options);

const outcome = (ctx: Context) => {
  const failed = ctx.failedDelivery();
  return failed ? `failed: ${String(failed.reason)}` : 'delivered';
};

const calls: SegmentTestPage = {
  ready: async () => {
    await analytics.ready();
  },
  identify: async (userId, traits) => outcome(await analytics.identify(userId, traits)),
  group: async (groupId, traits) => outcome(await analytics.group(groupId, traits)),
  track: async (event, properties) => outcome(await analytics.track(event, properties)),
  page: async () => outcome(await analytics.page()),
  ids: async () => {
    const [instance] = await analytics;
    const user = instance.user();
    return { userId: user.id() ?? null, anonymousId: user.anonymousId() ?? null };
  },
};
(globalThis as unknown as { segmentTest: SegmentTestPage }).segmentTest = calls;
