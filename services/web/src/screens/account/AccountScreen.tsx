// One account: usage-metric cards (sparkline, % change), its current properties, health scores with their
// components, cohorts, members, daily usage (active users and events, last 30 days), property changes and its
// activity, newest first, as `Info` (what happened) or `Raw` (every property as stamped on the event at ingest).
// Every card asks for its data at once: no request waits for another.
import { Badge, Button, Card, Code, Grid, Group, SegmentedControl, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import type { ActivityEvent, SegmentationData } from '../../api/types';
import { useLoad } from '../../app/data';
import { Link } from '../../app/router';
import { Empty, ErrorNotice, Loaded, Loading } from '../../app/ui';
import { Chart, type ChartOption } from '../../charts/Chart';
import { ymd } from '../../charts/state';
import { formatNumber, formatTime, formatValue } from '../../lib/format';
import { CohortsCard, HealthCard, HistoryCard, UsageCards } from './cards';

const ACTIVITY_PAGE = 25;
const MEMBERS_SHOWN = 50;
const USAGE_DAYS = 30;

export function AccountScreen({ groupType, groupValue }: { groupType: string; groupValue: string }) {
  const account = useLoad(JSON.stringify([groupType, groupValue]), (api, signal) => api.account(groupType, groupValue, signal));
  const g = account.data?.group;
  const name = g?.properties.name;

  return (
    <Stack gap="md" maw={1400}>
      <div>
        <Link to={`/accounts?type=${encodeURIComponent(groupType)}`} size="sm">
          ← Accounts
        </Link>
        <Group gap="xs" align="baseline">
          <Title order={2} size="h3">
            {groupType} {groupValue}
          </Title>
          {typeof name === 'string' && <Text c="dimmed">{name}</Text>}
        </Group>
      </div>
      {account.error && <ErrorNotice title="The account could not be loaded" message={account.error} onRetry={account.reload} />}
      {account.loading && !g && <Loading label="Loading the account" />}
      {g && <UsageCards groupType={groupType} groupValue={groupValue} />}
      {g && (
        <Grid gap="md">
          <Grid.Col span={{ base: 12, md: 5 }}>
            <Stack gap="md">
              <Card withBorder>
                <Title order={3} size="h5" mb="xs">
                  Properties
                </Title>
                <SimpleGrid cols={2} spacing={4} mb="sm">
                  <Text size="xs" c="dimmed">
                    First seen: {formatTime(g.first_seen)}
                  </Text>
                  <Text size="xs" c="dimmed">
                    Last seen: {formatTime(g.last_seen)}
                  </Text>
                  <Text size="xs" c="dimmed">
                    Events: {formatNumber(g.num_events)}
                  </Text>
                  <Text size="xs" c="dimmed">
                    Users: {formatNumber(g.num_users)}
                  </Text>
                </SimpleGrid>
                {Object.keys(g.properties).length === 0 ? (
                  <Empty>No properties set.</Empty>
                ) : (
                  <Table fz="sm" aria-label="Current properties" withRowBorders>
                    <Table.Tbody>
                      {Object.keys(g.properties)
                        .sort()
                        .map((k) => (
                          <Table.Tr key={k}>
                            <Table.Th scope="row" fw={500} w="40%">
                              {k}
                            </Table.Th>
                            <Table.Td>{formatValue(g.properties[k])}</Table.Td>
                          </Table.Tr>
                        ))}
                    </Table.Tbody>
                  </Table>
                )}
              </Card>
              <HealthCard groupType={groupType} groupValue={groupValue} />
              <CohortsCard groupType={groupType} groupValue={groupValue} />
              <Card withBorder>
                <Title order={3} size="h5" mb="xs">
                  Members
                </Title>
                <Members users={account.data!.users} />
              </Card>
            </Stack>
          </Grid.Col>
          <Grid.Col span={{ base: 12, md: 7 }}>
            <Stack gap="md">
              <Card withBorder>
                <Title order={3} size="h5" mb="xs">
                  Usage, last {USAGE_DAYS} days
                </Title>
                <Usage groupType={groupType} groupValue={groupValue} />
              </Card>
              <HistoryCard groupType={groupType} groupValue={groupValue} />
              <Card withBorder>
                <Activity groupType={groupType} groupValue={groupValue} />
              </Card>
            </Stack>
          </Grid.Col>
        </Grid>
      )}
    </Stack>
  );
}

function Members({ users }: { users: { user_id: string; last_seen: string | null }[] }) {
  const [all, setAll] = useState(false);
  if (users.length === 0) return <Empty>No members.</Empty>;
  const shown = all ? users : users.slice(0, MEMBERS_SHOWN);
  return (
    <>
      <Table fz="xs" striped aria-label="Members">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>User</Table.Th>
            <Table.Th>Last seen</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {shown.map((u) => (
            <Table.Tr key={u.user_id}>
              <Table.Td>{u.user_id}</Table.Td>
              <Table.Td>{formatTime(u.last_seen)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {users.length > MEMBERS_SHOWN && (
        <Button size="compact-xs" variant="subtle" mt={4} onClick={() => setAll(!all)}>
          {all ? 'Show fewer' : `Show all ${users.length}`}
        </Button>
      )}
    </>
  );
}

function Usage({ groupType, groupValue }: { groupType: string; groupValue: string }) {
  const usage = useLoad(JSON.stringify(['usage', groupType, groupValue]), async (api, signal) => {
    const now = Date.now();
    const e = JSON.stringify({ event_type: '_active', filters: [{ subprop_type: 'group', group_type: groupType, subprop_op: 'is', subprop_value: [groupValue] }] });
    const range = { e, start: ymd(now - (USAGE_DAYS - 1) * 86_400_000), end: ymd(now), i: '1' };
    const [users, events] = await Promise.all([api.segmentation({ ...range, m: 'uniques' }, signal), api.segmentation({ ...range, m: 'totals' }, signal)]);
    return { users: users.data, events: events.data };
  });
  return (
    <Loaded state={usage} label="Loading usage">
      {(d) => <UsageChart users={d.users} events={d.events} />}
    </Loaded>
  );
}

function UsageChart({ users, events }: { users: SegmentationData; events: SegmentationData }) {
  const option: ChartOption = {
    tooltip: { trigger: 'axis' },
    legend: { bottom: 0 },
    grid: { left: 40, right: 40, top: 16, bottom: 40 },
    xAxis: { type: 'category', data: users.xValues },
    yAxis: [
      { type: 'value', name: 'users', minInterval: 1 },
      { type: 'value', name: 'events', minInterval: 1 },
    ],
    series: [
      { type: 'bar', name: 'Events', yAxisIndex: 1, data: events.series[0] ?? [], itemStyle: { color: '#bac8ff' } },
      { type: 'line', name: 'Active users', data: users.series[0] ?? [] },
    ],
  };
  const totalEvents = events.seriesCollapsed[0]?.[0]?.value ?? 0;
  return (
    <>
      <Chart option={option} height={220} label="Active users and events per day" />
      <Text size="xs" c="dimmed">
        {formatNumber(users.seriesCollapsed[0]?.[0]?.value ?? 0)} active users and {formatNumber(totalEvents)} events in {USAGE_DAYS} days.
      </Text>
    </>
  );
}

function Activity({ groupType, groupValue }: { groupType: string; groupValue: string }) {
  const [view, setView] = useState<'info' | 'raw'>('info');
  const [offset, setOffset] = useState(0);
  const activity = useLoad(JSON.stringify([groupType, groupValue, offset]), (api, signal) => api.activity(groupType, groupValue, { limit: ACTIVITY_PAGE, offset }, signal));
  const events = activity.data?.events;
  return (
    <Stack gap="xs">
      <Group justify="space-between">
        <Title order={3} size="h5">
          Activity
        </Title>
        <SegmentedControl
          size="xs"
          aria-label="Activity view"
          value={view}
          onChange={(v) => setView(v as 'info' | 'raw')}
          data={[
            { value: 'info', label: 'Info' },
            { value: 'raw', label: 'Raw' },
          ]}
        />
      </Group>
      {activity.error && <ErrorNotice message={activity.error} onRetry={activity.reload} />}
      {activity.loading && <Loading label="Loading activity" />}
      {events && !activity.loading && (events.length === 0 ? <Empty>{offset ? 'No older events.' : 'No events yet.'}</Empty> : <EventList events={events} view={view} />)}
      <Group justify="space-between">
        <Button size="compact-xs" variant="default" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - ACTIVITY_PAGE))}>
          Newer
        </Button>
        <Text size="xs" c="dimmed">
          {events && events.length > 0 ? `Events ${offset + 1}–${offset + events.length}, newest first` : ''}
        </Text>
        <Button size="compact-xs" variant="default" disabled={!events || events.length < ACTIVITY_PAGE} onClick={() => setOffset(offset + ACTIVITY_PAGE)}>
          Older
        </Button>
      </Group>
    </Stack>
  );
}

function EventList({ events, view }: { events: ActivityEvent[]; view: 'info' | 'raw' }) {
  return (
    <Stack gap={6} aria-label="Events" role="list">
      {events.map((e, i) => (
        <div key={i} role="listitem" style={{ borderBottom: '1px solid var(--mantine-color-gray-2)', paddingBottom: 6 }}>
          <Group gap="xs" wrap="nowrap">
            <Text size="xs" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
              {formatTime(e.time)}
            </Text>
            <Badge variant="light" tt="none">
              {e.event_type}
            </Badge>
            <Text size="xs">{e.user_id ?? e.device_id ?? ''}</Text>
          </Group>
          {view === 'info' ? (
            <Text size="xs" c="dimmed" mt={2}>
              {Object.entries(e.event_properties ?? {})
                .map(([k, v]) => `${k}: ${formatValue(v)}`)
                .join(' · ') || 'no event properties'}
            </Text>
          ) : (
            <Code block fz="xs" mt={4} aria-label="Raw event" style={{ maxHeight: 280, overflow: 'auto' }}>
              {JSON.stringify(e, null, 2)}
            </Code>
          )}
        </div>
      ))}
    </Stack>
  );
}
