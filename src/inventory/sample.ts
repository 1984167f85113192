import { existsSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../store/atomic-file.js';

// A fresh data directory gets one sample profile and an empty machines.yaml whose
// comments show the seed guides' three-node rack, so a new user has something to
// read, copy and boot from the first minute. Existing files are never touched.

export const sampleProfile = `# A sample install profile (docs/configuration.md explains every key).
# Machines that get it install Flatcar from Kindling's mirror to installDisk,
# then boot from that disk with the hostname, user and data disk below.
os: flatcar
channel: stable
version: current
arch: amd64
mode: install
installDisk: /dev/sda
hostname: "{{name}}.rack.local"
users:
  - name: core
    groups: [sudo, docker]
    # Replace with your own public key.
    sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKindlingSampleKeyReplaceMeWithYoursAAAAAAAA ops@rack"]
files:
  - { path: /etc/motd.d/kindling.conf, mode: "0644", contents: "Installed by Kindling\\n" }
units:
  - { name: docker.service, enabled: true }
storage:
  disks:
    - device: /dev/sdb
      wipe: true
      partitions: [{ label: docker, sizeMiB: 0 }]
  filesystems:
    - { device: /dev/disk/by-partlabel/docker, format: ext4, path: /var/lib/docker, wipe: true }
`;

export const sampleMachines = `# Machines Kindling knows by MAC. Each entry: mac, name, profile, optional ip
# (reserved DHCP address) and vars (extra template variables). Edit by hand or on
# the setup page; changes apply without a restart. For example, the seed guides' rack:
#
# - { mac: "52:54:00:55:1c:ee", name: a-coreos, profile: flatcar-install }
# - { mac: "52:54:00:47:51:e4", name: b-coreos, profile: flatcar-install, ip: 10.77.0.12 }
# - { mac: "52:54:00:c3:2f:0a", name: c-coreos, profile: flatcar-install, vars: { role: worker } }
[]
`;

/** Writes the samples into an empty config directory; returns the files it created. */
export async function seedSampleConfig(configDir: string): Promise<string[]> {
  const created: string[] = [];
  const profilesDir = path.join(configDir, 'profiles');
  if (!existsSync(profilesDir)) {
    const file = path.join(profilesDir, 'flatcar-install.yaml');
    await writeFileAtomic(file, sampleProfile);
    created.push(file);
  }
  const machines = path.join(configDir, 'machines.yaml');
  if (!existsSync(machines)) {
    await writeFileAtomic(machines, sampleMachines);
    created.push(machines);
  }
  return created;
}
