import { DefinitionError, parseDynamicDefinition } from './definition';

const base = () => ({
  group_type: 'company',
  name: 'Last 7 Day Active Users',
  metric: { e: { event_type: '_active' }, m: 'uniques' },
  window: { type: 'rolling', days: 7 },
});

describe('parseDynamicDefinition', () => {
  it('accepts a rolling uniques metric and copies it', () => {
    const body = base();
    const def = parseDynamicDefinition(body);
    expect(def).toEqual({ group_type: 'company', name: 'Last 7 Day Active Users', metric: { e: { event_type: '_active' }, m: 'uniques' }, window: { type: 'rolling', days: 7 } });
    body.metric.e.event_type = 'changed later';
    expect(def.metric.e.event_type).toBe('_active');
  });

  it('accepts calendar windows, totals, and a one-element series list', () => {
    const def = parseDynamicDefinition({ ...base(), metric: { e: [{ event_type: 'Invoice Sent', filters: [] }], m: 'totals' }, window: { type: 'calendar', unit: 'month' } });
    expect(def.metric).toEqual({ e: { event_type: 'Invoice Sent', filters: [] }, m: 'totals' });
    expect(def.window).toEqual({ type: 'calendar', unit: 'month' });
  });

  it.each([
    ['frequency metric', { metric: { e: { event_type: 'x' }, m: 'frequency' } }, 'metric.m', 'unsupported_metric'],
    ['property distribution', { metric: { e: { event_type: 'x' }, m: 'histogram' } }, 'metric.m', 'unsupported_metric'],
    ['property sums', { metric: { e: { event_type: 'x' }, m: 'sums' } }, 'metric.m', 'unsupported_metric'],
    ['formula', { metric: { e: { event_type: 'x' }, m: 'uniques', formula: 'UNIQUES(A)/2' } }, 'metric.m', 'unsupported_metric'],
    ['two series', { metric: { e: [{ event_type: 'x' }, { event_type: 'y' }], m: 'uniques' } }, 'metric.e', 'unsupported_metric'],
    ['second event', { metric: { e: { event_type: 'x' }, e2: { event_type: 'y' }, m: 'uniques' } }, 'metric', 'unsupported_metric'],
    ['group-by', { metric: { e: { event_type: 'x', group_by: [{ type: 'event', value: 'a' }] }, m: 'uniques' } }, 'metric.e.group_by', 'unsupported_metric'],
    ['fixed window', { window: { type: 'fixed', start: '20261101', end: '20261130' } }, 'window', 'unsupported_window'],
    ['start/end on the body', { start: '20261101', end: '20261130' }, 'window', 'unsupported_window'],
    ['unknown metric', { metric: { e: { event_type: 'x' }, m: 'bogus' } }, 'metric.m', 'invalid_definition'],
    ['group-level metric', { metric: { e: { event_type: 'x' }, m: 'uniques', countGroup: 'company' } }, 'metric.countGroup', 'invalid_definition'],
    ['no event', { metric: { m: 'uniques' } }, 'metric.e', 'invalid_definition'],
    ['no name', { name: ' ' }, 'name', 'invalid_definition'],
    ['$ name', { name: '$set' }, 'name', 'invalid_definition'],
    ['no group type', { group_type: '' }, 'group_type', 'invalid_definition'],
    ['bad days', { window: { type: 'rolling', days: 0 } }, 'window.days', 'invalid_definition'],
    ['fractional days', { window: { type: 'rolling', days: 1.5 } }, 'window.days', 'invalid_definition'],
    ['bad unit', { window: { type: 'calendar', unit: 'year' } }, 'window.unit', 'invalid_definition'],
  ])('rejects %s', (_label, patch, param, code) => {
    try {
      parseDynamicDefinition({ ...base(), ...patch });
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(DefinitionError);
      expect((err as DefinitionError).param).toBe(param);
      expect((err as DefinitionError).code).toBe(code);
    }
  });
});
