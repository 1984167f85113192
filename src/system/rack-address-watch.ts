import type { KindlingConfig } from '../config/schema.js';
import { rackAddress } from './network.js';

type Interfaces = Parameters<typeof rackAddress>[1];

/**
 * With `server.advertise: auto` the rack address is whatever the interface has now. In
 * proxy mode that is a lease from the site's DHCP server, which may hand out another
 * address at renewal; DHCP replies naming the old one would send PXE clients nowhere.
 * Calls `onChange` once per change (never for an address that merely disappears, since
 * the old one is still the best answer until a new one arrives). Returns a stop function.
 */
export function watchRackAddress(options: {
  config: KindlingConfig;
  current: string;
  onChange: (next: string, previous: string) => void;
  intervalMs?: number;
  interfaces?: () => Interfaces;
}): () => void {
  if (options.config.server.advertise !== 'auto') return () => undefined;
  let current = options.current;
  const timer = setInterval(() => {
    const next = rackAddress(options.config, options.interfaces?.());
    if (next === null || next === current) return;
    const previous = current;
    current = next;
    options.onChange(next, previous);
  }, options.intervalMs ?? 10_000);
  timer.unref();
  return () => clearInterval(timer);
}
