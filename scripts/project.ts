// Project administration: create, rotate, list, Segment settings. Prints JSON.
//   npm run project:create -- --name NAME [--time-zone Europe/Paris]
//   npm run project:rotate -- --id N
//   npm run project:list
//   npm run project:segment -- --id N [--group-type-trait TRAIT] [--group-value-trait TRAIT] [--clear]
import { loadConfig, commonEnv, projectsFile } from '@groupscope/config';
import { ProjectRegistry } from '@groupscope/projects';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const cfg = loadConfig(commonEnv);
const registry = new ProjectRegistry(projectsFile(cfg));
const cmd = process.argv[2];

if (cmd === 'create') {
  const name = arg('name');
  if (!name) {
    console.error('usage: npm run project:create -- --name NAME [--time-zone TZ]');
    process.exit(2);
  }
  const keys = registry.create(name, { time_zone: arg('time-zone') });
  console.log(JSON.stringify({ project_id: keys.project_id, name: keys.name, api_key: keys.api_key, secret_key: keys.secret_key }));
} else if (cmd === 'rotate') {
  const id = Number(arg('id'));
  if (!Number.isInteger(id) || id <= 0) {
    console.error('usage: npm run project:rotate -- --id N');
    process.exit(2);
  }
  console.log(JSON.stringify(registry.rotate(id)));
} else if (cmd === 'list') {
  console.log(JSON.stringify(registry.list().map((p) => ({ project_id: p.id, name: p.name, api_key: p.api_key, time_zone: p.time_zone, segment: p.segment ?? {}, created_at: p.created_at }))));
} else if (cmd === 'segment') {
  // the traits of a Segment group call that name the group type and value (Segment's Amplitude Classic settings)
  const id = Number(arg('id'));
  const clear = process.argv.includes('--clear');
  const type = arg('group-type-trait');
  const value = arg('group-value-trait');
  if (!Number.isInteger(id) || id <= 0 || (!clear && type === undefined && value === undefined)) {
    console.error('usage: npm run project:segment -- --id N [--group-type-trait TRAIT] [--group-value-trait TRAIT] [--clear]');
    process.exit(2);
  }
  const settings = registry.setSegment(id, {
    group_type_trait: type ?? (clear ? null : undefined),
    group_value_trait: value ?? (clear ? null : undefined),
  });
  console.log(JSON.stringify({ project_id: id, segment: settings }));
} else {
  console.error('usage: project.ts create|rotate|list');
  process.exit(2);
}
