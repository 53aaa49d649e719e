// Cohorts of users or of a group type: the list (download members, use as a segment, delete), a behavioral cohort
// ("did X at least N times in the last D days", conditions ANDed) and an upload of ids, one per line.
import { Alert, Button, Card, FileInput, Grid, Group, NativeSelect, NumberInput, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useState, type FormEvent, type ReactNode } from 'react';
import type { Cohort, CohortCondition, UploadReply } from '../../api/types';
import { useAction, useApi, useCohortList, useGroupTypes } from '../../app/data';
import { navigate } from '../../app/router';
import { ConfirmDelete, Empty, ErrorNotice, Loading } from '../../app/ui';
import { formatNumber, formatTime } from '../../lib/format';
import { lastChartWithCohort } from '../charts/last-chart';
import { EventPicker, SuggestionsNotice } from '../charts/pickers';

/** A titled form in a card; the title names the form for assistive technology too. */
function FormCard({ title, onSubmit, children }: { title: string; onSubmit: (e: FormEvent) => void; children: ReactNode }) {
  return (
    <Card withBorder>
      <form onSubmit={onSubmit} aria-label={title}>
        <Stack gap="xs">
          <Title order={3} size="h5">
            {title}
          </Title>
          {children}
        </Stack>
      </form>
    </Card>
  );
}

const unitName = (countGroup: string) => (countGroup === 'User' ? 'Users' : countGroup);

function CountGroupSelect({ label, value, onChange }: { label: string; value: string; onChange: (v: string) => void }) {
  const { types } = useGroupTypes();
  return <NativeSelect label={label} value={value} onChange={(e) => onChange(e.currentTarget.value)} data={[{ value: 'User', label: 'Users' }, ...types.map((t) => ({ value: t, label: t }))]} />;
}

