// The chart builder: every part of a ChartState as a labelled control. It only edits state; the screen keeps the
// state in the URL and asks the API.
import { ActionIcon, Button, Divider, Group, NativeSelect, NumberInput, SegmentedControl, Stack, Text, TextInput } from '@mantine/core';
import { useCohortList, useGroupTypes } from '../../app/data';
import {
  FUNNEL_MODES, MAX_STEPS, RETENTION_INTERVALS, fromIsoDate, needsValueProp, toIsoDate, withChart, ymd,
  type ChartKind, type ChartState, type EventSpec, type Filter, type GroupBy, type Segment,
} from '../../charts/state';
import { EventPicker, OpSelect, PropertyPicker, SuggestionsNotice, ValuesInput, kindOptions, propKind } from './pickers';

type SetState = (next: ChartState) => void;

const KIND_LABELS: Record<ChartKind, string> = { segmentation: 'Segmentation', funnels: 'Funnel', retention: 'Retention' };
const INTERVAL_LABELS: Record<string, string> = { '-3600000': 'Hourly', '1': 'Daily', '7': 'Weekly', '30': 'Monthly' };
const METRIC_LABELS: Record<string, string> = {
  uniques: 'Uniques',
  totals: 'Event totals',
  average: 'Average (totals per unique)',
  sums: 'Sum of a property',
  value_avg: 'Average of a property',
};
const MODE_LABELS: Record<string, string> = { ordered: 'This order', unordered: 'Any order', sequential: 'Exact order (no other events between)' };

function Section({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <section aria-label={title}>
      <Text fw={600} size="sm" mb={4}>
        {title}
      </Text>
      <Stack gap={6}>{children}</Stack>
    </section>
  );
}

const RemoveButton = ({ label, onClick }: { label: string; onClick: () => void }) => (
  <ActionIcon variant="subtle" color="gray" aria-label={label} title={label} onClick={onClick} mb={2}>
    ×
  </ActionIcon>
);

function FilterRow({ name, filter, eventType, groupTypes, onChange, onRemove }: { name: string; filter: Filter; eventType: string; groupTypes: string[]; onChange: (f: Filter) => void; onRemove: () => void }) {
  const kind = filter.type === 'group' ? `group:${filter.groupType}` : filter.type;
  const pk = propKind(kind, eventType);
  return (
    <Stack gap={4} pl="sm" style={{ borderLeft: '2px solid var(--mantine-color-gray-3)' }}>
      <Group gap={4} align="flex-end" wrap="nowrap">
        <NativeSelect
          label={`${name} kind`}
          size="xs"
          value={kind}
          data={kindOptions(groupTypes, true)}
          onChange={(e) => {
            const v = e.currentTarget.value;
            onChange(v.startsWith('group:') ? { ...filter, type: 'group', groupType: v.slice(6), key: '', values: [] } : { type: v as 'event' | 'user', key: '', op: filter.op, values: [] });
          }}
        />
        <PropertyPicker label={`${name} property`} kind={pk} value={filter.key} onChange={(key) => onChange({ ...filter, key })} placeholder={filter.type === 'group' ? `(the ${filter.groupType} itself)` : 'Property'} />
        <RemoveButton label={`Remove ${name.toLowerCase()}`} onClick={onRemove} />
      </Group>
      <Group gap={4} align="flex-start" wrap="nowrap" grow>
        <OpSelect label={`${name} operator`} value={filter.op} onChange={(op) => onChange({ ...filter, op })} />
        <ValuesInput label={`${name} values`} kind={pk} name={filter.key} value={filter.values} onChange={(values) => onChange({ ...filter, values })} />
      </Group>
    </Stack>
  );
}

