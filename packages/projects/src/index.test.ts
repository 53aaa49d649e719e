import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProjectRegistry } from './index';

const tmpFile = () => join(mkdtempSync(join(tmpdir(), 'gs-projects-')), 'projects.json');

describe('ProjectRegistry', () => {
  it('creates projects with unique ids and keys, and authenticates only the right secret', () => {
    const reg = new ProjectRegistry(tmpFile());
    const a = reg.create('alpha');
    const b = reg.create('beta');
    expect(a.project_id).toBe(1);
    expect(b.project_id).toBe(2);
    expect(a.api_key).not.toEqual(b.api_key);
    expect(reg.authenticate(a.api_key, a.secret_key)?.id).toBe(1);
    expect(reg.authenticate(a.api_key, b.secret_key)).toBeUndefined();
    expect(reg.authenticate('nope', a.secret_key)).toBeUndefined();
  });

  it('stores only a hash of the secret', () => {
    const file = tmpFile();
    const reg = new ProjectRegistry(file);
    const a = reg.create('alpha');
    const text = require('node:fs').readFileSync(file, 'utf8') as string;
    expect(text).toContain(a.api_key);
    expect(text).not.toContain(a.secret_key);
  });

  it('sees a project created by another process-level instance without a restart', () => {
    const file = tmpFile();
    const reader = new ProjectRegistry(file, 60_000);
    const writer = new ProjectRegistry(file);
    const p = writer.create('late');
    expect(reader.byApiKey(p.api_key)?.name).toBe('late');
  });

  it('rotates keys: the old ones stop working', () => {
    const reg = new ProjectRegistry(tmpFile());
    const a = reg.create('alpha');
    const r = reg.rotate(a.project_id);
    expect(reg.byApiKey(a.api_key)).toBeUndefined();
    expect(reg.authenticate(r.api_key, r.secret_key)?.id).toBe(a.project_id);
    expect(reg.authenticate(r.api_key, a.secret_key)).toBeUndefined();
  });
});
