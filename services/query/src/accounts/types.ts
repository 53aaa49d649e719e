import type { Request } from 'express';
import type { Project } from '@groupscope/projects';

/** The project a request authenticated as (the app's auth middleware has run before these routes). */
export type ProjectOf = (req: Request) => Pick<Project, 'id' | 'time_zone'>;
