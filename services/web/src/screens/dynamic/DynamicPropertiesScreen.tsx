// Dynamic group properties: the list (what each computes, over which window, when it last ran and for how many
// groups), run one now, delete one. New ones come from a single-series segmentation chart.
import { Alert, Button, Card, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import type { DynamicProperty, DynamicWindow } from '../../api/types';
import { useAction, useLoad } from '../../app/data';
import { Link } from '../../app/router';
import { ConfirmDelete, Empty, ErrorNotice, Loading } from '../../app/ui';
import { formatNumber, formatTime } from '../../lib/format';
import { eventName } from '../charts/results';

const windowText = (w: DynamicWindow) => (w.type === 'rolling' ? `last ${w.days} day${w.days === 1 ? '' : 's'} (rolling)` : `calendar ${w.unit}`);

function metricText(p: DynamicProperty): string {
  const e = p.metric.e as { event_type?: string; filters?: unknown[] } | undefined;
  const event = eventName(e?.event_type ?? '?');
  const filters = e?.filters?.length ? ` (${e.filters.length} filter${e.filters.length === 1 ? '' : 's'})` : '';
  return `${p.metric.m === 'totals' ? 'events' : 'users'} of ${event}${filters}`;
}

export function DynamicPropertiesScreen() {
  const list = useLoad('dynamic-properties', (api, signal) => api.dynamicProperties(signal));
  const [ran, setRan] = useState<string>();
  const [deleting, setDeleting] = useState<DynamicProperty>();
  const run = useAction((api, id: string) => api.runDynamicProperty(id));
  const remove = useAction(async (api, id: string) => {
    await api.deleteDynamicProperty(id);
    return true;
  });
  const props = list.data?.properties;

  const runNow = async (p: DynamicProperty) => {
    setRan(undefined);
    const r = await run.run(p.id);
    if (r) {
      setRan(`“${p.name}” ran: written for ${formatNumber(r.groups)} ${p.group_type} groups.`);
      list.reload();
    }
  };
  const confirmDelete = async () => {
    if (deleting && (await remove.run(deleting.id))) {
      setDeleting(undefined);
      list.reload();
    }
  };

  return (
    <Stack gap="md" maw={1200}>
      <Title order={2} size="h3">
        Dynamic group properties
      </Title>
      <Text size="sm" c="dimmed">
        A KPI kept on every group as a property (for example “Last 7 Day Active Users”), recomputed on its window and stamped on later events.
        Create one from a single-series <Link to="/charts">segmentation chart</Link> with <b>Save as dynamic property</b>.
      </Text>
      {run.error && <ErrorNotice title="The run failed" message={run.error} />}
      {ran && (
        <Alert color="green" role="status" withCloseButton onClose={() => setRan(undefined)} closeButtonLabel="Dismiss">
          {ran}
        </Alert>
      )}
      <Card withBorder>
        {list.error && <ErrorNotice title="Dynamic properties could not be loaded" message={list.error} onRetry={list.reload} />}
        {list.loading && !props && <Loading label="Loading dynamic properties" />}
        {props && props.length === 0 && <Empty>No dynamic properties yet.</Empty>}
        {props && props.length > 0 && (
          <Table striped aria-label="Dynamic properties" fz="sm">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Property</Table.Th>
                <Table.Th>Group type</Table.Th>
                <Table.Th>Counts</Table.Th>
                <Table.Th>Window</Table.Th>
                <Table.Th>Last run</Table.Th>
                <Table.Th>Groups</Table.Th>
                <Table.Th>Actions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {props.map((p) => (
                <Table.Tr key={p.id}>
                  <Table.Th scope="row" fw={500}>
                    {p.name}
                  </Table.Th>
                  <Table.Td>{p.group_type}</Table.Td>
                  <Table.Td>{metricText(p)}</Table.Td>
                  <Table.Td>{windowText(p.window)}</Table.Td>
                  <Table.Td style={{ whiteSpace: 'nowrap' }}>{p.last_run_at ? formatTime(p.last_run_at) : 'not yet'}</Table.Td>
                  <Table.Td>{formatNumber(p.last_groups)}</Table.Td>
                  <Table.Td>
                    <Group gap={4} wrap="nowrap">
                      <Button size="compact-xs" variant="light" onClick={() => runNow(p)} loading={run.pending} aria-label={`Run ${p.name} now`}>
                        Run now
                      </Button>
                      <Button size="compact-xs" variant="subtle" color="red" onClick={() => setDeleting(p)} aria-label={`Delete ${p.name}`}>
                        Delete
                      </Button>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Card>
      <ConfirmDelete
        title="Delete dynamic property"
        opened={deleting !== undefined}
        message={`Stop computing “${deleting?.name}”? Values already written stay on the groups and in their history.`}
        error={remove.error}
        pending={remove.pending}
        onConfirm={confirmDelete}
        onCancel={() => setDeleting(undefined)}
      />
    </Stack>
  );
}
