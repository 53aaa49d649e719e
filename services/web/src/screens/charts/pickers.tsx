// Pickers fed by the project's catalog: events, property names, property values. They take free text too, so a
// chart can be built while the catalog is unavailable (SuggestionsNotice says why there are no suggestions).
import { Autocomplete, NativeSelect, TagsInput, Text } from '@mantine/core';
import { useEventNames, usePropertyNames, usePropertyValues, type PropKind } from '../../app/data';
import { OPS } from '../../charts/state';

export const SPECIAL_EVENTS: Record<string, string> = { _active: 'Any active event', _all: 'Any event', _new: 'New user' };

export function EventPicker({ label, value, onChange, specials = [] }: { label: string; value: string; onChange: (v: string) => void; specials?: string[] }) {
  const events = useEventNames();
  const shown = SPECIAL_EVENTS[value] && specials.includes(value) ? SPECIAL_EVENTS[value]! : value;
  const data = [...specials.map((s) => SPECIAL_EVENTS[s]!), ...events.items.filter((e) => !e.startsWith('_'))];
  const fromText = (text: string) => specials.find((s) => SPECIAL_EVENTS[s] === text) ?? text;
  return (
    <Autocomplete
      label={label}
      placeholder="Choose an event"
      value={shown}
      data={[...new Set(data)]}
      onChange={(t) => onChange(fromText(t))}
      limit={50}
      openOnFocus
      size="xs"
    />
  );
}

/** A property kind as one select value: 'event', 'user', 'group:<type>' (a property of that group type). */
export type KindValue = string;

export function kindOptions(groupTypes: string[], withEvent: boolean): { value: string; label: string }[] {
  return [
    ...(withEvent ? [{ value: 'event', label: 'Event property' }] : []),
    { value: 'user', label: 'User property' },
    ...groupTypes.map((t) => ({ value: `group:${t}`, label: `${t} property` })),
  ];
}

export function propKind(kind: KindValue, eventType?: string): PropKind {
  if (kind.startsWith('group:')) return { type: 'group', groupType: kind.slice('group:'.length) };
  return kind === 'event' ? { type: 'event', eventType } : { type: 'user' };
}

export function PropertyPicker({ label, kind, value, onChange, placeholder = 'Property' }: { label: string; kind: PropKind; value: string; onChange: (v: string) => void; placeholder?: string }) {
  const props = usePropertyNames(kind);
  return <Autocomplete label={label} placeholder={placeholder} value={value} onChange={onChange} data={props.items} limit={50} openOnFocus size="xs" />;
}

export function ValuesInput({ label, kind, name, value, onChange }: { label: string; kind: PropKind; name: string; value: string[]; onChange: (v: string[]) => void }) {
  const values = usePropertyValues(name ? kind : null, name);
  return (
    <TagsInput
      label={label}
      placeholder={value.length ? '' : 'Values (Enter after each)'}
      value={value}
      onChange={onChange}
      data={values.items}
      limit={50}
      acceptValueOnBlur
      clearable
      size="xs"
    />
  );
}

export function OpSelect({ label, value, onChange, ops = OPS }: { label: string; value: string; onChange: (v: string) => void; ops?: readonly string[] }) {
  return <NativeSelect label={label} value={value} onChange={(e) => onChange(e.currentTarget.value)} data={[...ops]} size="xs" />;
}

/** One line, once per form, when the catalog cannot suggest anything (the pickers still take free text). */
export function SuggestionsNotice() {
  const events = useEventNames();
  if (!events.error) return null;
  return (
    <Text size="xs" c="dimmed">
      Type event and property names: suggestions are unavailable ({events.error}).
    </Text>
  );
}
