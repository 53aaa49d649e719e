// Sign in with a project's API key and secret key. The keys go to the query service once and come back as an
// HttpOnly cookie; nothing is kept in the page or in browser storage.
import { Alert, Button, Card, Center, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import type { SessionInfo } from '../../api/types';
import { useAction } from '../../app/data';

export function SignIn({ notice, onSignedIn }: { notice?: string; onSignedIn: (s: SessionInfo) => void }) {
  const [apiKey, setApiKey] = useState('');
  const [secretKey, setSecretKey] = useState('');
  const signIn = useAction((api, key: string, secret: string) => api.signIn(key, secret));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const s = await signIn.run(apiKey.trim(), secretKey);
    if (s) {
      setSecretKey('');
      onSignedIn(s);
    }
  };

  return (
    <Center mih="100vh" bg="gray.0">
      <Card withBorder shadow="sm" padding="xl" w={420}>
        <form onSubmit={submit} aria-label="Sign in">
          <Stack>
            <div>
              <Title order={1} size="h3">
                groupscope
              </Title>
              <Text c="dimmed" size="sm">
                Account-level product analytics. Sign in with your project&apos;s keys.
              </Text>
            </div>
            {notice && (
              <Alert color="yellow" role="status">
                {notice}
              </Alert>
            )}
            <TextInput label="API key" value={apiKey} onChange={(e) => setApiKey(e.currentTarget.value)} required autoComplete="username" autoFocus spellCheck={false} />
            <PasswordInput label="Secret key" value={secretKey} onChange={(e) => setSecretKey(e.currentTarget.value)} required autoComplete="current-password" />
            {signIn.error && (
              <Alert color="red" role="alert" title="Sign-in failed">
                {signIn.error}
              </Alert>
            )}
            <Button type="submit" loading={signIn.pending} disabled={!apiKey.trim() || !secretKey}>
              Sign in
            </Button>
          </Stack>
        </form>
      </Card>
    </Center>
  );
}
