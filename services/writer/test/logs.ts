import { Writable } from 'node:stream';
import pino from 'pino';

/** A logger whose lines a test reads (a writer's log events are its account of what it did). */
export function capturingLogger() {
  const lines: { msg: string; [k: string]: unknown }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as { msg: string });
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines, saw: (msg: string) => lines.filter((l) => l.msg === msg) };
}