function EventEditor({ name, spec, specials, groupTypes, onChange, onRemove }: { name: string; spec: EventSpec; specials?: string[]; groupTypes: string[]; onChange: (e: EventSpec) => void; onRemove?: () => void }) {
  const setFilter = (i: number, f: Filter | null) => onChange({ ...spec, filters: f ? spec.filters.map((x, j) => (j === i ? f : x)) : spec.filters.filter((_, j) => j !== i) });
  return (
    <Stack gap={4}>
      <Group gap={4} align="flex-end" wrap="nowrap">
        <div style={{ flex: 1 }}>
          <EventPicker label={name} value={spec.event} onChange={(event) => onChange({ ...spec, event })} specials={specials} />
        </div>
        {onRemove && <RemoveButton label={`Remove ${name.toLowerCase()}`} onClick={onRemove} />}
      </Group>
      {spec.filters.map((f, i) => (
        <FilterRow key={i} name={`${name} filter ${i + 1}`} filter={f} eventType={spec.event} groupTypes={groupTypes} onChange={(x) => setFilter(i, x)} onRemove={() => setFilter(i, null)} />
      ))}
      <Button size="compact-xs" variant="subtle" style={{ alignSelf: 'flex-start' }} onClick={() => onChange({ ...spec, filters: [...spec.filters, { type: 'event', key: '', op: 'is', values: [] }] })} aria-label={`Add a filter to ${name.toLowerCase()}`}>
        + Filter
      </Button>
    </Stack>
  );
}

/** A group-by as one select value: 'event', 'user', 'group:<type>' (a property) or 'value:<type>' (the group itself). */
function groupByKind(g: GroupBy): string {
  if (g.type === 'group') return g.key === undefined ? `value:${g.groupType}` : `group:${g.groupType}`;
  return g.type;
}

function GroupByRow({ name, g, groupTypes, withEvent, eventType, onChange, onRemove }: { name: string; g: GroupBy; groupTypes: string[]; withEvent: boolean; eventType: string; onChange: (g: GroupBy) => void; onRemove: () => void }) {
  const kind = groupByKind(g);
  const options = [...kindOptions(groupTypes, withEvent), ...groupTypes.map((t) => ({ value: `value:${t}`, label: `${t} (each ${t})` }))];
  return (
    <Group gap={4} align="flex-end" wrap="nowrap">
      <NativeSelect
        label={`${name} kind`}
        size="xs"
        value={kind}
        data={options}
        onChange={(e) => {
          const v = e.currentTarget.value;
          if (v.startsWith('value:')) onChange({ type: 'group', groupType: v.slice(6) });
          else if (v.startsWith('group:')) onChange({ type: 'group', groupType: v.slice(6), key: '' });
          else onChange({ type: v as 'event' | 'user', key: '' });
        }}
      />
      {!kind.startsWith('value:') && <PropertyPicker label={`${name} property`} kind={propKind(kind, eventType)} value={g.key ?? ''} onChange={(key) => onChange({ ...g, key })} />}
      <RemoveButton label={`Remove ${name.toLowerCase()}`} onClick={onRemove} />
    </Group>
  );
}

/** A segment's kind: 'user', 'group:<type>' or 'cohort'; its property name as the API writes it. */
function segmentKind(s: Segment): { kind: string; key: string } {
  if (s.prop === 'cohort') return { kind: 'cohort', key: '' };
  const m = /^group:([^:]+):(.*)$/.exec(s.prop);
  if (m) return { kind: `group:${m[1]}`, key: m[2]! };
  return { kind: 'user', key: s.prop };
}

