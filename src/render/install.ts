import { KindlingError } from '../errors.js';
import { callbackUrl, curlRetry } from './callbacks.js';
import { renderCloudConfig } from './cloud-config.js';
import { renderIgnition2 } from './ignition2.js';
import { renderIgnition3 } from './ignition3.js';
import type { NodeDescription, NodeFile, RenderContext } from './node-description.js';
import { osArtifacts } from './os-artifacts.js';
import type { RenderExtras } from './plan.js';
import { describeNode, type RenderProfile } from './render-profile.js';
import { servedCloudConfig, servedIgnition, type RenderedConfig } from './rendered-config.js';
import { execArg, shellQuote, type PlannedUnit } from './systemd.js';
import { renderTemplate } from './template.js';
import { renderVariables } from './variables.js';

// The two configs a profile gives a machine (docs/how-a-node-boots.md):
// the target config (what the machine is after its first boot from disk, or on
// every boot of a live profile) and the install-phase config (what the PXE-booted
// installer runs to put the OS on the disk).

/**
 * The config of the installed (or live) system: Ignition 3 by default, Ignition 2 or cloud-config by profile.config, or
 * the profile's template.
 */
export function renderTargetConfig(profile: RenderProfile, ctx: RenderContext): RenderedConfig {
  const vars = renderVariables(ctx);
  if (profile.template !== undefined)
    return renderTemplate({ name: profile.name, config: profile.config, template: profile.template }, ctx, vars);
  const desc = describeNode(profile, vars);
  const where = `profile ${profile.name}`;
  const extras = { files: updateConfFiles(profile, desc, ctx) };
  switch (profile.config) {
    case 'ignition':
      return servedIgnition(renderIgnition3(desc, ctx, extras), 'ignition', where);
    case 'ignition-v2':
      return servedIgnition(renderIgnition2(desc, ctx, extras), 'ignition-v2', where);
    case 'cloud-config':
      return servedCloudConfig(renderCloudConfig(desc, ctx, extras));
  }
}

export const updateConfPath = '/etc/flatcar/update.conf';

/**
 * Flatcar's update_engine reads SERVER= and GROUP= from /etc/flatcar/update.conf
 * (flatcar/update_engine omaha_request_params.cc); pointing it at Kindling's
 * POST /v1/update/ keeps installed nodes updating from the mirror. update_engine posts
 * to SERVER as written, so the machine's update key in its query string comes back with
 * every check (docs/updates.md). A profile that writes the file itself, or says
 * `updates: {enabled: false}`, keeps its own.
 */
export function updateConfFiles(profile: RenderProfile, desc: NodeDescription, ctx: RenderContext): NodeFile[] {
  if (
    profile.os !== 'flatcar' ||
    profile.updates?.enabled === false ||
    desc.files.some((f) => f.path === updateConfPath)
  )
    return [];
  const group = profile.updates?.group ?? profile.channel ?? 'stable';
  const key = ctx.updateKey === undefined ? '' : `?node=${encodeURIComponent(ctx.updateKey)}`;
  const contents =
    `# Written by Kindling: update_engine asks Kindling's mirror for ` +
    `updates.\nSERVER=${ctx.serverUrl}/v1/update/${key}\nGROUP=${group}\n`;
  return [{ path: updateConfPath, mode: '0644', contents, overwrite: true }];
}

export const installUnitName = 'kindling-install.service';
export const installScriptPath = '/var/lib/kindling/install.sh';

/**
 * The install-phase config for the PXE-booted live system. It carries the profile's
 * users too, so an operator can ssh into an installer that got stuck.
 */
export function renderInstallConfig(profile: RenderProfile, ctx: RenderContext): RenderedConfig {
  if (profile.mode !== 'install')
    throw new KindlingError(
      'REQUEST_INVALID',
      `profile ${profile.name} is a live profile (mode: live): it has no install phase`,
      { profile: profile.name },
    );
  const where = `profile ${profile.name}: install phase`;
  const live: NodeDescription = {
    hostname: undefined,
    users: describeNode(profile, renderVariables(ctx)).users,
    files: [],
    units: [],
    storage: { disks: [], filesystems: [] },
  };
  if (profile.os === 'fcos')
    return servedIgnition(renderIgnition3(live, ctx, fcosInstallExtras(ctx)), 'ignition', where);
  const extras = flatcarInstallExtras(profile, ctx);
  switch (profile.config) {
    case 'ignition':
      return servedIgnition(renderIgnition3(live, ctx, extras), 'ignition', where);
    case 'ignition-v2':
      return servedIgnition(renderIgnition2(live, ctx, extras), 'ignition-v2', where);
    case 'cloud-config':
      return servedCloudConfig(renderCloudConfig(live, ctx, extras));
  }
}

