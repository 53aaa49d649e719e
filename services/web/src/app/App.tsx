// The app: asks for the session, shows sign-in without one (keeping the URL, so a shared link opens after signing
// in), otherwise the shell with the screen the path names. A session that ends mid-use returns here with a notice.
import { AppShell, Button, Group, Text, Title } from '@mantine/core';
import { useEffect, useMemo, useState } from 'react';
import { createApi } from '../api/client';
import type { SessionInfo } from '../api/types';
import { AccountScreen } from '../screens/account/AccountScreen';
import { AccountsScreen } from '../screens/accounts/AccountsScreen';
import { ChartsScreen } from '../screens/charts/ChartsScreen';
import { CohortsScreen } from '../screens/cohorts/CohortsScreen';
import { DynamicPropertiesScreen } from '../screens/dynamic/DynamicPropertiesScreen';
import { SignIn } from '../screens/signin/SignIn';
import { DataContext, useApi, type AppData } from './data';
import { Link, navigate, useLocation } from './router';
import { ErrorNotice, Loading } from './ui';

const NAV = [
  { to: '/charts', label: 'Charts' },
  { to: '/accounts', label: 'Accounts' },
  { to: '/cohorts', label: 'Cohorts' },
  { to: '/dynamic-properties', label: 'Dynamic properties' },
];

type SessionState = { kind: 'checking' } | { kind: 'failed'; message: string } | { kind: 'signed-out'; notice?: string } | { kind: 'signed-in'; session: SessionInfo };

export function App() {
  const [session, setSession] = useState<SessionState>({ kind: 'checking' });
  const [attempt, setAttempt] = useState(0);
  const data: AppData = useMemo(
    () => ({
      api: createApi({ onSessionExpired: (notice) => setSession({ kind: 'signed-out', notice }) }),
      cache: new Map(),
    }),
    [],
  );

  useEffect(() => {
    const ctl = new AbortController();
    data.api.session(ctl.signal).then(
      (s) => setSession(s ? { kind: 'signed-in', session: s } : { kind: 'signed-out' }),
      (err: Error) => !ctl.signal.aborted && setSession({ kind: 'failed', message: err.message }),
    );
    return () => ctl.abort();
  }, [data, attempt]);

  const signedOut = () => {
    data.cache.clear();
    setSession({ kind: 'signed-out' });
  };

  let body;
  switch (session.kind) {
    case 'checking':
      body = <Loading label="Checking your session" />;
      break;
    case 'failed':
      body = <ErrorNotice title="The query service did not answer" message={session.message} onRetry={() => setAttempt((a) => a + 1)} />;
      break;
    case 'signed-out':
      body = (
        <SignIn
          notice={session.notice}
          onSignedIn={(s) => {
            data.cache.clear();
            setSession({ kind: 'signed-in', session: s });
          }}
        />
      );
      break;
    case 'signed-in':
      return (
        <DataContext.Provider value={data}>
          <Shell session={session.session} onSignedOut={signedOut} />
        </DataContext.Provider>
      );
  }
  return <DataContext.Provider value={data}>{body}</DataContext.Provider>;
}

function Shell({ session, onSignedOut }: { session: SessionInfo; onSignedOut: () => void }) {
  const { path } = useLocation();
  const [signingOut, setSigningOut] = useState(false);
  const [error, setError] = useState<string>();
  const api = useApi();

  useEffect(() => {
    if (path === '/' || path === '') navigate('/charts', { replace: true });
  }, [path]);

  const signOut = async () => {
    setSigningOut(true);
    try {
      await api.signOut();
      onSignedOut();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setSigningOut(false);
    }
  };

  return (
    <AppShell header={{ height: 56 }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="lg" wrap="nowrap">
            <Title order={1} size="h4">
              groupscope
            </Title>
            <nav aria-label="Main">
              <Group gap="md" wrap="nowrap">
                {NAV.map((n) => {
                  const active = path === n.to || path.startsWith(`${n.to}/`);
                  return (
                    <Link key={n.to} to={n.to} fw={active ? 700 : 500} c={active ? undefined : 'dark'} aria-current={active ? 'page' : undefined}>
                      {n.label}
                    </Link>
                  );
                })}
              </Group>
            </nav>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Text size="sm" c="dimmed">
              Project <b>{session.project.name}</b>
            </Text>
            <Button size="xs" variant="default" onClick={signOut} loading={signingOut}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Main>
        {error && <ErrorNotice title="Sign out failed" message={error} />}
        <Screen path={path} />
      </AppShell.Main>
    </AppShell>
  );
}

function Screen({ path }: { path: string }) {
  if (path === '/charts' || path === '/' || path === '') return <ChartsScreen />;
  if (path === '/accounts') return <AccountsScreen />;
  const account = /^\/accounts\/([^/]+)\/(.+)$/.exec(path);
  if (account) return <AccountScreen groupType={decodeURIComponent(account[1]!)} groupValue={decodeURIComponent(account[2]!)} />;
  if (path === '/cohorts') return <CohortsScreen />;
  if (path === '/dynamic-properties') return <DynamicPropertiesScreen />;
  return (
    <ErrorNotice title="Page not found" message={`There is no page at ${path}.`} />
  );
}
