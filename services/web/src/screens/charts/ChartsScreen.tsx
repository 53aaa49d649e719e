// Charts: the builder on the left, the chart and its data table on the right. The chart lives in the URL: every
// edit rewrites it, the reply is asked for the URL's chart (after a short pause while typing), and a link opens
// the same chart with the same numbers.
import { Alert, Button, Grid, Group, List, Paper, ScrollArea, Stack, Text, Title } from '@mantine/core';
import { useEffect, useMemo, useState } from 'react';
import type { Api } from '../../api/client';
import type { Cohort, FunnelRow, RetentionData, SegmentationData } from '../../api/types';
import { useLoad } from '../../app/data';
import { navigate, useLocation } from '../../app/router';
import { ErrorNotice, Loading } from '../../app/ui';
import {
  chartIssues, dynamicPropertyProblem, fromSearch, microscopeParams, toApiRequest, toSearch, type ChartState, type Point,
} from '../../charts/state';
import { Builder } from './Builder';
import { rememberChart, withCohortSegment } from './last-chart';
import { Microscope, type MicroscopeTarget } from './Microscope';
import { FunnelResult, RetentionResult, SegmentationResult, eventName } from './results';
import { SaveDynamicProperty } from './SaveDynamicProperty';

type ChartResult =
  | { chart: 'segmentation'; state: ChartState; data: SegmentationData }
  | { chart: 'funnels'; state: ChartState; data: FunnelRow[] }
  | { chart: 'retention'; state: ChartState; data: RetentionData };

async function loadChart(api: Api, state: ChartState, signal: AbortSignal): Promise<ChartResult> {
  const { params } = toApiRequest(state);
  switch (state.chart) {
    case 'segmentation':
      return { chart: 'segmentation', state, data: (await api.segmentation(params, signal)).data };
    case 'funnels':
      return { chart: 'funnels', state, data: (await api.funnels(params, signal)).data };
    case 'retention':
      return { chart: 'retention', state, data: (await api.retention(params, signal)).data };
  }
}

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

const TITLES = { segmentation: 'Event segmentation', funnels: 'Funnel', retention: 'Retention' } as const;

function describe(s: ChartState): string {
  const unit = s.countGroup === 'User' ? 'users' : s.countGroup;
  const events = s.events.map((e) => eventName(e.event) || '…').join(s.chart === 'funnels' ? ' → ' : ', ');
  const segments = s.segments.length ? ` · ${s.segments.length} segment condition${s.segments.length > 1 ? 's' : ''}` : '';
  return `${events} · counted by ${unit}${segments} · ${s.start}–${s.end}`;
}

export function ChartsScreen() {
  const { search } = useLocation();
  // one "today" per visit, so the defaults of a link without dates do not move while it is open
  const today = useMemo(() => Date.now(), []);
  const parsed = useMemo(() => fromSearch(search, today), [search, today]);
  const state = parsed.state;
  const canonical = toSearch(state);
  const [problems, setProblems] = useState<string[]>([]);
  const [target, setTarget] = useState<MicroscopeTarget | null>(null);
  const [savingProperty, setSavingProperty] = useState(false);

  useEffect(() => {
    // the URL always names the whole chart (dates included), so it can be shared as it is
    if (search.replace(/^\?/, '') !== canonical) {
      if (parsed.problems.length) setProblems(parsed.problems);
      navigate(`/charts?${canonical}`, { replace: true });
    }
    rememberChart(canonical);
  }, [search, canonical, parsed.problems]);

  const set = (next: ChartState) => navigate(`/charts?${toSearch(next)}`, { replace: next.chart === state.chart });
  const issues = chartIssues(state);
  const key = useDebounced(issues.length ? null : canonical, 350);
  const result = useLoad(key, (api, signal) => loadChart(api, fromSearch(key!, today).state, signal), { keepPrevious: true });
  const shown = result.data;

  const openPoint = (point: Point, title: string) => {
    if (!shown) return;
    setTarget({ params: microscopeParams(shown.state, point), title });
  };
  const useCohort = (c: Cohort) => {
    setTarget(null);
    navigate(`/charts?${withCohortSegment(state, c)}`);
  };
  const propertyProblem = dynamicPropertyProblem(state);

  return (
    <Grid gap="md">
      <Grid.Col span={{ base: 12, sm: 5, lg: 4 }}>
        <Paper withBorder p="sm">
          <ScrollArea.Autosize mah="calc(100vh - 110px)" type="auto" offsetScrollbars>
            <Builder state={state} set={set} />
          </ScrollArea.Autosize>
        </Paper>
      </Grid.Col>
      <Grid.Col span={{ base: 12, sm: 7, lg: 8 }}>
        <Stack gap="sm">
          <Group justify="space-between" align="flex-start" wrap="nowrap">
            <div>
              <Title order={2} size="h3">
                {TITLES[state.chart]}
              </Title>
              <Text size="sm" c="dimmed">
                {describe(state)}
              </Text>
            </div>
            {state.chart === 'segmentation' && (
              <Stack gap={2} align="flex-end">
                <Button size="xs" variant="light" disabled={propertyProblem !== undefined} onClick={() => setSavingProperty(true)}>
                  Save as dynamic property
                </Button>
                {propertyProblem && (
                  <Text size="xs" c="dimmed" maw={260} ta="right">
                    To save: {propertyProblem}
                  </Text>
                )}
              </Stack>
            )}
          </Group>
          {problems.length > 0 && (
            <Alert color="yellow" title="Part of this link could not be read" withCloseButton onClose={() => setProblems([])} closeButtonLabel="Dismiss">
              <List size="sm">
                {problems.map((p) => (
                  <List.Item key={p}>{p}</List.Item>
                ))}
              </List>
            </Alert>
          )}
          {issues.length > 0 ? (
            <Alert color="gray" title="To draw this chart">
              <List size="sm">
                {issues.map((p) => (
                  <List.Item key={p}>{p}</List.Item>
                ))}
              </List>
            </Alert>
          ) : result.error ? (
            <ErrorNotice title="The chart could not be drawn" message={result.error} onRetry={result.reload} />
          ) : !shown ? (
            <Loading label="Asking the query API" />
          ) : (
            <div aria-busy={result.loading} data-testid="chart-result" data-search={toSearch(shown.state)} style={{ opacity: result.loading ? 0.6 : 1 }}>
              {shown.chart === 'segmentation' && <SegmentationResult state={shown.state} data={shown.data} onPoint={openPoint} onDisplay={(display) => set({ ...state, display })} />}
              {shown.chart === 'funnels' && <FunnelResult data={shown.data} onPoint={openPoint} />}
              {shown.chart === 'retention' && <RetentionResult state={shown.state} data={shown.data} onPoint={openPoint} />}
            </div>
          )}
        </Stack>
      </Grid.Col>
      <Microscope target={target} onClose={() => setTarget(null)} onUseCohort={useCohort} />
      {savingProperty && <SaveDynamicProperty state={state} opened onClose={() => setSavingProperty(false)} />}
    </Grid>
  );
}
