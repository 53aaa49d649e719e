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

  it('stores Segment group trait settings per project, validates them, and clears a field given as null', () => {
    const file = tmpFile();
    const reg = new ProjectRegistry(file);
    const a = reg.create('alpha');
    const b = reg.create('beta');
    expect(reg.byId(a.project_id)?.segment).toBeUndefined();
    expect(reg.setSegment(a.project_id, { group_type_trait: 'group_type', group_value_trait: 'name' })).toEqual({ group_type_trait: 'group_type', group_value_trait: 'name' });
    // another reader of the same file sees it; the other project is untouched
    expect(new ProjectRegistry(file).byId(a.project_id)?.segment).toEqual({ group_type_trait: 'group_type', group_value_trait: 'name' });
    expect(reg.byId(b.project_id)?.segment).toBeUndefined();
    expect(reg.setSegment(a.project_id, { group_value_trait: null })).toEqual({ group_type_trait: 'group_type' });
    expect(() => reg.setSegment(a.project_id, { group_type_trait: '' })).toThrow();
    expect(() => reg.setSegment(99, { group_type_trait: 'x' })).toThrow(/no project/);
    expect(reg.byId(a.project_id)?.segment).toEqual({ group_type_trait: 'group_type' });
  });
});
