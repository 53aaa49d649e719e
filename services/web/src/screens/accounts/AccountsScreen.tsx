// Accounts: pick a group type; without a search, the account list (usage metrics, properties, sort, filters, CSV:
// AccountList.tsx); with one, the accounts matching `name = value` (any value the property ever held) or a prefix of
// the group value, paged. Either lives in the URL.
import { Badge, Button, Group, SegmentedControl, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useState, type FormEvent } from 'react';
import type { GroupSummary } from '../../api/types';
import { useGroupTypes, useLoad } from '../../app/data';
import { Link, accountPath, navigate, useLocation } from '../../app/router';
import { Empty, ErrorNotice, Loading } from '../../app/ui';
import { formatTime, formatValue } from '../../lib/format';
import { AccountList } from './AccountList';
import { listFromSearch, listToSearch, type ListState } from './list-state';

const PAGE = 50;
/** properties shown in the list, when present; the page shows them all */
const PREFERRED = ['name', 'plan', 'region', 'industry', 'size'];

function accountsUrl(type: string, q: string, page: number): string {
  const p = new URLSearchParams();
  if (type) p.set('type', type);
  if (q) p.set('q', q);
  if (page > 1) p.set('page', String(page));
  const s = p.toString();
  return `/accounts${s ? `?${s}` : ''}`;
}

/** The list's URL: the group type and the list's own parameters. */
function listUrl(type: string, list: ListState): string {
  const p = new URLSearchParams([...(type ? [['type', type] as [string, string]] : []), ...listToSearch(list)]);
  const s = p.toString();
  return `/accounts${s ? `?${s}` : ''}`;
}

function summaryProps(g: GroupSummary): [string, string][] {
  const keys = Object.keys(g.properties);
  const chosen = [...PREFERRED.filter((k) => keys.includes(k)), ...keys.filter((k) => !PREFERRED.includes(k)).sort()].slice(0, 5);
  return chosen.map((k) => [k, formatValue(g.properties[k])]);
}

export function AccountsScreen() {
  const { search } = useLocation();
  const params = new URLSearchParams(search);
  const groupTypes = useGroupTypes();
  const type = params.get('type') || groupTypes.types[0] || '';
  const q = params.get('q') ?? '';
  const page = Math.max(1, Number(params.get('page')) || 1);
  const [text, setText] = useState(q);
  useEffect(() => setText(q), [q]);

  const key = type && q ? JSON.stringify([type, q, page]) : null;
  const results = useLoad(key, (api, signal) => api.searchGroups({ group_type: type, q, limit: PAGE, offset: (page - 1) * PAGE }, signal));
  const matches = results.data?.matches;
  const showUsers = matches?.some((m) => m.num_users !== undefined) ?? false;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    navigate(accountsUrl(type, text.trim(), 1));
  };

  return (
    <Stack gap="md" maw={1200}>
      <Title order={2} size="h3">
        Accounts
      </Title>
      {groupTypes.error && <ErrorNotice title="Group types could not be loaded" message={groupTypes.error} />}
      {groupTypes.loaded && groupTypes.types.length === 0 && <Empty>This project has no groups yet: send events with groups (or group identifies) first.</Empty>}
      {groupTypes.types.length > 0 && (
        <Group gap="sm" align="flex-end">
          <div>
            <Text size="sm" fw={500} id="group-type-label" mb={2}>
              Group type
            </Text>
            <SegmentedControl aria-labelledby="group-type-label" value={type} onChange={(t) => navigate(accountsUrl(t, q, 1))} data={groupTypes.types} />
          </div>
          <form onSubmit={submit} style={{ flex: 1 }} role="search">
            <Group gap="xs" align="flex-end">
              <TextInput
                label="Search accounts"
                description='name = value (any value it ever had; quotes for several words) or the start of an id'
                placeholder='plan = pro'
                value={text}
                onChange={(e) => setText(e.currentTarget.value)}
                style={{ flex: 1 }}
              />
              <Button type="submit">Search</Button>
              {q && (
                <Button variant="default" onClick={() => navigate(accountsUrl(type, '', 1))}>
                  Back to the list
                </Button>
              )}
            </Group>
          </form>
        </Group>
      )}
      {type && !q && <AccountList type={type} state={listFromSearch(params)} onChange={(list) => navigate(listUrl(type, list))} />}
      {results.error && <ErrorNotice title="The search failed" message={results.error} onRetry={results.reload} />}
      {results.loading && <Loading label="Searching" />}
      {matches && !results.loading && (
        <>
          {matches.length === 0 ? (
            <Empty>{page > 1 ? 'No more matches.' : q ? `No ${type} active in the last 6 months matches “${q}”.` : `No ${type} was active in the last 6 months.`}</Empty>
          ) : (
            <Table striped highlightOnHover withTableBorder aria-label="Matching accounts">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{type}</Table.Th>
                  <Table.Th>Current properties</Table.Th>
                  {showUsers && <Table.Th>Users</Table.Th>}
                  <Table.Th>Last seen</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {matches.map((m) => (
                  <Table.Tr key={m.group_value}>
                    <Table.Td>
                      <Link to={accountPath(m.group_type, m.group_value)} fw={600} size="sm">
                        {m.group_value}
                      </Link>
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4}>
                        {summaryProps(m).map(([k, v]) => (
                          <Badge key={k} variant="light" color="gray" tt="none" fw={400}>
                            {k}: {v}
                          </Badge>
                        ))}
                      </Group>
                    </Table.Td>
                    {showUsers && <Table.Td>{m.num_users ?? '–'}</Table.Td>}
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatTime(m.last_seen)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
          <Group justify="space-between">
            <Button variant="default" size="xs" disabled={page <= 1} onClick={() => navigate(accountsUrl(type, q, page - 1))}>
              Previous page
            </Button>
            <Text size="sm" c="dimmed">
              Page {page}
            </Text>
            <Button variant="default" size="xs" disabled={matches.length < PAGE} onClick={() => navigate(accountsUrl(type, q, page + 1))}>
              Next page
            </Button>
          </Group>
        </>
      )}
    </Stack>
  );
}
