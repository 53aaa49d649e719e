// The account list: every account of a group type with the columns chosen (usage metrics with their % change, the
// activity span, current properties), sorted by any column, filtered by properties, metrics or a cohort, paged, and
// downloadable as CSV. Its state lives in the URL (list-state.ts), so a list can be bookmarked and shared.
import { Anchor, Button, Card, Group, MultiSelect, NativeSelect, Stack, Table, TagsInput, Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import type { AccountListEntry } from '../../api/types';
import { useApi, useCohortList, useLoad, usePropertyNames } from '../../app/data';
import { Link, accountPath } from '../../app/router';
import { Empty, ErrorNotice, Loading } from '../../app/ui';
import { OPS } from '../../charts/state';
import { formatNumber, formatTime, formatValue } from '../../lib/format';
import { OpSelect, PropertyPicker, ValuesInput } from '../charts/pickers';
import {
  BUILT_IN_COLUMNS, NUMBER_OPS, PAGE_SIZE, USAGE_METRICS, columnLabel, formatChange, isBuiltIn, isUsageMetric, listRequest, propertyColumns, sortedBy,
  type ListFilter, type ListState,
} from './list-state';

/** What a metric filter may test: each usage metric, its % change, and days since last seen. */
const METRIC_FIELDS = [...USAGE_METRICS.flatMap((m) => [m, `${m}_change`]), 'days_since_last_seen'];

export function AccountList({ type, state, onChange }: { type: string; state: ListState; onChange: (s: ListState) => void }) {
  const api = useApi();
  const key = JSON.stringify([type, state]);
  const list = useLoad(key, (a, signal) => a.accountList(type, listRequest(state), signal), { keepPrevious: true });
  const reply = list.data;
  const from = (state.page - 1) * PAGE_SIZE;
  const csvUrl = api.accountListUrl(type, listRequest(state, 'csv') as [string, string][]);

  return (
    <Stack gap="sm">
      <Card withBorder>
        <Stack gap="xs">
          <ColumnPicker type={type} state={state} onChange={onChange} />
          <Group gap="sm" align="flex-end">
            <NativeSelect
              label="Sort by"
              value={state.sort}
              onChange={(e) => onChange({ ...state, sort: e.currentTarget.value, page: 1 })}
              data={[
                { value: 'group_value', label: type },
                ...BUILT_IN_COLUMNS.map((c) => ({ value: c, label: columnLabel(c) })),
                ...USAGE_METRICS.map((m) => ({ value: `${m}_change`, label: columnLabel(`${m}_change`) })),
                ...propertyColumns(state).map((c) => ({ value: c, label: c })),
              ]}
              size="xs"
            />
            <NativeSelect
              label="Order"
              value={state.order}
              onChange={(e) => onChange({ ...state, order: e.currentTarget.value as 'asc' | 'desc', page: 1 })}
              data={[
                { value: 'desc', label: 'Highest first' },
                { value: 'asc', label: 'Lowest first' },
              ]}
              size="xs"
            />
            <CohortSelect type={type} value={state.cohort} onChange={(cohort) => onChange({ ...state, cohort, page: 1 })} />
            <Button component="a" href={csvUrl} download size="xs" variant="default">
              Download CSV
            </Button>
          </Group>
          <FilterEditor type={type} filters={state.filters} onApply={(filters) => onChange({ ...state, filters, page: 1 })} />
        </Stack>
      </Card>
      {list.error && <ErrorNotice title="The list could not be loaded" message={list.error} onRetry={list.reload} />}
      {list.loading && !reply && <Loading label="Loading accounts" />}
      {reply && (
        <div style={{ opacity: list.loading ? 0.55 : 1 }} aria-busy={list.loading}>
          {reply.groups.length === 0 ? (
            <Empty>{state.page > 1 ? 'No more accounts.' : state.filters.length || state.cohort ? 'No account matches these filters.' : `This project has no ${type} yet.`}</Empty>
          ) : (
            <ListTable type={type} state={state} rows={reply.groups} onChange={onChange} />
          )}
          <Group justify="space-between" mt="xs">
            <Button variant="default" size="xs" disabled={state.page <= 1} onClick={() => onChange({ ...state, page: state.page - 1 })}>
              Previous page
            </Button>
            <Text size="sm" c="dimmed" aria-live="polite">
              {reply.total === 0 ? 'No accounts' : `Accounts ${formatNumber(from + 1)}–${formatNumber(from + reply.groups.length)} of ${formatNumber(reply.total)}`}, usage as of {reply.as_of} (UTC)
            </Text>
            <Button variant="default" size="xs" disabled={from + reply.groups.length >= reply.total} onClick={() => onChange({ ...state, page: state.page + 1 })}>
              Next page
            </Button>
          </Group>
        </div>
      )}
    </Stack>
  );
}

function ColumnPicker({ type, state, onChange }: { type: string; state: ListState; onChange: (s: ListState) => void }) {
  const builtIns = state.columns.filter(isBuiltIn);
  const props = propertyColumns(state);
  // the chosen order is kept: built-in columns first, as picked, then properties
  const set = (b: string[], p: string[]) => onChange({ ...state, columns: [...b, ...p], page: 1 });
  return (
    <Group gap="sm" align="flex-end" grow>
      <MultiSelect
        label="Columns"
        value={builtIns}
        onChange={(b) => set(b, props)}
        data={BUILT_IN_COLUMNS.map((c) => ({ value: c, label: columnLabel(c) }))}
        size="xs"
        clearable
      />
      <PropertyColumns type={type} value={props} onChange={(p) => set(builtIns, p)} />
    </Group>
  );
}

function PropertyColumns({ type, value, onChange }: { type: string; value: string[]; onChange: (v: string[]) => void }) {
  const names = usePropertyNames({ type: 'group', groupType: type });
  return (
    <TagsInput
      label="Property columns"
      placeholder={value.length ? '' : 'Property names (Enter after each)'}
      value={value}
      onChange={onChange}
      data={names.items}
      acceptValueOnBlur
      clearable
      size="xs"
    />
  );
}

function CohortSelect({ type, value, onChange }: { type: string; value: string; onChange: (v: string) => void }) {
  const cohorts = useCohortList();
  const usable = (cohorts.data?.cohorts ?? []).filter((c) => c.countGroup === type || c.countGroup === 'User');
  const data = [{ value: '', label: 'All accounts' }, ...usable.map((c) => ({ value: c.id, label: c.countGroup === 'User' ? `${c.name} (accounts of its users)` : c.name }))];
  if (value && !usable.some((c) => c.id === value)) data.push({ value, label: `Cohort ${value}` });
  return <NativeSelect label="Cohort" value={value} onChange={(e) => onChange(e.currentTarget.value)} data={data} size="xs" />;
}

type Draft = ListFilter & { id: number };
let nextDraft = 1;

function FilterEditor({ type, filters, onApply }: { type: string; filters: ListFilter[]; onApply: (f: ListFilter[]) => void }) {
  const [draft, setDraft] = useState<Draft[]>([]);
  const applied = JSON.stringify(filters);
  useEffect(() => setDraft((JSON.parse(applied) as ListFilter[]).map((f) => ({ ...f, id: nextDraft++ }))), [applied]);
  const set = (id: number, patch: Partial<ListFilter>) => setDraft((d) => d.map((f) => (f.id === id ? { ...f, ...patch } : f)));
  const complete = draft.filter((f) => f.subprop_key && f.subprop_value.length > 0);
  const changed = JSON.stringify(complete.map(({ id: _id, ...f }) => f)) !== applied;
  return (
    <Stack gap={6} role="group" aria-label="Filters">
      {draft.map((f, i) => {
        const n = i + 1;
        return (
          <Group key={f.id} gap="xs" align="flex-end" wrap="nowrap">
            <NativeSelect
              label={`Filter ${n} on`}
              value={f.subprop_type === 'group' ? 'property' : f.subprop_key}
              onChange={(e) => {
                const v = e.currentTarget.value;
                set(f.id, v === 'property' ? { subprop_type: 'group', subprop_key: '', subprop_op: 'is' } : { subprop_type: 'metric', subprop_key: v, subprop_op: 'greater' });
              }}
              data={[{ value: 'property', label: `A ${type} property` }, ...METRIC_FIELDS.map((m) => ({ value: m, label: columnLabel(m) }))]}
              size="xs"
            />
            {f.subprop_type === 'group' && (
              <PropertyPicker label={`Filter ${n} property`} kind={{ type: 'group', groupType: type }} value={f.subprop_key} onChange={(v) => set(f.id, { subprop_key: v })} />
            )}
            <OpSelect label={`Filter ${n} operator`} value={f.subprop_op} onChange={(v) => set(f.id, { subprop_op: v })} ops={f.subprop_type === 'group' ? OPS : NUMBER_OPS} />
            {f.subprop_type === 'group' ? (
              <ValuesInput label={`Filter ${n} values`} kind={{ type: 'group', groupType: type }} name={f.subprop_key} value={f.subprop_value} onChange={(v) => set(f.id, { subprop_value: v })} />
            ) : (
              <TagsInput label={`Filter ${n} values`} placeholder="A number" value={f.subprop_value} onChange={(v) => set(f.id, { subprop_value: v })} acceptValueOnBlur size="xs" />
            )}
            <Button size="xs" variant="subtle" color="red" aria-label={`Remove filter ${n}`} onClick={() => setDraft((d) => d.filter((x) => x.id !== f.id))}>
              Remove
            </Button>
          </Group>
        );
      })}
      <Group gap="xs">
        <Button size="xs" variant="light" onClick={() => setDraft((d) => [...d, { id: nextDraft++, subprop_type: 'group', subprop_key: '', subprop_op: 'is', subprop_value: [] }])}>
          + Add filter
        </Button>
        {(draft.length > 0 || filters.length > 0) && (
          <>
            <Button size="xs" disabled={!changed} onClick={() => onApply(complete.map(({ id: _id, ...f }) => f))}>
              Apply filters
            </Button>
            <Button size="xs" variant="default" onClick={() => onApply([])} disabled={filters.length === 0}>
              Clear filters
            </Button>
          </>
        )}
      </Group>
    </Stack>
  );
}

const CHANGE_COLOR = (change: number | null | undefined) => (change === null || change === undefined || change === 0 ? 'dimmed' : change > 0 ? 'teal' : 'red');

function Cell({ column, row }: { column: string; row: AccountListEntry }) {
  if (isUsageMetric(column)) {
    const v = row.metrics[column];
    const change = row.metrics[`${column}_change`];
    return (
      <Group gap={6} wrap="nowrap">
        <Text size="sm">{v === null || v === undefined ? '–' : formatNumber(v)}</Text>
        <Text size="xs" c={CHANGE_COLOR(change)} aria-label={`change ${formatChange(change, v)}`}>
          {formatChange(change, v)}
        </Text>
      </Group>
    );
  }
  if (column === 'first_seen' || column === 'last_seen') return <Text size="sm">{formatTime(row[column])}</Text>;
  if (isBuiltIn(column)) {
    const v = row.metrics[column];
    return <Text size="sm">{v === null || v === undefined ? '–' : formatNumber(v)}</Text>;
  }
  const key = column.startsWith('property:') ? column.slice('property:'.length) : column;
  return <Text size="sm">{key in row.properties ? formatValue(row.properties[key]) : '–'}</Text>;
}

function ListTable({ type, state, rows, onChange }: { type: string; state: ListState; rows: AccountListEntry[]; onChange: (s: ListState) => void }) {
  const header = (column: string, label: string) => {
    const active = state.sort === column;
    return (
      <Table.Th key={column} aria-sort={active ? (state.order === 'asc' ? 'ascending' : 'descending') : 'none'} style={{ whiteSpace: 'nowrap' }}>
        <Anchor component="button" type="button" size="sm" fw={active ? 700 : 500} c="dark" aria-label={`Sort by ${label}`} onClick={() => onChange(sortedBy(state, column))}>
          {label} {active ? (state.order === 'asc' ? '↑' : '↓') : ''}
        </Anchor>
      </Table.Th>
    );
  };
  return (
    <Table.ScrollContainer minWidth={800}>
      <Table striped highlightOnHover withTableBorder aria-label="Accounts list">
        <Table.Thead>
          <Table.Tr>
            {header('group_value', type)}
            {state.columns.map((c) => header(c, columnLabel(c)))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((r) => (
            <Table.Tr key={r.group_value}>
              <Table.Td>
                <Link to={accountPath(type, r.group_value)} fw={600} size="sm">
                  {r.group_value}
                </Link>
                {typeof r.properties.name === 'string' && r.properties.name !== r.group_value && (
                  <Text size="xs" c="dimmed">
                    {r.properties.name}
                  </Text>
                )}
              </Table.Td>
              {state.columns.map((c) => (
                <Table.Td key={c}>
                  <Cell column={c} row={r} />
                </Table.Td>
              ))}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
