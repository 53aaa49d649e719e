// The microscope: who is behind one point of a chart (users or accounts), with a CSV download of all of them and
// saving them as a static cohort. Accounts link to their pages.
import { Alert, Anchor, Badge, Button, Drawer, Group, Stack, Table, Text, TextInput } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import type { Cohort } from '../../api/types';
import { useAction, useApi, useLoad } from '../../app/data';
import { Link, accountPath, navigate } from '../../app/router';
import { Empty, ErrorNotice, Loading } from '../../app/ui';
import { formatTime } from '../../lib/format';

const PAGE = 100;

export interface MicroscopeTarget {
  params: [string, string][];
  title: string;
}

export function Microscope({ target, onClose, onUseCohort }: { target: MicroscopeTarget | null; onClose: () => void; onUseCohort: (c: Cohort) => void }) {
  return (
    <Drawer opened={target !== null} onClose={onClose} position="right" size={520} title={<Text fw={600}>Microscope{target ? `: ${target.title}` : ''}</Text>} aria-label="Microscope">
      {target && <Members key={JSON.stringify(target.params)} target={target} onUseCohort={onUseCohort} />}
    </Drawer>
  );
}

function Members({ target, onUseCohort }: { target: MicroscopeTarget; onUseCohort: (c: Cohort) => void }) {
  const api = useApi();
  const [offset, setOffset] = useState(0);
  const page = useLoad(`${JSON.stringify(target.params)}#${offset}`, (a, signal) => a.microscope([...target.params, ['limit', String(PAGE)], ['offset', String(offset)]], signal));
  const [saving, setSaving] = useState(false);
  const [name, setName] = useState('');
  const [saved, setSaved] = useState<Cohort>();
  const save = useAction((a, n: string) => a.cohortFromMicroscope(target.params, n));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const c = await save.run(name.trim());
    if (c) {
      setSaved(c);
      setSaving(false);
    }
  };

  const countGroup = page.data?.countGroup;
  const unit = !countGroup || countGroup === 'User' ? 'users' : countGroup === 'company' ? 'accounts' : `${countGroup} groups`;
  const total = page.data?.total;

  return (
    <Stack gap="sm">
      <Group gap="xs">
        <Button component="a" href={api.microscopeCsvUrl(target.params)} download size="xs" variant="default">
          Download CSV
        </Button>
        <Button size="xs" variant="light" onClick={() => setSaving((s) => !s)} aria-expanded={saving}>
          Save as cohort
        </Button>
      </Group>
      {saving && (
        <form onSubmit={submit} aria-label="Save as cohort">
          <Group align="flex-end" gap="xs">
            <TextInput label="Cohort name" size="xs" value={name} onChange={(e) => setName(e.currentTarget.value)} required style={{ flex: 1 }} autoFocus />
            <Button type="submit" size="xs" loading={save.pending} disabled={!name.trim()}>
              Save cohort
            </Button>
          </Group>
          {save.error && <ErrorNotice title="The cohort was not saved" message={save.error} />}
        </form>
      )}
      {saved && (
        <Alert color="green" role="status" title="Cohort saved">
          <Text size="sm">
            “{saved.name}” holds {saved.size} {saved.countGroup === 'User' ? 'users' : saved.countGroup === 'company' ? 'accounts' : `${saved.countGroup} groups`}.
          </Text>
          <Group gap="xs" mt={6}>
            <Button size="compact-xs" variant="light" onClick={() => onUseCohort(saved)}>
              Use as segment
            </Button>
            <Anchor size="xs" href="/cohorts" onClick={(e) => { e.preventDefault(); navigate('/cohorts'); }}>
              All cohorts
            </Anchor>
          </Group>
        </Alert>
      )}
      {page.error && <ErrorNotice message={page.error} onRetry={page.reload} />}
      {page.loading && <Loading label="Finding who is behind this point" />}
      {page.data && (
        <>
          <Text size="sm">
            {total !== undefined ? (
              <>
                <b>{total}</b> {unit}
              </>
            ) : (
              unit
            )}
            {total !== undefined && total > PAGE && ` (showing ${offset + 1}–${Math.min(offset + PAGE, total)})`}
          </Text>
          {page.data.members.length === 0 ? (
            <Empty>Nobody is behind this point.</Empty>
          ) : (
            <Table striped fz="xs" aria-label="Members">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{countGroup && countGroup !== 'User' ? countGroup : 'User'}</Table.Th>
                  <Table.Th>First event in this point</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.data.members.map((m) => (
                  <Table.Tr key={m.id}>
                    <Table.Td>
                      {countGroup && countGroup !== 'User' ? (
                        <Link to={accountPath(countGroup, m.id)} size="xs">
                          {m.id}
                        </Link>
                      ) : (
                        m.id
                      )}
                    </Table.Td>
                    <Table.Td>{formatTime(m.first_time)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
          <Group justify="space-between">
            <Button size="compact-xs" variant="default" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
              Previous
            </Button>
            {countGroup && <Badge variant="light" tt="none">{countGroup === 'User' ? 'users' : countGroup}</Badge>}
            <Button size="compact-xs" variant="default" disabled={total !== undefined ? offset + PAGE >= total : page.data.members.length < PAGE} onClick={() => setOffset(offset + PAGE)}>
              Next
            </Button>
          </Group>
        </>
      )}
    </Stack>
  );
}
