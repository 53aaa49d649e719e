// api_key -> project for the hot path. The registry file is re-read only when its mtime changes, checked on every
// unknown key (a project created a moment ago works at once) and at most every `checkMs` for known keys (a rotated
// key stops working within that time). A flood of made-up keys costs one stat() each, never a file parse.
import { statSync } from 'node:fs';
import type { Logger } from '@groupscope/logger';
import type { Project, ProjectRegistry } from '@groupscope/projects';

export class ProjectLookup {
  private index = new Map<string, Project>();
  private mtime = Number.NaN;
  private checkedAt = 0;

  constructor(
    private readonly registry: ProjectRegistry,
    private readonly logger: Logger,
    private readonly checkMs = 250,
  ) {
    this.refresh();
  }

  get(apiKey: string): Project | undefined {
    const p = this.index.get(apiKey);
    const now = Date.now();
    if (!p || now - this.checkedAt >= this.checkMs) {
      this.checkedAt = now;
      this.refresh();
      return this.index.get(apiKey);
    }
    return p;
  }

  private refresh(): void {
    let m: number;
    try {
      m = statSync(this.registry.file).mtimeMs;
    } catch {
      m = -1;
    }
    if (m === this.mtime) return;
    try {
      this.registry.reload(true);
      this.index = new Map(this.registry.list().map((p) => [p.api_key, p]));
      this.mtime = m;
    } catch (err) {
      // a file being replaced or hand-edited badly: keep serving the last good index, try again next time
      this.logger.warn({ err, file: this.registry.file }, 'project_registry_reload_failed');
    }
  }
}
