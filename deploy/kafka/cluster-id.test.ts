import { randomBytes } from 'node:crypto';

const { clusterId } = require('./cluster-id') as { clusterId(random?: (n: number) => Buffer): string };

describe('clusterId', () => {
  it('makes 10,000 distinct 16-byte base64url ids, none starting with "-"', () => {
    const ids = Array.from({ length: 10_000 }, () => clusterId());
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    }
  });

  it('draws again when the bytes would give an id starting with "-"', () => {
    // a first byte of 0xf8..0xfb encodes to '-' in base64url
    const leadingDash = Buffer.alloc(16, 0xf8);
    expect(leadingDash.toString('base64url')).toMatch(/^-/);
    const good = randomBytes(16);
    good[0] = 0x00;
    const draws = [leadingDash, leadingDash, good];
    const id = clusterId(() => draws.shift()!);
    expect(id).toBe(good.toString('base64url'));
    expect(draws).toHaveLength(0);
  });
});
