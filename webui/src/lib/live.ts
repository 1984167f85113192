// One EventSource for the whole page (GET /api/events, server-sent events): views
// subscribe instead of polling, so a busy rack costs the Pi one open connection.

import type { InventoryEvent } from '../../../src/api-client/types';

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