/**
 * Fetch the target config, run flatcar-install against the mirror, call back, reboot.
 * flatcar-install's flags (flatcar/init, bin/flatcar-install): -d device, -b base URL
 * (overrides board and channel), -V version ("current" reads BASE/current/version.txt),
 * -i Ignition file or -c cloud-config file. It verifies the image's .sig itself.
 */
export function flatcarInstallScript(profile: RenderProfile, ctx: RenderContext): string {
  const cloudConfig = profile.config === 'cloud-config';
  const target = cloudConfig ? '/tmp/target.yaml' : '/tmp/target.ign';
  const targetUrl = `${ctx.serverUrl}/${cloudConfig ? 'cloud-config' : 'ignition'}?mac=${ctx.mac}&phase=target`;
  const base = osArtifacts(profile, ctx.serverUrl).installBase;
  const curl = `curl ${curlRetry.join(' ')}`;
  return [
    '#!/bin/bash',
    `# Kindling install phase for ${ctx.name} (${ctx.mac}): profile ${profile.name}.`,
    'set -uo pipefail',
    `failed_url=${shellQuote(callbackUrl(ctx, 'failed'))}`,
    'fail() {',
    '  echo "kindling-install: $1 failed" >&2',
    '  curl --silent --retry 5 --retry-connrefused -X POST -o /dev/null "${failed_url}&reason=$1" || true',
    '  exit 1',
    '}',
    `${curl} -o ${target} ${shellQuote(targetUrl)} || fail fetch-target-config`,
    `flatcar-install -d ${shellQuote(profile.installDisk)} -b ${shellQuote(base)} ` +
      `-V ${shellQuote(profile.version)} ${cloudConfig ? '-c' : '-i'} ${target} || fail flatcar-install`,
    `${curl} -X POST -o /dev/null ${shellQuote(callbackUrl(ctx, 'installed'))} || fail callback-installed`,
    'systemctl reboot',
    '',
  ].join('\n');
}

function flatcarInstallExtras(profile: RenderProfile, ctx: RenderContext): RenderExtras {
  const script: NodeFile = {
    path: installScriptPath,
    mode: '0700',
    contents: flatcarInstallScript(profile, ctx),
    overwrite: true,
  };
  const unit: PlannedUnit = {
    name: installUnitName,
    enabled: true,
    contents: [
      '[Unit]',
      `Description=Install Flatcar to ${profile.installDisk} (Kindling)`,
      'Wants=network-online.target',
      'After=network-online.target',
      '',
      '[Service]',
      'Type=oneshot',
      `ExecStart=/bin/bash ${installScriptPath}`,
      'StandardOutput=journal+console',
      'StandardError=journal+console',
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n'),
  };
  return { files: [script], units: [unit], runningCallback: false };
}

/**
 * Fedora CoreOS installs through coreos-installer.service, driven by the coreos.inst.*
 * kernel arguments the boot decision builds. Kindling only listens: a unit ordered
 * after the installer and before its reboot calls back `installed`, and a drop-in
 * adds an OnFailure= that calls back `failed`. Unit names from coreos/coreos-installer, systemd/.
 */
function fcosInstallExtras(ctx: RenderContext): RenderExtras {
  const post = (url: string) =>
    ['/usr/bin/curl', ...curlRetry, '-X', 'POST', '-o', '/dev/null', execArg(url)].join(' ');
  const installed: PlannedUnit = {
    name: 'kindling-installed.service',
    enabled: true,
    contents: [
      '[Unit]',
      'Description=Tell Kindling coreos-installer has installed this machine',
      'Requires=coreos-installer.service',
      'After=coreos-installer.service',
      'Before=coreos-installer-reboot.service coreos-installer-noreboot.service',
      '',
      '[Service]',
      'Type=oneshot',
      `ExecStart=${post(callbackUrl(ctx, 'installed'))}`,
      '',
      '[Install]',
      'WantedBy=coreos-installer.target',
      '',
    ].join('\n'),
  };
  const failed: PlannedUnit = {
    name: 'kindling-install-failed.service',
    contents: [
      '[Unit]',
      'Description=Tell Kindling coreos-installer failed',
      '',
      '[Service]',
      'Type=oneshot',
      `ExecStart=${post(`${callbackUrl(ctx, 'failed')}&reason=coreos-installer`)}`,
      '',
    ].join('\n'),
  };
  const onFailure: PlannedUnit = {
    name: 'coreos-installer.service',
    dropins: [{ name: 'kindling-failed.conf', contents: '[Unit]\nOnFailure=kindling-install-failed.service\n' }],
  };
  return { units: [installed, failed, onFailure], runningCallback: false };
}
