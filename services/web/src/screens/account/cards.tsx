// The account page's health cards: usage metrics with a sparkline and their % change, the health scores with their
// components, the cohorts the account belongs to, and the property-change history (what changed, when, who set it).
// Each card asks for its own data, all at once with the rest of the page.
import { Badge, Button, Card, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import type { Band, HealthReply } from '../../api/types';
import { useLoad } from '../../app/data';
import { Empty, ErrorNotice, Loaded, Loading } from '../../app/ui';
import { formatNumber, formatTime } from '../../lib/format';
import { Sparkline } from '../../lib/Sparkline';
import { columnLabel, formatChange, USAGE_METRICS } from '../accounts/list-state';

const HISTORY_PAGE = 20;

export function UsageCards({ groupType, groupValue }: { groupType: string; groupValue: string }) {
  const usage = useLoad(JSON.stringify(['usage', groupType, groupValue]), (api, signal) => api.usage(groupType, groupValue, signal));
  return (
    <Loaded state={usage} label="Loading usage metrics">
      {(u) => (
        <Stack gap={4}>
          <SimpleGrid cols={{ base: 2, md: 5 }} spacing="xs" role="list" aria-label="Usage metrics">
            {USAGE_METRICS.map((m) => {
              const v = u.metrics[m] ?? 0;
              const change = u.metrics[`${m}_change`];
              const series = m.startsWith('active_users') ? u.daily.active_users : u.daily.events;
              const label = columnLabel(m);
              return (
                <Card key={m} withBorder padding="xs" role="listitem" aria-label={label}>
                  <Text size="xs" c="dimmed">
                    {label}
                  </Text>
                  <Group gap={6} align="baseline">
                    <Text fw={700} size="lg">
                      {formatNumber(v)}
                    </Text>
                    <Text size="xs" c={change === null || change === undefined || change === 0 ? 'dimmed' : change > 0 ? 'teal' : 'red'} title="against the period before">
                      {formatChange(change, v)}
                    </Text>
                  </Group>
                  <Sparkline values={series} label={`${m.startsWith('active_users') ? 'Active users' : 'Events'} per day, ${u.daily.days[0]} to ${u.as_of}`} />
                </Card>
              );
            })}
          </SimpleGrid>
          <Text size="xs" c="dimmed">
            Whole UTC days up to {u.as_of}; % change against the period before. Sparklines: the last {u.daily.days.length} days.
          </Text>
        </Stack>
      )}
    </Loaded>
  );
}

const BAND_COLOR: Record<Band, string> = { healthy: 'teal', at_risk: 'yellow', critical: 'red' };
const bandText = (b: Band) => (b === 'at_risk' ? 'at risk' : b);

export function BandBadge({ band }: { band: Band | null }) {
  if (!band) return null;
  return (
    <Badge color={BAND_COLOR[band]} variant="light" tt="none">
      {bandText(band)}
    </Badge>
  );
}

export function HealthCard({ groupType, groupValue }: { groupType: string; groupValue: string }) {
  const health = useLoad(JSON.stringify(['health', groupType, groupValue]), (api, signal) => api.health(groupType, groupValue, signal));
  return (
    <Card withBorder>
      <Title order={3} size="h5" mb="xs">
        Health
      </Title>
      <Loaded state={health} label="Loading health scores">
        {(h) =>
          h.health_scores.length === 0 ? (
            <Empty>No health score is defined for {groupType} (POST /api/3/health-scores defines one).</Empty>
          ) : (
            <Stack gap="md">
              {h.health_scores.map((s) => (
                <HealthScore key={s.id} score={s} />
              ))}
            </Stack>
          )
        }
      </Loaded>
    </Card>
  );
}

function HealthScore({ score: s }: { score: HealthReply['health_scores'][number] }) {
  return (
    <section aria-label={`Health score ${s.name}`}>
      <Group gap="sm" align="baseline">
        <Text fw={600}>{s.name}</Text>
        <Text fw={700} size="xl" aria-label={`${s.name} score`}>
          {s.score ?? '–'}
        </Text>
        <BandBadge band={s.band} />
        <Text size="xs" c="dimmed">
          {s.last_run_at ? `written ${formatTime(s.last_run_at)}, usage as of ${s.as_of}` : 'not computed yet'}
        </Text>
      </Group>
      {s.computed.score !== null && s.computed.score !== s.score && (
        <Text size="xs" c="dimmed">
          The components below give {s.computed.score} ({s.computed.band ? bandText(s.computed.band) : ''}) today; the next run writes it.
        </Text>
      )}
      <Table fz="xs" mt={4} aria-label={`Components of ${s.name}`} withRowBorders>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Metric</Table.Th>
            <Table.Th>Value</Table.Th>
            <Table.Th>Poor → healthy</Table.Th>
            <Table.Th>Weight</Table.Th>
            <Table.Th>Points</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {s.components.map((c, i) => (
            <Table.Tr key={i}>
              <Table.Td>{columnLabel(c.metric)}</Table.Td>
              <Table.Td>{c.value === null ? 'no value (left out)' : formatNumber(c.value)}</Table.Td>
              <Table.Td>
                {formatNumber(c.poor)} → {formatNumber(c.healthy)}
              </Table.Td>
              <Table.Td>{formatNumber(c.weight)}</Table.Td>
              <Table.Td>{c.points === null ? '–' : formatNumber(c.points)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Text size="xs" c="dimmed">
        Healthy from {s.thresholds.healthy}, at risk from {s.thresholds.at_risk}, critical below.
      </Text>
    </section>
  );
}

export function CohortsCard({ groupType, groupValue }: { groupType: string; groupValue: string }) {
  const cohorts = useLoad(JSON.stringify(['account-cohorts', groupType, groupValue]), (api, signal) => api.memberOf(groupType, groupValue, signal));
  return (
    <Card withBorder>
      <Title order={3} size="h5" mb="xs">
        Cohorts
      </Title>
      <Loaded state={cohorts} label="Loading cohorts">
        {(r) =>
          r.cohorts.length === 0 ? (
            <Empty>This account is in no cohort of {groupType}.</Empty>
          ) : (
            <Group gap={6} role="list" aria-label="Cohorts of this account">
              {r.cohorts.map((c) => (
                <Badge key={c.id} role="listitem" variant="outline" tt="none">
                  {c.name}
                </Badge>
              ))}
            </Group>
          )
        }
      </Loaded>
    </Card>
  );
}

export function HistoryCard({ groupType, groupValue }: { groupType: string; groupValue: string }) {
  const [offset, setOffset] = useState(0);
  const history = useLoad(JSON.stringify(['history', groupType, groupValue, offset]), (api, signal) => api.history(groupType, groupValue, { limit: HISTORY_PAGE, offset }, signal));
  const rows = history.data?.history;
  return (
    <Card withBorder>
      <Title order={3} size="h5" mb="xs">
        Property changes
      </Title>
      {history.error && <ErrorNotice message={history.error} onRetry={history.reload} />}
      {history.loading && <Loading label="Loading property changes" />}
      {rows && !history.loading && (rows.length === 0 ? <Empty>{offset ? 'No older changes.' : 'No property was ever set.'}</Empty> : (
        <Table fz="xs" striped aria-label="Property changes">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>When</Table.Th>
              <Table.Th>Property</Table.Th>
              <Table.Th>New value</Table.Th>
              <Table.Th>Set by</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((h, i) => (
              <Table.Tr key={i}>
                <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatTime(h.time)}</Table.Td>
                <Table.Td>{h.property}</Table.Td>
                <Table.Td>{h.removed ? <Text size="xs" c="dimmed">removed</Text> : h.value}</Table.Td>
                <Table.Td>{h.source ?? 'unknown'}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      ))}
      <Group justify="space-between" mt={4}>
        <Button size="compact-xs" variant="default" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - HISTORY_PAGE))}>
          Newer changes
        </Button>
        <Button size="compact-xs" variant="default" disabled={!rows || rows.length < HISTORY_PAGE} onClick={() => setOffset(offset + HISTORY_PAGE)}>
          Older changes
        </Button>
      </Group>
    </Card>
  );
}
