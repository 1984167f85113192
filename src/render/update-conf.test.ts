import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { haveIgnitionValidate, ignitionValidate } from '../../test/support/ignition-validate.js';
import { dataUrlText, fcosProfile, nodeA, sampleProfile } from './fixtures.test-data.js';
import { renderTargetConfig, updateConfPath } from './install.js';
import type { RenderContext } from './node-description.js';
import type { RenderProfile } from './render-profile.js';

// Installed Flatcar nodes ask Kindling for updates: update_engine reads SERVER= and
// GROUP= from /etc/flatcar/update.conf (flatcar/update_engine omaha_request_params.cc).

type IgnFile = { path: string; mode: number; contents: { source: string } };
const updateConf = (
  profile: RenderProfile,
  config: RenderProfile['config'] = 'ignition',
  ctx: RenderContext = nodeA,
): string | null => {
  const body = renderTargetConfig({ ...profile, config }, ctx).body;
  if (config === 'cloud-config')
    return (
      (parse(body) as { write_files: Array<{ path: string; content: string }> }).write_files.find(
        (f) => f.path === updateConfPath,
      )?.content ?? null
    );
  const ign = JSON.parse(body) as { storage?: { files?: IgnFile[] } };
  const file = ign.storage?.files?.find((f) => f.path === updateConfPath);
  return file ? dataUrlText(file.contents.source) : null;
};

describe('/etc/flatcar/update.conf in Flatcar target configs', () => {
  it.each(['ignition', 'ignition-v2', 'cloud-config'] as const)(
    "%s: SERVER is Kindling's /v1/update/, GROUP the channel",
    (config) => {
      expect(updateConf(sampleProfile, config)).toBe(
        "# Written by Kindling: update_engine asks Kindling's mirror for " +
          'updates.\nSERVER=http://10.77.0.1/v1/update/\nGROUP=stable\n',
      );
    },
  );

  it.each(['ignition', 'ignition-v2', 'cloud-config'] as const)(
    "%s: SERVER carries the machine's update key, so its checks name it from behind NAT",
    (config) => {
      const key = 'Zm9vYmFyYmF6cXV4LW5vZGUta2V5LTAx';
      expect(updateConf(sampleProfile, config, { ...nodeA, updateKey: key })).toContain(
        `\nSERVER=http://10.77.0.1/v1/update/?node=${key}\nGROUP=stable\n`,
      );
    },
  );

  it('a preview renders the mask it shows for tokens, spelled as it is, in place of the key', () => {
    const conf = updateConf(sampleProfile, 'ignition', { ...nodeA, token: '********', updateKey: '********' });
    expect(conf).toContain('\nSERVER=http://10.77.0.1/v1/update/?node=********\n');
  });

  it('takes GROUP from updates.group, and the channel when it is absent', () => {
    expect(updateConf({ ...sampleProfile, updates: { enabled: true, group: 'canary' } })).toContain('\nGROUP=canary\n');
    expect(updateConf({ ...sampleProfile, channel: 'beta' })).toContain('\nGROUP=beta\n');
  });

  it('is left out with updates.enabled false, for Fedora CoreOS, and when the profile writes the file itself', () => {
    expect(updateConf({ ...sampleProfile, updates: { enabled: false } })).toBeNull();
    expect(updateConf(fcosProfile)).toBeNull();
    const own = updateConf({
      ...sampleProfile,
      files: [{ path: updateConfPath, mode: '0644', contents: 'GROUP=mine\n', overwrite: true }],
    });
    expect(own).toBe('GROUP=mine\n');
  });

  it.runIf(haveIgnitionValidate)('the config with the file passes the real ignition-validate', () => {
    const result = ignitionValidate(renderTargetConfig(sampleProfile, nodeA).body);
    expect(result).toEqual({ ok: true, output: '' });
  });
});