export function CohortsScreen() {
  const list = useCohortList();
  const api = useApi();
  const [deleting, setDeleting] = useState<Cohort>();
  const remove = useAction(async (a, id: string) => {
    await a.deleteCohort(id);
    return true;
  });
  const cohorts = list.data?.cohorts;

  const confirmDelete = async () => {
    if (!deleting) return;
    if (await remove.run(deleting.id)) {
      setDeleting(undefined);
      list.reload();
    }
  };

  return (
    <Stack gap="md" maw={1400}>
      <Title order={2} size="h3">
        Cohorts
      </Title>
      <Grid gap="md">
        <Grid.Col span={{ base: 12, lg: 7 }}>
          <Card withBorder>
            {list.error && <ErrorNotice title="Cohorts could not be loaded" message={list.error} onRetry={list.reload} />}
            {list.loading && !cohorts && <Loading label="Loading cohorts" />}
            {cohorts && cohorts.length === 0 && <Empty>No cohorts yet. Create one here, or save one from a chart&apos;s microscope.</Empty>}
            {cohorts && cohorts.length > 0 && (
              <Table striped aria-label="Cohorts" fz="sm">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Name</Table.Th>
                    <Table.Th>Of</Table.Th>
                    <Table.Th>Size</Table.Th>
                    <Table.Th>Computed</Table.Th>
                    <Table.Th>Actions</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {cohorts.map((c) => (
                    <Table.Tr key={c.id}>
                      <Table.Th scope="row" fw={500}>
                        {c.name}
                        {c.kind && (
                          <Text span size="xs" c="dimmed">
                            {' '}
                            ({c.kind})
                          </Text>
                        )}
                      </Table.Th>
                      <Table.Td>{unitName(c.countGroup)}</Table.Td>
                      <Table.Td>{formatNumber(c.size)}</Table.Td>
                      <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatTime(c.computed_at)}</Table.Td>
                      <Table.Td>
                        <Group gap={4} wrap="nowrap">
                          <Button size="compact-xs" variant="light" onClick={() => navigate(`/charts?${lastChartWithCohort(c)}`)} aria-label={`Use ${c.name} as segment`}>
                            Use as segment
                          </Button>
                          <Button size="compact-xs" variant="default" component="a" href={api.cohortMembersCsvUrl(c.id)} download aria-label={`Download members of ${c.name}`}>
                            Download members
                          </Button>
                          <Button size="compact-xs" variant="subtle" color="red" onClick={() => setDeleting(c)} aria-label={`Delete ${c.name}`}>
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
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 5 }}>
          <Stack gap="md">
            <NewBehavioral onCreated={list.reload} />
            <Upload onCreated={list.reload} />
          </Stack>
        </Grid.Col>
      </Grid>
      <ConfirmDelete
        title="Delete cohort"
        opened={deleting !== undefined}
        message={`Delete “${deleting?.name}”? Charts that use it as a segment will answer with an error.`}
        error={remove.error}
        pending={remove.pending}
        onConfirm={confirmDelete}
        onCancel={() => setDeleting(undefined)}
      />
    </Stack>
  );
}

const COUNT_OPS = [
  { value: '>=', label: 'at least' },
  { value: '<=', label: 'at most' },
  { value: '=', label: 'exactly' },
  { value: '>', label: 'more than' },
  { value: '<', label: 'fewer than' },
  { value: '!=', label: 'not exactly' },
];

const newCondition = (): CohortCondition => ({ type: 'event', event_type: '', op: '>=', value: 1, time_type: 'rolling', time_value: 30 });

function NewBehavioral({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [countGroup, setCountGroup] = useState('User');
  const [conditions, setConditions] = useState<CohortCondition[]>([newCondition()]);
  const [created, setCreated] = useState<Cohort>();
  const create = useAction((api, body: { name: string; countGroup: string; definition: CohortCondition[] }) => api.createCohort(body));
  const setCond = (i: number, c: CohortCondition | null) => setConditions(c ? conditions.map((x, j) => (j === i ? c : x)) : conditions.filter((_, j) => j !== i));
  const ready = name.trim() !== '' && conditions.every((c) => c.event_type.trim() !== '');

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const c = await create.run({ name: name.trim(), countGroup, definition: conditions });
    if (c) {
      setCreated(c);
      setName('');
      setConditions([newCondition()]);
      onCreated();
    }
  };

  return (
    <FormCard title="New behavioral cohort" onSubmit={submit}>
      <TextInput label="Cohort name" value={name} onChange={(e) => setName(e.currentTarget.value)} required />
      <CountGroupSelect label="Cohort of" value={countGroup} onChange={setCountGroup} />
      <SuggestionsNotice />
      {conditions.map((c, i) => (
        <Stack key={i} gap={4} pl="sm" style={{ borderLeft: '2px solid var(--mantine-color-gray-3)' }}>
          <Group gap={4} align="flex-end" wrap="nowrap">
            <div style={{ flex: 1 }}>
              <EventPicker label={`Condition ${i + 1}: did event`} value={c.event_type} onChange={(event_type) => setCond(i, { ...c, event_type })} specials={['_active']} />
            </div>
            {conditions.length > 1 && (
              <Button size="compact-xs" variant="subtle" color="gray" onClick={() => setCond(i, null)} aria-label={`Remove condition ${i + 1}`}>
                ×
              </Button>
            )}
          </Group>
          <Group gap={4} grow wrap="nowrap">
            <NativeSelect label="How often" aria-label={`Condition ${i + 1}: how often`} size="xs" value={c.op} data={COUNT_OPS} onChange={(e) => setCond(i, { ...c, op: e.currentTarget.value as CohortCondition['op'] })} />
            <NumberInput label="Times" aria-label={`Condition ${i + 1}: times`} size="xs" min={0} value={c.value} onChange={(v) => typeof v === 'number' && setCond(i, { ...c, value: Math.round(v) })} />
            <NumberInput label="In the last (days)" aria-label={`Condition ${i + 1}: in the last days`} size="xs" min={1} max={3650} value={c.time_value} onChange={(v) => typeof v === 'number' && setCond(i, { ...c, time_value: Math.round(v) })} />
          </Group>
        </Stack>
      ))}
      <Button size="compact-xs" variant="subtle" style={{ alignSelf: 'flex-start' }} onClick={() => setConditions([...conditions, newCondition()])} disabled={conditions.length >= 10}>
        + Condition (all must hold)
      </Button>
      {create.error && <ErrorNotice title="The cohort was not created" message={create.error} />}
      {created && (
        <Alert color="green" role="status">
          Created “{created.name}”: {formatNumber(created.size)} {unitName(created.countGroup).toLowerCase()}.
        </Alert>
      )}
      <Button type="submit" loading={create.pending} disabled={!ready}>
        Create cohort
      </Button>
    </FormCard>
  );
}

function Upload({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [countGroup, setCountGroup] = useState('User');
  const [file, setFile] = useState<File | null>(null);
  const [reply, setReply] = useState<UploadReply>();
  const upload = useAction(async (api, n: string, cg: string, f: File) => api.uploadCohort(n, cg, await f.text()));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    const r = await upload.run(name.trim(), countGroup, file);
    if (r) {
      setReply(r);
      setName('');
      setFile(null);
      onCreated();
    }
  };

  return (
    <FormCard title="Upload a cohort" onSubmit={submit}>
      <Text size="xs" c="dimmed">
        A text file with exactly one id per line (user ids, or group values of the chosen type). Blank lines are ignored.
      </Text>
      <TextInput label="Uploaded cohort name" value={name} onChange={(e) => setName(e.currentTarget.value)} required />
      <CountGroupSelect label="Ids are" value={countGroup} onChange={setCountGroup} />
      <FileInput label="File with one id per line" value={file} onChange={setFile} accept=".txt,.csv,text/plain,text/csv" clearable placeholder="Choose a file" />
      {upload.error && <ErrorNotice title="The upload failed" message={upload.error} />}
      {reply && (
        <Alert color={reply.matched < reply.total ? 'yellow' : 'green'} role="status">
          “{reply.name}”: {formatNumber(reply.matched)} of {formatNumber(reply.total)} ids matched.
          {reply.unknown_sample.length > 0 && ` Unknown, for example: ${reply.unknown_sample.slice(0, 5).join(', ')}.`}
        </Alert>
      )}
      <Button type="submit" loading={upload.pending} disabled={!name.trim() || !file}>
        Upload
      </Button>
    </FormCard>
  );
}