function SegmentRow({ name, s, groupTypes, onChange, onRemove }: { name: string; s: Segment; groupTypes: string[]; onChange: (s: Segment) => void; onRemove: () => void }) {
  const { kind, key } = segmentKind(s);
  const cohorts = useCohortList();
  const propName = (k: string) => (kind.startsWith('group:') ? `${kind}:${k}` : k);
  const kindSelect = (
    <NativeSelect
      label={`${name} kind`}
      size="xs"
      value={kind}
      data={[...kindOptions(groupTypes, false), { value: 'cohort', label: 'Cohort' }]}
      onChange={(e) => {
        const v = e.currentTarget.value;
        onChange({ prop: v === 'cohort' ? 'cohort' : v.startsWith('group:') ? `${v}:` : '', op: 'is', values: [] });
      }}
    />
  );
  if (kind === 'cohort') {
    const list = cohorts.data?.cohorts ?? [];
    const chosen = s.values[0] ?? '';
    const options = [{ value: '', label: cohorts.loading ? 'Loading cohorts…' : cohorts.error ? `Cohorts unavailable: ${cohorts.error}` : 'Choose a cohort' }];
    for (const c of list) options.push({ value: c.id, label: `${c.name} (${c.countGroup === 'User' ? 'users' : c.countGroup}, ${c.size})` });
    if (chosen && !list.some((c) => c.id === chosen)) options.push({ value: chosen, label: `cohort ${chosen}` });
    return (
      <Stack gap={4} pl="sm" style={{ borderLeft: '2px solid var(--mantine-color-gray-3)' }}>
        <Group gap={4} align="flex-end" wrap="nowrap">
          {kindSelect}
          <RemoveButton label={`Remove ${name.toLowerCase()}`} onClick={onRemove} />
        </Group>
        <Group gap={4} wrap="nowrap" grow>
          <OpSelect label={`${name} operator`} value={s.op} ops={['is', 'is not']} onChange={(op) => onChange({ ...s, op })} />
          <NativeSelect label={`${name} cohort`} size="xs" value={chosen} data={options} onChange={(e) => onChange({ ...s, values: e.currentTarget.value ? [e.currentTarget.value] : [] })} />
        </Group>
      </Stack>
    );
  }
  const pk = propKind(kind);
  return (
    <Stack gap={4} pl="sm" style={{ borderLeft: '2px solid var(--mantine-color-gray-3)' }}>
      <Group gap={4} align="flex-end" wrap="nowrap">
        {kindSelect}
        <PropertyPicker label={`${name} property`} kind={pk} value={key} onChange={(k) => onChange({ ...s, prop: propName(k) })} />
        <RemoveButton label={`Remove ${name.toLowerCase()}`} onClick={onRemove} />
      </Group>
      <Group gap={4} align="flex-start" wrap="nowrap" grow>
        <OpSelect label={`${name} operator`} value={s.op} onChange={(op) => onChange({ ...s, op })} />
        <ValuesInput label={`${name} values`} kind={pk} name={key} value={s.values} onChange={(values) => onChange({ ...s, values })} />
      </Group>
    </Stack>
  );
}

const CS_UNITS = [
  { value: '60', label: 'minutes' },
  { value: '3600', label: 'hours' },
  { value: '86400', label: 'days' },
];

function ConversionWindow({ cs, onChange }: { cs: number; onChange: (cs: number) => void }) {
  const unit = cs % 86_400 === 0 ? 86_400 : cs % 3600 === 0 ? 3600 : 60;
  return (
    <Group gap={4} grow wrap="nowrap" align="flex-end">
      <NumberInput label="Conversion window" size="xs" min={1} value={Math.max(1, Math.round(cs / unit))} onChange={(v) => typeof v === 'number' && v >= 1 && onChange(Math.round(v) * unit)} />
      <NativeSelect label="Conversion window unit" size="xs" value={String(unit)} data={CS_UNITS} onChange={(e) => onChange(Math.max(1, Math.round(cs / unit)) * Number(e.currentTarget.value))} />
    </Group>
  );
}

function DateRange({ state, set }: { state: ChartState; set: SetState }) {
  const last = (days: number) => {
    const now = Date.now();
    set({ ...state, start: ymd(now - (days - 1) * 86_400_000), end: ymd(now) });
  };
  return (
    <>
      <Group gap={4} grow wrap="nowrap">
        <TextInput type="date" label="Start date" size="xs" value={toIsoDate(state.start)} onChange={(e) => fromIsoDate(e.currentTarget.value) && set({ ...state, start: fromIsoDate(e.currentTarget.value) })} />
        <TextInput type="date" label="End date" size="xs" value={toIsoDate(state.end)} onChange={(e) => fromIsoDate(e.currentTarget.value) && set({ ...state, end: fromIsoDate(e.currentTarget.value) })} />
      </Group>
      <Group gap={4}>
        {[7, 30, 90].map((d) => (
          <Button key={d} size="compact-xs" variant="default" onClick={() => last(d)}>
            Last {d} days
          </Button>
        ))}
      </Group>
    </>
  );
}

