// Encoded event lines of one partition, kept as UTF-8 bytes while they wait for a flush. Tens of thousands of
// buffered lines held as JS strings (ropes of their pieces) cost more in garbage collection than building them;
// as bytes they are one growing Buffer outside the JS heap, and an insert body is a few slices of it.
import { WANT_FROM_END } from '@groupscope/schema';

export class LineBuffer {
  private buf: Buffer;
  private used = 0;
  /** per line: its Kafka offset, toYYYYMM(event_time), event_groups rows, and the byte where it ends */
  readonly offsets: number[] = [];
  readonly months: number[] = [];
  readonly groupRows: number[] = [];
  private readonly ends: number[] = [];

  constructor(initialBytes = 256 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.ends.length;
  }

  get bytes(): number {
    return this.used;
  }

  append(line: string, offset: number, month: number, groupRows: number): void {
    const most = line.length * 3; // UTF-8 bytes of a JS string are at most 3 per UTF-16 unit
    if (this.used + most > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.used + most));
      this.buf.copy(next, 0, 0, this.used);
      this.buf = next;
    }
    this.used += this.buf.write(line, this.used, 'utf8');
    this.ends.push(this.used);
    this.offsets.push(offset);
    this.months.push(month);
    this.groupRows.push(groupRows);
  }

  /** Sets line i's `want` digit (0..3). */
  setWant(i: number, want: number): void {
    this.buf[this.ends[i]! - WANT_FROM_END] = 0x30 + want;
  }

  want(i: number): number {
    return this.buf[this.ends[i]! - WANT_FROM_END]! - 0x30;
  }

  /** Bytes of lines [from, to), without copying. */
  slice(from: number, to: number): Buffer {
    return this.buf.subarray(from === 0 ? 0 : this.ends[from - 1]!, this.ends[to - 1]!);
  }

  byteLengthOf(i: number): number {
    return this.ends[i]! - (i === 0 ? 0 : this.ends[i - 1]!);
  }
}
