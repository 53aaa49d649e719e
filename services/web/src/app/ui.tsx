// The states every panel shows: loading, an error with the API's message (and a retry), empty; a download; a
// confirmation before deleting.
import { Alert, Button, Center, Group, Loader, Modal, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { toCsv, type Cell } from '../lib/csv';

export function Loading({ label = 'Loading' }: { label?: string }) {
  return (
    <Center py="lg" role="status" aria-live="polite">
      <Group gap="xs">
        <Loader size="sm" aria-hidden />
        <Text size="sm" c="dimmed">
          {label}…
        </Text>
      </Group>
    </Center>
  );
}

export function ErrorNotice({ title = 'Something went wrong', message, onRetry }: { title?: string; message: string; onRetry?: () => void }) {
  return (
    <Alert color="red" title={title} role="alert" my="sm">
      <Text size="sm">{message}</Text>
      {onRetry && (
        <Button size="xs" variant="light" color="red" mt="xs" onClick={onRetry}>
          Try again
        </Button>
      )}
    </Alert>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <Text c="dimmed" size="sm" py="md" ta="center">
      {children}
    </Text>
  );
}

/** Loading, error or content, in that order. */
export function Loaded<T>({ state, label, children }: { state: { data?: T; error?: string; loading: boolean; reload?: () => void }; label?: string; children: (data: T) => ReactNode }) {
  if (state.error) return <ErrorNotice message={state.error} onRetry={state.reload} />;
  if (state.data === undefined) return state.loading ? <Loading label={label} /> : null;
  return <>{children(state.data)}</>;
}

/** Saves text made in the page as a file. */
export function downloadText(name: string, text: string, type = 'text/csv;charset=utf-8'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function CsvButton({ rows, name, label = 'Download CSV' }: { rows: () => Cell[][]; name: string; label?: string }) {
  return (
    <Button size="xs" variant="default" onClick={() => downloadText(name, toCsv(rows()))}>
      {label}
    </Button>
  );
}

/** Asks before deleting; the action's error stays in the dialog. */
export function ConfirmDelete({ title, opened, message, error, pending, onConfirm, onCancel }: { title: string; opened: boolean; message: ReactNode; error?: string; pending: boolean; onConfirm: () => void; onCancel: () => void }) {
  return (
    <Modal opened={opened} onClose={onCancel} title={title}>
      <Text size="sm">{message}</Text>
      {error && <ErrorNotice title="Not deleted" message={error} />}
      <Group justify="flex-end" mt="md">
        <Button variant="default" onClick={onCancel}>
          Cancel
        </Button>
        <Button color="red" onClick={onConfirm} loading={pending}>
          Delete
        </Button>
      </Group>
    </Modal>
  );
}
