import type { HostAddressRequest } from './host-address-protocol.js';

// The nmcli command lines that set the appliance's own address (nmcli(1)), as argument
// lists: nothing here passes through a shell, so no value in a request can become a
// command. `device modify` changes only what is applied now (a reboot brings the saved
// profile back); `connection modify` saves it; `connection up` re-applies the saved
// profile, which is how a change that was never confirmed goes back.

/** The ipv4.* properties a request sets, in nmcli's name/value pairs. */
export function ipv4Properties(request: Pick<HostAddressRequest, 'method' | 'address' | 'gateway' | 'dns'>): string[] {
  if (request.method === 'dhcp')
    return ['ipv4.method', 'auto', 'ipv4.addresses', '', 'ipv4.gateway', '', 'ipv4.dns', request.dns.join(',')];
  return [
    'ipv4.method',
    'manual',
    'ipv4.addresses',
    request.address ?? '',
    'ipv4.gateway',
    request.gateway ?? '',
    'ipv4.dns',
    request.dns.join(','),
  ];
}

/** Asks which device the profile is active on; deviceOf reads the answer. */
export function deviceQuery(connection: string): string[] {
  return ['-g', 'GENERAL.DEVICES', 'connection', 'show', connection];
}

export interface NmcliPlan {
  /** For this boot only. */
  apply: string[];
  /** Into the saved profile, once confirmed. */
  persist: string[];
  /** Back to the saved profile. */
  revert: string[];
}

export function nmcliPlan(
  request: Pick<HostAddressRequest, 'method' | 'address' | 'gateway' | 'dns'>,
  connection: string,
  device: string,
): NmcliPlan {
  const properties = ipv4Properties(request);
  return {
    apply: ['device', 'modify', device, ...properties],
    persist: ['connection', 'modify', connection, ...properties],
    revert: ['--wait', '30', 'connection', 'up', connection],
  };
}

/** The first device in `nmcli -g GENERAL.DEVICES` output; null when the profile is not active. */
export function deviceOf(output: string): string | null {
  const first = output.split(/[\n,]/)[0]?.trim() ?? '';
  return /^[^/\s:]{1,15}$/.test(first) ? first : null;
}
