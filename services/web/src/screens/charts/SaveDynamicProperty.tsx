// `Save as dynamic property`: a single-series segmentation chart becomes a group property recomputed per group
// (e.g. "Last 7 Day Active Users" of each company). The chart's metric is copied; later edits of the chart do not
// change the property.
import { Alert, Button, Group, Modal, NativeSelect, NumberInput, Stack, Text, TextInput } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import type { DynamicProperty, DynamicWindow } from '../../api/types';
import { useAction, useGroupTypes } from '../../app/data';
import { Link } from '../../app/router';
import { ErrorNotice } from '../../app/ui';
import { eventJson, type ChartState } from '../../charts/state';

export function SaveDynamicProperty({ state, opened, onClose }: { state: ChartState; opened: boolean; onClose: () => void }) {
  const { types } = useGroupTypes();
  const [groupType, setGroupType] = useState('');
  const [name, setName] = useState('');
  const [windowKind, setWindowKind] = useState('rolling');
  const [days, setDays] = useState(7);
  const [saved, setSaved] = useState<DynamicProperty>();
  const save = useAction((api, body: Parameters<typeof api.createDynamicProperty>[0]) => api.createDynamicProperty(body));
  const chosenType = groupType || types[0] || '';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const window: DynamicWindow = windowKind === 'rolling' ? { type: 'rolling', days } : { type: 'calendar', unit: windowKind as 'day' | 'week' | 'month' };
    const p = await save.run({ group_type: chosenType, name: name.trim(), metric: { e: eventJson(state.events[0]!), m: state.metric }, window });
    if (p) setSaved(p);
  };

  const close = () => {
    setSaved(undefined);
    save.clearError();
    onClose();
  };

  return (
    <Modal opened={opened} onClose={close} title="Save as dynamic property">
      {saved ? (
        <Stack>
          <Alert color="green" role="status" title="Dynamic property saved">
            “{saved.name}” is computed for every {saved.group_type} on its schedule. Run it now from the list.
          </Alert>
          <Group justify="space-between">
            <Link to="/dynamic-properties" onClick={close}>
              Dynamic properties
            </Link>
            <Button onClick={close}>Done</Button>
          </Group>
        </Stack>
      ) : (
        <form onSubmit={submit} aria-label="Save as dynamic property">
          <Stack gap="sm">
            <Text size="sm" c="dimmed">
              Per group, the chart&apos;s metric ({state.metric}) of its users over the window, written as a group property.
            </Text>
            <NativeSelect label="Group type" value={chosenType} data={types.length ? types : [{ value: '', label: 'No group types yet' }]} onChange={(e) => setGroupType(e.currentTarget.value)} />
            <TextInput label="Property name" value={name} onChange={(e) => setName(e.currentTarget.value)} required placeholder="Last 7 Day Active Users" />
            <NativeSelect
              label="Window"
              value={windowKind}
              onChange={(e) => setWindowKind(e.currentTarget.value)}
              data={[
                { value: 'rolling', label: 'Rolling: the last N days (recomputed daily)' },
                { value: 'day', label: 'Calendar day' },
                { value: 'week', label: 'Calendar week' },
                { value: 'month', label: 'Calendar month' },
              ]}
            />
            {windowKind === 'rolling' && <NumberInput label="Days" min={1} max={365} value={days} onChange={(v) => typeof v === 'number' && setDays(v)} />}
            {save.error && <ErrorNotice title="Not saved" message={save.error} />}
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button type="submit" loading={save.pending} disabled={!name.trim() || !chosenType}>
                Save
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}
