import { LineBuffer } from './lines';
import { eventRows, EVENT_INPUT } from '@groupscope/schema';
import { enrichedEvent } from '@groupscope/testing';

describe('LineBuffer', () => {
  it('keeps lines as bytes, slices them, and flips their want digit in place', () => {
    const b = new LineBuffer(16); // tiny: forces growth
    const lines = Array.from({ length: 50 }, (_, i) => {
      const out = eventRows(enrichedEvent(i, { event_properties: JSON.stringify({ note: `ünïcødé ${'€'.repeat(i)}` }) }), 1, 100 + i);
      if (out.kind !== 'ok') throw new Error(out.error);
      b.append(out.value.line, 100 + i, out.value.month, out.value.groupRows);
      return out.value.line;
    });
    expect(b.length).toBe(50);
    expect(b.bytes).toBe(Buffer.byteLength(lines.join('')));
    expect(b.slice(0, 50).toString()).toBe(lines.join(''));
    expect(b.slice(10, 12).toString()).toBe(lines[10]! + lines[11]!);
    expect(b.offsets.slice(0, 3)).toEqual([100, 101, 102]);
    expect(b.groupRows[0]).toBe(2);
    b.setWant(10, 2);
    b.setWant(11, 0);
    expect([b.want(10), b.want(11), b.want(12)]).toEqual([2, 0, 3]);
    const parsed = b.slice(10, 13).toString().trim().split('\n').map((l) => JSON.parse(l) as unknown[]);
    expect(parsed.map((v) => v[EVENT_INPUT.length - 1])).toEqual([2, 0, 3]);
    expect(parsed[0]![9]).toEqual({ note: `ünïcødé ${'€'.repeat(10)}` });
    expect(b.byteLengthOf(10)).toBe(Buffer.byteLength(lines[10]!));
  });
});
