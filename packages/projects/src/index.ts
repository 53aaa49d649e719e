// The project registry: projects, their ingestion api_key and hashed query secret, and per-project settings.
// Stored as one JSON file written atomically; every reader notices changes within about a second, so a project
// created while the stack runs is usable at once, without a restart.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

export const throttleSchema = z.object({
  enabled: z.boolean().default(false),
  /** /2/httpapi: events per second per user or device */
  httpapi_eps: z.number().positive().default(30),
  /** /batch: events per second per user or device, averaged over 30 s */
  batch_eps: z.number().positive().default(1000),
});

/**
 * Segment's Amplitude (Classic) destination settings "Amplitude Group Type Trait" / "Amplitude Group Value Trait":
 * which traits of a Segment `group` call name the group type and the group value. Unset: every group call maps
 * to the type "[Segment] Group" with the groupId as value.
 */
export const segmentSettingsSchema = z.object({
  group_type_trait: z.string().min(1).max(1024).optional(),
  group_value_trait: z.string().min(1).max(1024).optional(),
});
export type SegmentSettings = z.infer<typeof segmentSettingsSchema>;

const projectSchema = z.object({
  id: z.number().int().positive(),
  name: z.string().min(1),
  api_key: z.string(),
  secret_salt: z.string(),
  secret_hash: z.string(),
  time_zone: z.string().default('UTC'),
  throttle: throttleSchema.default({ enabled: false, httpapi_eps: 30, batch_eps: 1000 }),
  segment: segmentSettingsSchema.optional(),
  created_at: z.string(),
  rotated_at: z.string().optional(),
});
export type Project = z.infer<typeof projectSchema>;

const fileSchema = z.object({ version: z.literal(1), projects: z.array(projectSchema) });
type RegistryFile = z.infer<typeof fileSchema>;

export interface NewKeys {
  project_id: number;
  name: string;
  api_key: string;
  secret_key: string;
}

const hashSecret = (salt: string, secret: string) => createHash('sha256').update(salt).update(secret).digest('hex');
const newKey = () => randomBytes(16).toString('hex');

export class ProjectRegistry {
  private data: RegistryFile = { version: 1, projects: [] };
  private byKey = new Map<string, Project>();
  private mtimeMs = -1;
  private checkedAt = 0;

  constructor(readonly file: string, private readonly refreshMs = 1000) {
    this.reload(true);
  }

  /** Re-reads the file if it changed (at most once per refreshMs unless forced). */
  reload(force = false): void {
    const now = Date.now();
    if (!force && now - this.checkedAt < this.refreshMs) return;
    this.checkedAt = now;
    if (!existsSync(this.file)) {
      this.data = { version: 1, projects: [] };
      this.index();
      return;
    }
    const mtime = statSync(this.file).mtimeMs;
    if (!force && mtime === this.mtimeMs) return;
    this.data = fileSchema.parse(JSON.parse(readFileSync(this.file, 'utf8')));
    this.mtimeMs = mtime;
    this.index();
  }

  private index(): void {
    this.byKey = new Map(this.data.projects.map((p) => [p.api_key, p]));
  }

  list(): Project[] {
    this.reload();
    return [...this.data.projects];
  }

  byApiKey(apiKey: string): Project | undefined {
    this.reload();
    let p = this.byKey.get(apiKey);
    if (!p) {
      // a key we do not know may belong to a project created a moment ago
      this.reload(true);
      p = this.byKey.get(apiKey);
    }
    return p;
  }

  byId(id: number): Project | undefined {
    this.reload();
    return this.data.projects.find((p) => p.id === id);
  }

  /** Checks api_key:secret_key (the query API's Basic auth); constant-time on the secret. */
  authenticate(apiKey: string, secretKey: string): Project | undefined {
    const p = this.byApiKey(apiKey);
    if (!p) return undefined;
    const want = Buffer.from(p.secret_hash, 'hex');
    const got = Buffer.from(hashSecret(p.secret_salt, secretKey), 'hex');
    return want.length === got.length && timingSafeEqual(want, got) ? p : undefined;
  }

  create(name: string, opts: { time_zone?: string; throttle?: Partial<Project['throttle']> } = {}): NewKeys {
    return this.update((file) => {
      const id = file.projects.reduce((m, p) => Math.max(m, p.id), 0) + 1;
      const api_key = newKey();
      const secret_key = newKey();
      const salt = randomBytes(8).toString('hex');
      file.projects.push(
        projectSchema.parse({
          id,
          name,
          api_key,
          secret_salt: salt,
          secret_hash: hashSecret(salt, secret_key),
          time_zone: opts.time_zone ?? 'UTC',
          throttle: throttleSchema.parse(opts.throttle ?? {}),
          created_at: new Date().toISOString(),
        }),
      );
      return { project_id: id, name, api_key, secret_key };
    });
  }

  /** Replaces a project's api_key and secret_key; the old ones stop working at once. */
  rotate(id: number): NewKeys {
    return this.update((file) => {
      const p = file.projects.find((x) => x.id === id);
      if (!p) throw new Error(`no project with id ${id}`);
      const secret_key = newKey();
      p.api_key = newKey();
      p.secret_salt = randomBytes(8).toString('hex');
      p.secret_hash = hashSecret(p.secret_salt, secret_key);
      p.rotated_at = new Date().toISOString();
      return { project_id: p.id, name: p.name, api_key: p.api_key, secret_key };
    });
  }

  setThrottle(id: number, throttle: Partial<Project['throttle']>): void {
    this.update((file) => {
      const p = file.projects.find((x) => x.id === id);
      if (!p) throw new Error(`no project with id ${id}`);
      p.throttle = throttleSchema.parse({ ...p.throttle, ...throttle });
    });
  }

  /** Replaces a project's Segment settings; a field given as null is cleared. */
  setSegment(id: number, settings: { [K in keyof SegmentSettings]?: string | null }): SegmentSettings {
    return this.update((file) => {
      const p = file.projects.find((x) => x.id === id);
      if (!p) throw new Error(`no project with id ${id}`);
      const merged: Record<string, unknown> = { ...p.segment };
      for (const [k, v] of Object.entries(settings)) {
        if (v === null) delete merged[k];
        else if (v !== undefined) merged[k] = v;
      }
      p.segment = segmentSettingsSchema.parse(merged);
      return p.segment;
    });
  }

  /** Read-modify-write under an exclusive lock file, then an atomic rename. */
  private update<T>(fn: (file: RegistryFile) => T): T {
    mkdirSync(dirname(this.file), { recursive: true });
    const lock = `${this.file}.lock`;
    let fd = -1;
    const deadline = Date.now() + 5000;
    while (fd < 0) {
      try {
        fd = openSync(lock, 'wx');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || Date.now() > deadline) throw err;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
    try {
      this.reload(true);
      const copy = structuredClone(this.data);
      const result = fn(copy);
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(copy, null, 2) + '\n', { mode: 0o600 });
      renameSync(tmp, this.file);
      this.reload(true);
      return result;
    } finally {
      closeSync(fd);
      unlinkSync(lock);
    }
  }
}
