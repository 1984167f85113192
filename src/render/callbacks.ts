import type { RenderContext } from './node-description.js';
import { execArg, type PlannedUnit } from './systemd.js';

// The callbacks a node makes to Kindling (docs/how-a-node-boots.md; docs/rendering.md,
// "The running callback").
// The token is the proof: only this machine's rendered configs contain it.

export type CallbackKind = 'installed' | 'running' | 'failed';

export const runningCallbackUnitName = 'kindling-running.service';
/** On the node's persistent /var, so the callback survives reboots as "done". */
export const runningCallbackStamp = '/var/lib/kindling-callback/running';

export function callbackUrl(ctx: RenderContext, kind: CallbackKind): string {
  return `${ctx.serverUrl}/callback/${kind}?mac=${ctx.mac}&token=${encodeURIComponent(ctx.token)}`;
}

/**
 * curl flags shared by every call home. Without --retry-delay, curl backs off
 * exponentially between retries (1 s, 2 s, 4 s ...); --retry-connrefused covers the
 * minutes a switch port or the appliance may still be coming up.
 */
export const curlRetry = [
  '--fail',
  '--silent',
  '--show-error',
  '--retry',
  '10',
  '--retry-connrefused',
  '--retry-max-time',
  '600',
  '--connect-timeout',
  '10',
];

/**
 * The one-shot unit that tells Kindling the installed system came up. It runs after the
 * network is online, once: the stamp file marks it done, and systemd restarts it on
 * failure so a long outage of the appliance only delays it.
 */
export function runningCallbackUnit(ctx: RenderContext): PlannedUnit {
  const stampDir = runningCallbackStamp.replace(/\/[^/]+$/, '');
  const curl = [
    '/usr/bin/curl',
    ...curlRetry,
    '-X',
    'POST',
    '-o',
    '/dev/null',
    execArg(callbackUrl(ctx, 'running')),
  ].join(' ');
  return {
    name: runningCallbackUnitName,
    enabled: true,
    contents: [
      '[Unit]',
      'Description=Tell Kindling this machine is running',
      'Wants=network-online.target',
      'After=network-online.target',
      `ConditionPathExists=!${runningCallbackStamp}`,
      // Restart= on a oneshot needs StartLimit room for a long outage (systemd >= 244).
      'StartLimitIntervalSec=0',
      '',
      '[Service]',
      'Type=oneshot',
      `ExecStart=${curl}`,
      `ExecStartPost=/usr/bin/mkdir -p ${stampDir}`,
      `ExecStartPost=/usr/bin/touch ${runningCallbackStamp}`,
      'Restart=on-failure',
      'RestartSec=60',
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n'),
  };
}
