import type { KindlingConfig } from './schema.js';

/** Where the appliance keeps its configuration file. */
export const applianceConfigPath = '/etc/kindling/kindling.yaml';

/**
 * What `kindling serve` uses in a checkout with no configuration file: nothing that
 * needs root (HTTP on 8080, HTTPS on 8443, TFTP on 6969, DHCP off), state in ./var, no internet at
 * start (the mirror schedule is off until someone asks).
 */
export const checkoutDefaults = {
  dataDir: './var',
  http: { listen: '127.0.0.1', port: 8080, httpsPort: 8443 },
  tftp: { listen: '127.0.0.1', port: 6969 },
  dhcp: { mode: 'off' },
  mirror: { schedule: null },
} satisfies DeepPartial<KindlingConfig>;

export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K];
};
