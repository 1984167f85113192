// One EventSource for the whole page (GET /api/events, server-sent events): views
// subscribe instead of polling, so a busy rack costs the Pi one open connection.

import type { InventoryEvent, NamedEvents } from '../../../src/api-client/types';

export type KindlingEvent = InventoryEvent;

type Listener = (e: KindlingEvent) => void;
const listeners = new Set<Listener>();
let source: EventSource | null = null;
let connected = false;
const statusListeners = new Set<(c: boolean) => void>();

function ensure(): void {
  if (source || typeof EventSource === 'undefined') return;
  source = new EventSource('/api/events', { withCredentials: true });
  source.onopen = () => setConnected(true);
  source.onerror = () => setConnected(false); // EventSource reconnects by itself
  for (const name of named.keys()) attach(name);
  source.onmessage = (m) => {
    let event: KindlingEvent;
    try {
      event = JSON.parse(m.data) as KindlingEvent;
    } catch {
      return;
    }
    for (const l of listeners) l(event);
  };
}

/** Named events on the same stream (mirror-progress, mirror-outcome, mirror-idle); machine events stay unnamed. */
// Listeners are kept by name; onNamed is what ties each name to its payload type.
const named = new Map<string, Set<(data: unknown) => void>>();

export function onNamed<K extends keyof NamedEvents>(name: K, listener: (data: NamedEvents[K]) => void): () => void {
  ensure();
  let set = named.get(name);
  if (!set) {
    set = new Set();
    named.set(name, set);
    attach(name);
  }
  const untyped = listener as (data: unknown) => void;
  set.add(untyped);
  return () => set.delete(untyped);
}

function attach(name: string): void {
  source?.addEventListener(name, (m) => {
    let data: unknown;
    try {
      data = JSON.parse((m as MessageEvent).data);
    } catch {
      return;
    }
    for (const l of named.get(name) ?? []) l(data);
  });
}

function setConnected(c: boolean): void {
  connected = c;
  for (const l of statusListeners) l(c);
}

export function onEvent(listener: Listener): () => void {
  ensure();
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function onConnection(listener: (c: boolean) => void): () => void {
  statusListeners.add(listener);
  listener(connected);
  return () => statusListeners.delete(listener);
}

export function closeLive(): void {
  source?.close();
  source = null;
  setConnected(false);
}