export function Builder({ state, set }: { state: ChartState; set: SetState }) {
  const { types: groupTypes, error: typesError } = useGroupTypes();
  const countOptions = [{ value: 'User', label: 'Users' }, ...groupTypes.map((t) => ({ value: t, label: t }))];
  if (!countOptions.some((o) => o.value === state.countGroup)) countOptions.push({ value: state.countGroup, label: state.countGroup });
  const setEvent = (i: number, e: EventSpec | null) => set({ ...state, events: e ? state.events.map((x, j) => (j === i ? e : x)) : state.events.filter((_, j) => j !== i) });
  const setGroupBy = (i: number, g: GroupBy | null) => set({ ...state, groupBy: g ? state.groupBy.map((x, j) => (j === i ? g : x)) : state.groupBy.filter((_, j) => j !== i) });
  const setSegment = (i: number, s: Segment | null) => set({ ...state, segments: s ? state.segments.map((x, j) => (j === i ? s : x)) : state.segments.filter((_, j) => j !== i) });
  const maxGroupBy = state.chart === 'segmentation' ? 2 : 1;
  const firstEvent = state.events[0]?.event ?? '';

  return (
    <Stack gap="md">
      <SegmentedControl
        aria-label="Chart type"
        fullWidth
        value={state.chart}
        onChange={(v) => set(withChart(state, v as ChartKind))}
        data={(Object.keys(KIND_LABELS) as ChartKind[]).map((k) => ({ value: k, label: KIND_LABELS[k] }))}
      />
      <SuggestionsNotice />

      <Section title={state.chart === 'funnels' ? 'Steps' : state.chart === 'retention' ? 'Events' : 'Events'}>
        {state.chart === 'retention' ? (
          <>
            <EventEditor name="Start event" spec={state.events[0]!} specials={['_new', '_active']} groupTypes={groupTypes} onChange={(e) => setEvent(0, e)} />
            <EventEditor name="Return event" spec={state.events[1]!} specials={['_all', '_active']} groupTypes={groupTypes} onChange={(e) => setEvent(1, e)} />
          </>
        ) : (
          state.events.map((e, i) => (
            <EventEditor
              key={i}
              name={state.chart === 'funnels' ? `Step ${i + 1}` : `Event ${i + 1}`}
              spec={e}
              specials={state.chart === 'segmentation' ? ['_active', '_all'] : []}
              groupTypes={groupTypes}
              onChange={(x) => setEvent(i, x)}
              onRemove={state.events.length > (state.chart === 'funnels' ? 2 : 1) ? () => setEvent(i, null) : undefined}
            />
          ))
        )}
        {state.chart === 'funnels' && state.events.length < MAX_STEPS && (
          <Button size="compact-xs" variant="light" style={{ alignSelf: 'flex-start' }} onClick={() => set({ ...state, events: [...state.events, { event: '', filters: [] }] })}>
            + Add step
          </Button>
        )}
        {state.chart === 'segmentation' && state.events.length < 2 && (
          <Button size="compact-xs" variant="light" style={{ alignSelf: 'flex-start' }} onClick={() => set({ ...state, events: [...state.events, { event: '', filters: [] }] })}>
            + Add event
          </Button>
        )}
      </Section>

      <Divider />
      <Section title="Measured as">
        <NativeSelect label="Count by" size="xs" value={state.countGroup} data={countOptions} onChange={(e) => set({ ...state, countGroup: e.currentTarget.value, groupBy: [] })} description={typesError ? `Group types unavailable: ${typesError}` : undefined} />
        {state.chart === 'segmentation' && (
          <>
            <NativeSelect label="Metric" size="xs" value={state.metric} data={Object.entries(METRIC_LABELS).map(([value, label]) => ({ value, label }))} onChange={(e) => set({ ...state, metric: e.currentTarget.value as ChartState['metric'] })} />
            {needsValueProp(state) && <PropertyPicker label="Numeric event property" kind={{ type: 'event', eventType: firstEvent }} value={state.valueProp} onChange={(valueProp) => set({ ...state, valueProp })} />}
          </>
        )}
        {state.chart === 'funnels' && (
          <>
            <NativeSelect label="Funnel mode" size="xs" value={state.mode} data={FUNNEL_MODES.map((m) => ({ value: m, label: MODE_LABELS[m]! }))} onChange={(e) => set({ ...state, mode: e.currentTarget.value as ChartState['mode'] })} />
            <ConversionWindow cs={state.cs} onChange={(cs) => set({ ...state, cs })} />
          </>
        )}
        {state.chart === 'retention' && (
          <NativeSelect
            label="Retention"
            size="xs"
            value={state.rolling ? 'rolling' : 'nday'}
            data={[
              { value: 'nday', label: 'On day N (n-day)' },
              { value: 'rolling', label: 'On or after day N (unbounded)' },
            ]}
            onChange={(e) => set({ ...state, rolling: e.currentTarget.value === 'rolling' })}
          />
        )}
        <NativeSelect
          label="Group properties (gpMode)"
          size="xs"
          value={state.gpMode}
          data={[
            { value: 'event', label: 'As stamped on each event' },
            { value: 'current', label: 'Current values' },
          ]}
          onChange={(e) => set({ ...state, gpMode: e.currentTarget.value as ChartState['gpMode'] })}
        />
      </Section>

      <Divider />
      <Section title="Group by">
        {state.groupBy.map((g, i) => (
          <GroupByRow key={i} name={`Group by ${i + 1}`} g={g} groupTypes={state.countGroup === 'User' ? groupTypes : [state.countGroup]} withEvent={state.chart === 'segmentation'} eventType={firstEvent} onChange={(x) => setGroupBy(i, x)} onRemove={() => setGroupBy(i, null)} />
        ))}
        {state.groupBy.length < maxGroupBy && (
          <Button size="compact-xs" variant="subtle" style={{ alignSelf: 'flex-start' }} onClick={() => set({ ...state, groupBy: [...state.groupBy, state.countGroup === 'User' ? { type: 'user', key: '' } : { type: 'group', groupType: state.countGroup, key: '' }] })}>
            + Group by
          </Button>
        )}
      </Section>

      <Divider />
      <Section title="Segment">
        {state.segments.length === 0 && (
          <Text size="xs" c="dimmed">
            All {state.countGroup === 'User' ? 'users' : state.countGroup}
          </Text>
        )}
        {state.segments.map((s, i) => (
          <SegmentRow key={i} name={`Segment ${i + 1}`} s={s} groupTypes={groupTypes} onChange={(x) => setSegment(i, x)} onRemove={() => setSegment(i, null)} />
        ))}
        <Button size="compact-xs" variant="subtle" style={{ alignSelf: 'flex-start' }} onClick={() => set({ ...state, segments: [...state.segments, { prop: '', op: 'is', values: [] }] })}>
          + Segment condition
        </Button>
      </Section>

      <Divider />
      <Section title="Dates">
        <DateRange state={state} set={set} />
        {state.chart !== 'funnels' && (
          <NativeSelect
            label="Interval"
            size="xs"
            value={state.interval}
            data={(state.chart === 'retention' ? RETENTION_INTERVALS : (['-3600000', '1', '7', '30'] as const)).map((i) => ({ value: i, label: INTERVAL_LABELS[i]! }))}
            onChange={(e) => set({ ...state, interval: e.currentTarget.value as ChartState['interval'] })}
          />
        )}
      </Section>
    </Stack>
  );
}
