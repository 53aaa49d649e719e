// Microscope: the users or groups behind one data point of a chart (placeholder until the chart builders expose
// their member queries).
import type { Router } from 'express';
import type { ClickHouse } from '@groupscope/clickhouse';
import type { Logger } from '@groupscope/logger';
import type { ApiContext } from '../app';
import type { EventMatcher } from '../accounts/event-match';

export interface MicroscopeRoutesDeps {
  ch: ClickHouse;
  logger: Logger;
  matchEvents: EventMatcher;
  api: ApiContext;
  now?: () => number;
}

export function registerMicroscopeRoutes(_router: Router, _deps: MicroscopeRoutesDeps): void {}
