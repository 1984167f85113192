import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream, makeSigner } from './support/fake-upstream.js';
import { fcosSource, makeHarness } from './support/mirror-harness.js';

describe('Fedora CoreOS sync against a fake stream', () => {
  let upstream: FakeUpstream;

  beforeAll(async () => {
    upstream = new FakeUpstream(await makeSigner('fcos-test'));
    await upstream.start();
  });
  afterAll(() => upstream.stop());

  it('publishes the metal PXE files and raw image with the version-less names the boot scripts use', async () => {
    const names = await upstream.addFcos('39.20240210.3.0');
    const h = await makeHarness({ sources: [fcosSource(upstream)] });
    try {
      const [outcome] = await h.mirror.sync();
      expect(outcome).toMatchObject({ ok: true, result: 'published', version: '39.20240210.3.0' });
      const dir = '/mirror/fcos/stable/x86_64/39.20240210.3.0';
      for (const alias of [
        'fedora-coreos-live-kernel-x86_64',
        'fedora-coreos-live-initramfs.x86_64.img',
        'fedora-coreos-live-rootfs.x86_64.img',
        'fedora-coreos-metal.x86_64.raw.xz',
        'fedora-coreos-metal.x86_64.raw.xz.sig',
      ]) {
        expect((await h.app.inject({ method: 'HEAD', url: `${dir}/${alias}` })).statusCode, alias).toBe(200);
      }
      const upstreamName = await h.app.inject({ url: `${dir}/${names.kernel}` });
      const alias = await h.app.inject({ url: '/mirror/fcos/stable/x86_64/current/fedora-coreos-live-kernel-x86_64' });
      expect(alias.rawPayload.equals(upstreamName.rawPayload)).toBe(true);
      expect(h.mirror.state().sources[0]?.versions[0]).toMatchObject({ signatureChecked: true, files: 8 });
    } finally {
      await h.close();
    }
  });

  it('refuses a file whose sha256 differs from the stream metadata', async () => {
    await upstream.addFcos('39.20240301.3.0', { corruptSha: 'rootfs' });
    const h = await makeHarness({ sources: [fcosSource(upstream)] });
    try {
      const [outcome] = await h.mirror.sync();
      expect(outcome?.error?.code).toBe('MIRROR_CHECKSUM');
      expect(outcome?.error?.message).toMatch(
        /fcos-stable: fedora-coreos-39\.20240301\.3\.0-live-rootfs\.x86_64\.img: expected sha256 f{64}/,
      );
      expect(h.mirror.status().state).toBe('failed');
    } finally {
      await h.close();
    }
  });

  it(
    'trusts the bundled Fedora keys when none are configured, so ' + 'a signature by any other key is refused',
    async () => {
      await upstream.addFcos('39.20240315.3.0');
      const h = await makeHarness({ sources: [fcosSource(upstream, { keys: null })] });
      try {
        const [outcome] = await h.mirror.sync();
        expect(outcome).toMatchObject({ ok: false, result: 'failed', error: { code: 'MIRROR_SIGNATURE' } });
        expect(outcome?.error?.message).toMatch(
          /not one of the trusted keys \(C6E7F081CF80E13146676E88829B606631645531/,
        );
        expect(h.mirror.state().sources[0]?.versions).toEqual([]);
      } finally {
        await h.close();
      }
    },
  );

  it('reports a stream document that does not parse', async () => {
    upstream.files.set('/streams/stable.json', Buffer.from('{"architectures": {"x86_64": {"artifacts": {}}}}'));
    const h = await makeHarness({ sources: [fcosSource(upstream)] });
    try {
      const [outcome] = await h.mirror.sync();
      expect(outcome?.error?.code).toBe('MIRROR_METADATA');
      expect(outcome?.error?.message).toContain('architectures.x86_64.artifacts.metal');
    } finally {
      await h.close();
    }
  });
});
