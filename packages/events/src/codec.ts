// Avro codec with schema fingerprints: every record carries the fingerprint of its writer schema in a header,
// so a consumer built with a newer reader schema resolves records written by an older producer.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';
import type { EnrichedEvent, GroupChange, GroupIdentifyRecord, IngestRecord } from './types';

export const SCHEMA_HEADER = 'gs-schema';

export class UnknownSchemaError extends Error {
  constructor(readonly fingerprint: string, readonly recordName: string) {
    super(`unknown writer schema ${fingerprint} for ${recordName}`);
  }
}
export class DecodeError extends Error {}

type Headers = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

function loadSchema(file: string): avro.Type {
  const json = JSON.parse(readFileSync(join(__dirname, 'schemas', file), 'utf8'));
  return avro.Type.forSchema(json, { wrapUnions: false });
}

export function fingerprintOf(type: avro.Type): string {
  return type.fingerprint('sha256').subarray(0, 8).toString('hex');
}

/**
 * One record type: `reader` is the schema this code writes and reads; `writers` are every schema version ever
 * written (the reader included), resolved by fingerprint.
 */
export class Codec<T> {
  readonly reader: avro.Type;
  readonly fingerprint: string;
  private readonly resolvers = new Map<string, avro.Type | avro.Resolver>();

  constructor(readonly name: string, readerFile: string, olderFiles: string[] = []) {
    this.reader = loadSchema(readerFile);
    this.fingerprint = fingerprintOf(this.reader);
    this.resolvers.set(this.fingerprint, this.reader);
    for (const f of olderFiles) this.addWriter(loadSchema(f));
  }

  /** Registers another writer schema (older or newer) that this reader can resolve. */
  addWriter(writer: avro.Type): void {
    const fp = fingerprintOf(writer);
    if (!this.resolvers.has(fp)) this.resolvers.set(fp, this.reader.createResolver(writer));
  }

  encode(record: T): Buffer {
    return this.reader.toBuffer(record);
  }

  headers(): Record<string, string> {
    return { [SCHEMA_HEADER]: this.fingerprint };
  }

  /** Decodes a record; the header names the writer schema (absent: the current one). */
  decode(value: Buffer, headers?: Headers): T {
    const raw = headers?.[SCHEMA_HEADER];
    const fp = raw === undefined ? this.fingerprint : String(Array.isArray(raw) ? raw[0] : raw);
    const resolver = this.resolvers.get(fp);
    if (!resolver) throw new UnknownSchemaError(fp, this.name);
    try {
      if (resolver === this.reader) return this.reader.fromBuffer(value) as T;
      return this.reader.fromBuffer(value, resolver as avro.Resolver) as T;
    } catch (err) {
      throw new DecodeError(`cannot decode ${this.name}: ${(err as Error).message}`);
    }
  }

  /** Encodes with a specific (e.g. older) writer schema: for tests of schema evolution. */
  static encodeWith(writerFile: string, record: unknown): { value: Buffer; headers: Record<string, string> } {
    const type = loadSchema(writerFile);
    return { value: type.toBuffer(record), headers: { [SCHEMA_HEADER]: fingerprintOf(type) } };
  }
}

/** The codecs of every record groupscope writes to Kafka, each able to read all earlier versions. */
export const codecs = {
  ingest: new Codec<IngestRecord>('IngestRecord', 'ingest-record.v3.avsc', ['ingest-record.v1.avsc', 'ingest-record.v2.avsc']),
  groupIdentify: new Codec<GroupIdentifyRecord>('GroupIdentifyRecord', 'group-identify.v4.avsc', ['group-identify.v1.avsc', 'group-identify.v2.avsc', 'group-identify.v3.avsc']),
  enriched: new Codec<EnrichedEvent>('EnrichedEvent', 'enriched-event.v1.avsc'),
  groupChange: new Codec<GroupChange>('GroupChange', 'group-change.v2.avsc', ['group-change.v1.avsc']),
};
