// What each service reports about itself on /healthz, the dashboard and the wizard.
// Typed facts, not prose: the page and the recommendation read fields, and `detail`
// is only ever shown to a person, never parsed back.

export type ServiceState = 'running' | 'off' | 'failed' | 'degraded';

export type DhcpConfiguredMode = 'off' | 'proxy' | 'full' | 'auto';

/** Why the DHCP service runs in the mode it does. */
export type DhcpReason =
  /** dhcp.mode is off. */
  | 'configured-off'
  /** dhcp.mode is proxy: no probe, no addresses. */
  | 'configured-proxy'
  /** full or auto, and the start-up probe heard no other server: Kindling hands out addresses. */
  | 'no-other-server'
  /** full or auto, and another server offered an address: proxy only, to avoid fighting it. */
  | 'other-server-seen';

/** A DHCP server that offered an address to Kindling's probe (src/dhcp/probe.ts). */
export interface OtherDhcpServer {
  /** Its server identifier (option 54), else its source address. */
  server: string;
  /** The address it offered the probe. */
  offered: string;
}

export interface DhcpFacts {
  configuredMode: DhcpConfiguredMode;
  /** The mode in force. */
  mode: 'off' | 'proxy' | 'full';
  reason: DhcpReason;
  otherServers: OtherDhcpServer[];
  /** The local pool handed out (full mode), else null. */
  range: { start: string; end: string } | null;
  leases: number;
}

export interface ServiceStatus {
  name: string;
  state: ServiceState;
  /** For a person to read; nothing parses it. */
  detail: string;
  listen?: string;
  /** The DHCP service's facts, when it runs. */
  dhcp?: DhcpFacts;
}

/** The words for a reason, for logs and `detail`. */
export function describeDhcpReason(facts: Pick<DhcpFacts, 'configuredMode' | 'reason' | 'otherServers'>): string {
  switch (facts.reason) {
    case 'configured-off':
      return 'dhcp.mode is off';
    case 'configured-proxy':
      return 'dhcp.mode is proxy';
    case 'no-other-server':
      return facts.configuredMode === 'full'
        ? 'dhcp.mode is full and no other DHCP server answered the probe'
        : 'no other DHCP server answered the probe: serving full DHCP';
    case 'other-server-seen': {
      const first = facts.otherServers[0];
      const who = first ? ` at ${first.server} (offered ${first.offered})` : '';
      return `another DHCP server answered${who}: fell back to proxy, no addresses handed out`;
    }
  }
}
