import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flatcarInstallProfile, startTestKindling, type TestKindling } from '../support/kindling.js';

// One boot plan everywhere (src/inventory/boot-plan.ts): what the machine page and the
// profile editor preview is what /ipxe serves next, and a config fetched without a
// phase is the phase that plan names. Against a running Kindling, through its routes.

const mac = '52:54:00:b0:07:01';
const ipxe = (arch = 'x86_64', platform = 'efi') =>
  `/ipxe?mac=${mac}&uuid=8c1a0f4e-0000-4000-8000-00000000b007&arch=${arch}&platform=${platform}`;
let k: TestKindling;

beforeAll(async () => {
  k = await startTestKindling({ files: { 'profiles/flatcar-install.yaml': flatcarInstallProfile } });
});
afterAll(async () => k?.stop());

async function ok(res: Response): Promise<string> {
  const body = await res.text();
  if (!res.ok) throw new Error(`${res.status}: ${body}`);
  return body;
}

const machinePage = () => k.api('GET', `/api/machines/${mac}/render?as=ipxe`).then(ok);
const editorPreview = () =>
  k
    .api('POST', '/api/profiles/preview', { yaml: flatcarInstallProfile, name: 'flatcar-install', mac, as: 'ipxe' })
    .then(ok);
const state = async () =>
  ((await (await k.api('GET', `/api/machines/${mac}`)).json()) as { machine: { state: string } }).machine.state;

describe('the boot plan, seen from every route', () => {
  it('shows on the machine page the wait loop /ipxe serves a discovered machine', async () => {
    const served = await ok(await k.get(ipxe()));
    expect(served).toContain('no profile assigned yet');
    expect(await machinePage()).toBe(served);
    // The editor previews the draft as if assigned: the install boot, not the wait loop.
    expect(await editorPreview()).toContain('kernel ');
  });

  it('previews the install boot that /ipxe then serves, and the state moves only on the real boot', async () => {
    expect(
      (await k.api('POST', `/api/machines/${mac}/assign`, { profile: 'flatcar-install', name: 'plan-1' })).status,
    ).toBe(200);
    const preview = await machinePage();
    expect(preview).toContain('initrd --name initrd0 ');
    expect(await state()).toBe('assigned');
    expect(await ok(await k.get(ipxe()))).toBe(preview);
    expect(await state()).toBe('installing');
  });

  it('agrees with the next /ipxe while installing, and the editor preview of the same profile too', async () => {
    const preview = await machinePage();
    expect(preview).toContain('installing flatcar');
    expect(await editorPreview()).toBe(preview);
    expect(await ok(await k.get(ipxe()))).toBe(preview);
  });

  it('serves the install-phase config, as the plan names, when no phase is asked for', async () => {
    const unphased = await ok(await k.get(`/ignition?mac=${mac}`));
    expect(unphased).toBe(await ok(await k.get(`/ignition?mac=${mac}&phase=install`)));
    expect(unphased).not.toBe(await ok(await k.get(`/ignition?mac=${mac}&phase=target`)));
  });

  it('previews from the firmware the machine last reported: an arm64 iPXE waits on both', async () => {
    const served = await ok(await k.get(ipxe('arm64')));
    expect(served).toContain("profile flatcar-install is for amd64, but this machine's iPXE is arm64");
    expect(await machinePage()).toBe(served);
    expect(await state()).toBe('installing');
  });
});
