// Data for screens: the API client in context, a hook that loads what a screen shows (loading, error, data;
// the request of a screen that moved on is aborted), and the catalog look-ups behind pickers, asked once per session.
import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import { messageOf, type Api } from '../api/client';

export interface AppData {
  api: Api;
  /** answers shared by pickers (event names, property names, values), dropped at sign-out */
  cache: Map<string, Promise<unknown>>;
}

export const DataContext = createContext<AppData | null>(null);

export function useApi(): Api {
  const ctx = useContext(DataContext);
  if (!ctx) throw new Error('useApi outside DataContext');
  return ctx.api;
}

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload(): void;
}

/**
 * Loads `fn` whenever `key` changes (null: nothing to load). The previous request is aborted; its late answer is
 * ignored. `reload` asks again with the same key.
 */
export function useLoad<T>(key: string | null, fn: (api: Api, signal: AbortSignal) => Promise<T>, opts: { keepPrevious?: boolean } = {}): Loaded<T> {
  const api = useApi();
  const [state, setState] = useState<{ key: string | null; data?: T; error?: string; loading: boolean }>({ key: null, loading: key !== null });
  const [nonce, setNonce] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const keep = opts.keepPrevious ?? false;
  useEffect(() => {
    if (key === null) {
      setState({ key, loading: false });
      return;
    }
    const ctl = new AbortController();
    setState((s) => ({ key, data: s.key === key || keep ? s.data : undefined, loading: true }));
    fnRef.current(api, ctl.signal).then(
      (data) => {
        if (!ctl.signal.aborted) setState({ key, data, loading: false });
      },
      (err: unknown) => {
        if (!ctl.signal.aborted) setState({ key, error: messageOf(err), loading: false });
      },
    );
    return () => ctl.abort();
  }, [api, key, nonce, keep]);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  const current = state.key === key;
  return { data: current || keep ? state.data : undefined, error: current ? state.error : undefined, loading: key !== null && (!current || state.loading), reload };
}

/** Runs an action (a POST or DELETE) with its own pending and error state. */
export function useAction<A extends unknown[], T>(fn: (api: Api, ...args: A) => Promise<T>) {
  const api = useApi();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const run = useCallback(
    async (...args: A): Promise<T | undefined> => {
      setPending(true);
      setError(undefined);
      try {
        return await fnRef.current(api, ...args);
      } catch (err) {
        setError(messageOf(err));
        return undefined;
      } finally {
        setPending(false);
      }
    },
    [api],
  );
  return { run, pending, error, clearError: () => setError(undefined) };
}

/** A catalog answer shared by every picker that asks the same thing; a failure is kept as a message. */
function useCached<T>(key: string | null, fn: (api: Api) => Promise<T>): { data: T | undefined; error: string | undefined } {
  const ctx = useContext(DataContext);
  const [state, setState] = useState<{ key: string | null; data?: T; error?: string }>({ key: null });
  const fnRef = useRef(fn);
  fnRef.current = fn;
  useEffect(() => {
    if (!ctx || key === null) return;
    let p = ctx.cache.get(key) as Promise<T> | undefined;
    if (!p) {
      p = fnRef.current(ctx.api);
      ctx.cache.set(key, p);
      // a failure is not kept: the next picker that opens asks again
      p.catch(() => ctx.cache.delete(key));
    }
    let live = true;
    p.then(
      (data) => live && setState({ key, data }),
      (err: unknown) => live && setState({ key, error: messageOf(err) }),
    );
    return () => {
      live = false;
    };
  }, [ctx, key]);
  return state.key === key ? { data: state.data, error: state.error } : { data: undefined, error: undefined };
}

export interface Suggestions {
  items: string[];
  /** why there are none, when the server could not say */
  error?: string;
}

const names = (items: { name: string }[] | undefined) => items?.map((i) => i.name) ?? [];

export function useGroupTypes(): { types: string[]; error?: string; loaded: boolean } {
  const { data, error } = useCached('group-types', (api) => api.groupTypes());
  return { types: data?.types.map((t) => t.group_type) ?? [], error, loaded: data !== undefined };
}

export function useEventNames(): Suggestions {
  const { data, error } = useCached('events', (api) => api.events());
  return { items: names(data?.data), error };
}

export type PropKind = { type: 'event'; eventType?: string } | { type: 'user' } | { type: 'group'; groupType: string };

const kindKey = (k: PropKind) => (k.type === 'group' ? `group:${k.groupType}` : k.type === 'event' ? `event:${k.eventType ?? ''}` : 'user');
const kindQuery = (k: PropKind) =>
  k.type === 'group' ? { type: k.type, group_type: k.groupType } : k.type === 'event' && k.eventType && !k.eventType.startsWith('_') ? { type: k.type, event_type: k.eventType } : { type: k.type };

export function usePropertyNames(kind: PropKind | null): Suggestions {
  const { data, error } = useCached(kind ? `props:${kindKey(kind)}` : null, (api) => api.properties(kindQuery(kind!)));
  return { items: names(data?.properties), error };
}

export function usePropertyValues(kind: PropKind | null, name: string): Suggestions {
  const key = kind && name ? `values:${kindKey(kind)}:${name}` : null;
  const { data, error } = useCached(key, (api) => api.propertyValues({ ...kindQuery(kind!), name }));
  return { items: data?.values.map((v) => v.value) ?? [], error };
}

/** Cohorts for segment pickers; fresh on each screen that shows them. */
export function useCohortList() {
  return useLoad('cohorts', (api, signal) => api.cohorts(signal));
}
