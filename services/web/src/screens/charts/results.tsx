// What a chart's reply looks like on screen: a chart and, under it, a data table whose numbers open the
// microscope (so every point can be reached by keyboard as well as by clicking the chart), and a CSV download.
import { Button, Group, ScrollArea, SegmentedControl, Stack, Table, Text } from '@mantine/core';
import type { FunnelRow, RetentionCell, RetentionData, SegmentationData } from '../../api/types';
import { CsvButton, Empty } from '../../app/ui';
import { Chart, type ChartOption } from '../../charts/Chart';
import type { ChartState, Point } from '../../charts/state';
import { fileName, type Cell } from '../../lib/csv';
import { formatDuration, formatNumber, formatPct } from '../../lib/format';
import { SPECIAL_EVENTS } from './pickers';

export type OpenPoint = (point: Point, title: string) => void;

const MAX_PLOTTED = 10;

export const eventName = (e: string) => SPECIAL_EVENTS[e] ?? e;

/** A number that opens the microscope; a zero has nobody behind it and stays plain text. */
function CellButton({ label, value, onClick }: { label: string; value: string; onClick: () => void }) {
  if (value === '0')
    return (
      <Text span size="xs" c="dimmed" px={4}>
        0
      </Text>
    );
  return (
    <Button variant="subtle" size="compact-xs" onClick={onClick} aria-label={label} title={label} px={4}>
      {value}
    </Button>
  );
}

// ---------------------------------------------------------------------------------------------------------------

export function seriesNames(state: ChartState, data: SegmentationData): string[] {
  return data.seriesLabels.map((l) => {
    const i = typeof l === 'number' ? l : l[0];
    const event = eventName(state.events[i]?.event ?? `series ${i + 1}`);
    if (typeof l === 'number') return event;
    return state.events.length > 1 ? `${event}: ${l[1]}` : l[1];
  });
}

export function SegmentationResult({ state, data, onPoint, onDisplay }: { state: ChartState; data: SegmentationData; onPoint: OpenPoint; onDisplay: (d: 'line' | 'bar') => void }) {
  const names = seriesNames(state, data);
  if (data.series.length === 0) return <Empty>No data for this chart in the chosen dates.</Empty>;
  const open = (segment: number, xi: number) => {
    const x = data.xValues[xi]!;
    onPoint({ chart: 'segmentation', x, segment }, `${names[segment]} on ${x}`);
  };
  const plotted = data.series.slice(0, MAX_PLOTTED);
  const option: ChartOption = {
    tooltip: { trigger: 'axis' },
    legend: { type: 'scroll', bottom: 0 },
    grid: { left: 48, right: 16, top: 16, bottom: 48 },
    xAxis: { type: 'category', data: data.xValues },
    yAxis: { type: 'value', minInterval: 1 },
    series: plotted.map((s, i) => ({ type: state.display, name: names[i], data: s, showSymbol: s.length < 60 })),
  };
  const rows = (): Cell[][] => [['series', 'total', ...data.xValues], ...data.series.map((s, i) => [names[i], data.seriesCollapsed[i]?.[0]?.value ?? '', ...s])];
  return (
    <Stack gap="sm">
      <Group justify="space-between">
        <SegmentedControl size="xs" aria-label="Chart style" value={state.display} onChange={(v) => onDisplay(v as 'line' | 'bar')} data={[{ value: 'line', label: 'Line' }, { value: 'bar', label: 'Bar' }]} />
        <CsvButton rows={rows} name={fileName(`segmentation ${names.join(' ')}`, 'csv')} />
      </Group>
      <Chart option={option} label={`${state.display === 'line' ? 'Line' : 'Bar'} chart of ${names.slice(0, 3).join(', ')} by ${state.interval === '-3600000' ? 'hour' : 'interval'}`} onPointClick={(si, di) => open(si, di)} />
      {data.series.length > MAX_PLOTTED && (
        <Text size="xs" c="dimmed">
          The chart draws the first {MAX_PLOTTED} of {data.series.length} series; the table has them all.
        </Text>
      )}
      <ScrollArea type="auto">
        <Table striped withTableBorder withColumnBorders fz="xs" aria-label="Chart data">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Series</Table.Th>
              <Table.Th>Total</Table.Th>
              {data.xValues.map((x) => (
                <Table.Th key={x} style={{ whiteSpace: 'nowrap' }}>
                  {x}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data.series.map((s, i) => (
              <Table.Tr key={i}>
                <Table.Th scope="row" style={{ whiteSpace: 'nowrap' }}>
                  {names[i]}
                </Table.Th>
                <Table.Td data-testid="series-total">{formatNumber(data.seriesCollapsed[i]?.[0]?.value ?? 0)}</Table.Td>
                {s.map((v, xi) => (
                  <Table.Td key={xi}>
                    <CellButton label={`${names[i]} on ${data.xValues[xi]}: ${formatNumber(v)}`} value={formatNumber(v)} onClick={() => open(i, xi)} />
                  </Table.Td>
                ))}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </ScrollArea>
    </Stack>
  );
}

// ---------------------------------------------------------------------------------------------------------------

export function FunnelResult({ data, onPoint }: { data: FunnelRow[]; onPoint: OpenPoint }) {
  if (data.length === 0) return <Empty>No data for this funnel in the chosen dates.</Empty>;
  const steps = data[0]!.events.map(eventName);
  const grouped = data.some((r) => r.groupValue !== undefined);
  const rowName = (r: FunnelRow) => r.groupValue ?? 'All';
  const reached = (segment: number, step: number) => onPoint({ chart: 'funnels', step, dropoff: false, segment }, `${rowName(data[segment]!)}: reached step ${step} (${steps[step - 1]})`);
  const dropped = (segment: number, step: number) => onPoint({ chart: 'funnels', step, dropoff: true, segment }, `${rowName(data[segment]!)}: dropped off before step ${step} (${steps[step - 1]})`);
  const plotted = data.slice(0, MAX_PLOTTED);
  const option: ChartOption = {
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { type: 'scroll', bottom: 0 },
    grid: { left: 48, right: 16, top: 24, bottom: 48 },
    xAxis: { type: 'category', data: steps.map((s, i) => `${i + 1}. ${s}`) },
    yAxis: { type: 'value', minInterval: 1 },
    series: grouped
      ? plotted.map((r) => ({ type: 'bar', name: rowName(r), data: r.cumulativeRaw, label: { show: plotted.length <= 3, position: 'top', formatter: (p: { dataIndex: number }) => formatPct(r.cumulative[p.dataIndex] ?? 0) } }))
      : [
          { type: 'bar', name: 'Converted', stack: 'f', data: data[0]!.cumulativeRaw, label: { show: true, position: 'inside', formatter: (p: { dataIndex: number }) => formatPct(data[0]!.cumulative[p.dataIndex] ?? 0) } },
          { type: 'bar', name: 'Dropped off', stack: 'f', itemStyle: { color: '#ced4da' }, data: data[0]!.cumulativeRaw.map((v, i) => (i === 0 ? 0 : (data[0]!.cumulativeRaw[i - 1] ?? 0) - v)) },
        ],
  };
  const onChartClick = (si: number, di: number) => {
    if (grouped) reached(si, di + 1);
    else if (si === 1 && di > 0) dropped(0, di + 1);
    else reached(0, di + 1);
  };
  const rows = (): Cell[][] => [
    ['segment', 'step', 'event', 'reached', 'conversion', 'step conversion', 'dropped off', 'median time ms'],
    ...data.flatMap((r) => steps.map((s, i) => [rowName(r), i + 1, s, r.cumulativeRaw[i], r.cumulative[i], r.stepByStep[i], i === 0 ? '' : (r.cumulativeRaw[i - 1] ?? 0) - (r.cumulativeRaw[i] ?? 0), r.medianTransTimes[i]])),
  ];
  return (
    <Stack gap="sm">
      <Group justify="flex-end">
        <CsvButton rows={rows} name={fileName(`funnel ${steps.join(' ')}`, 'csv')} />
      </Group>
      <Chart option={option} label={`Funnel of ${steps.length} steps: ${steps.join(', ')}`} onPointClick={onChartClick} />
      <ScrollArea type="auto">
        <Table striped withTableBorder withColumnBorders fz="xs" aria-label="Funnel data">
          <Table.Thead>
            <Table.Tr>
              {grouped && <Table.Th>Segment</Table.Th>}
              <Table.Th>Step</Table.Th>
              <Table.Th>Reached</Table.Th>
              <Table.Th>Conversion</Table.Th>
              <Table.Th>From previous step</Table.Th>
              <Table.Th>Dropped off</Table.Th>
              <Table.Th>Median time to convert</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data.flatMap((r, si) =>
              steps.map((s, i) => {
                const drop = i === 0 ? 0 : (r.cumulativeRaw[i - 1] ?? 0) - (r.cumulativeRaw[i] ?? 0);
                return (
                  <Table.Tr key={`${si}-${i}`}>
                    {grouped && <Table.Td>{rowName(r)}</Table.Td>}
                    <Table.Th scope="row">
                      {i + 1}. {s}
                    </Table.Th>
                    <Table.Td>
                      <CellButton label={`Step ${i + 1} ${s}${grouped ? ` (${rowName(r)})` : ''}: ${formatNumber(r.cumulativeRaw[i] ?? 0)} reached`} value={formatNumber(r.cumulativeRaw[i] ?? 0)} onClick={() => reached(si, i + 1)} />
                    </Table.Td>
                    <Table.Td>{formatPct(r.cumulative[i] ?? 0)}</Table.Td>
                    <Table.Td>{i === 0 ? '–' : formatPct(r.stepByStep[i] ?? 0)}</Table.Td>
                    <Table.Td>
                      {i === 0 ? '–' : <CellButton label={`Step ${i + 1} ${s}${grouped ? ` (${rowName(r)})` : ''}: ${formatNumber(drop)} dropped off`} value={formatNumber(drop)} onClick={() => dropped(si, i + 1)} />}
                    </Table.Td>
                    <Table.Td>{i === 0 ? '–' : formatDuration(r.medianTransTimes[i] ?? 0)}</Table.Td>
                  </Table.Tr>
                );
              }),
            )}
          </Table.Tbody>
        </Table>
      </ScrollArea>
    </Stack>
  );
}

// ---------------------------------------------------------------------------------------------------------------

const share = (c: RetentionCell | undefined) => (c && c.outof > 0 ? c.count / c.outof : NaN);

/** Heat colour of a share: white at 0, the theme's indigo at 1; dark text stays readable up to about 60 %. */
export function heat(s: number): { background: string; color: string } {
  if (!Number.isFinite(s)) return { background: 'transparent', color: 'inherit' };
  const a = Math.max(0, Math.min(1, s));
  return { background: `rgba(76, 110, 245, ${(0.08 + a * 0.85).toFixed(3)})`, color: a > 0.6 ? 'white' : 'inherit' };
}

export function RetentionResult({ state, data, onPoint }: { state: ChartState; data: RetentionData; onPoint: OpenPoint }) {
  if (data.series.length === 0) return <Empty>No data for this retention chart in the chosen dates.</Empty>;
  const unit = state.interval === '7' ? 'Week' : state.interval === '30' ? 'Month' : 'Day';
  const names = data.seriesMeta.map((m, i) => m.groupValue ?? (data.series.length > 1 ? `Series ${i + 1}` : 'All'));
  const width = Math.max(...data.series.map((s) => s.combined.length));
  const columns = Array.from({ length: width }, (_, n) => n);
  const option: ChartOption = {
    tooltip: { trigger: 'axis', valueFormatter: (v) => `${Number(v).toFixed(1)}%` },
    legend: { type: 'scroll', bottom: 0 },
    grid: { left: 48, right: 16, top: 16, bottom: 48 },
    xAxis: { type: 'category', data: columns.map((n) => `${unit} ${n}`) },
    yAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
    series: data.series.slice(0, MAX_PLOTTED).map((s, i) => ({ type: 'line', name: names[i], data: s.combined.map((c) => (c.outof > 0 ? Number((share(c) * 100).toFixed(2)) : null)) })),
  };
  const rows = (): Cell[][] => [
    ['segment', 'cohort', 'size', ...columns.map((n) => `${unit.toLowerCase()} ${n}`)],
    ...data.series.flatMap((s, i) => [
      [names[i], 'all', s.combined[0]?.outof ?? 0, ...s.combined.map((c) => c.count)],
      ...s.dates.map((d) => [names[i], d, s.values[d]?.[0]?.outof ?? 0, ...(s.values[d] ?? []).map((c) => c.count)]),
    ]),
  ];
  return (
    <Stack gap="sm">
      <Group justify="flex-end">
        <CsvButton rows={rows} name={fileName(`retention ${state.events.map((e) => eventName(e.event)).join(' ')}`, 'csv')} />
      </Group>
      <Chart option={option} label={`Retention curve by ${unit.toLowerCase()}`} />
      {data.series.map((s, si) => (
        <ScrollArea type="auto" key={si}>
          <Table withTableBorder withColumnBorders fz="xs" aria-label={`Retention of ${names[si]}`}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{names[si]}</Table.Th>
                <Table.Th>Size</Table.Th>
                {columns.map((n) => (
                  <Table.Th key={n} style={{ whiteSpace: 'nowrap' }}>
                    {unit} {n}
                  </Table.Th>
                ))}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              <Table.Tr>
                <Table.Th scope="row">All cohorts</Table.Th>
                <Table.Td>{formatNumber(s.combined[0]?.outof ?? 0)}</Table.Td>
                {columns.map((n) => {
                  const c = s.combined[n];
                  return (
                    <Table.Td key={n} style={c ? heat(share(c)) : undefined} title={c ? `${c.count} of ${c.outof}` : undefined}>
                      {c ? formatPct(share(c)) : ''}
                    </Table.Td>
                  );
                })}
              </Table.Tr>
              {s.dates.map((d) => (
                <Table.Tr key={d}>
                  <Table.Th scope="row" style={{ whiteSpace: 'nowrap' }}>
                    {d}
                  </Table.Th>
                  <Table.Td>{formatNumber(s.values[d]?.[0]?.outof ?? 0)}</Table.Td>
                  {columns.map((n) => {
                    const c = s.values[d]?.[n];
                    if (!c) return <Table.Td key={n} />;
                    const label = `${names[si]}, cohort ${d}, ${unit.toLowerCase()} ${n}: ${c.count} of ${c.outof}${c.incomplete ? ' (incomplete)' : ''}`;
                    return (
                      <Table.Td key={n} style={{ ...heat(share(c)), opacity: c.incomplete ? 0.6 : 1, padding: 0 }}>
                        <Button variant="transparent" size="compact-xs" c="inherit" fullWidth aria-label={label} title={label} onClick={() => onPoint({ chart: 'retention', x: d, n, segment: si }, `Cohort ${d}, ${unit.toLowerCase()} ${n}${data.series.length > 1 ? ` (${names[si]})` : ''}`)}>
                          {formatPct(share(c))}
                        </Button>
                      </Table.Td>
                    );
                  })}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollArea>
      ))}
    </Stack>
  );
}
