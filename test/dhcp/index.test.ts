import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { startDhcpServer } from '../../src/dhcp/index.js';
import { MessageType } from '../../src/dhcp/options.js';
import { createProxyModeHandler } from '../../src/dhcp/proxy-mode.js';
import { FakeInventory, from, silent } from './support/fakes.js';
import { clientPacket, pxeUefi } from './support/packets.js';

const dhcp = (over: Record<string, unknown>) => configSchema.parse({ dhcp: over }).dhcp;

describe('startDhcpServer', () => {
  it('does nothing in mode off and says why', async () => {
    const s = await startDhcpServer({
      config: dhcp({ mode: 'off' }),
      serverIp: '10.77.0.2',
      httpBaseUrl: 'http://10.77.0.2',
      dataDir: '/nonexistent',
      logger: silent,
      inventory: new FakeInventory(),
    });
    expect(s.status()).toMatchObject({ configuredMode: 'off', mode: 'off', reason: 'configured-off', leases: 0 });
    await s.close();
  });

  it('refuses full mode with a range that contains the server, before touching the network', async () => {
    await expect(
      startDhcpServer({
        config: dhcp({ mode: 'full', range: { start: '10.77.0.1', end: '10.77.0.50' } }),
        serverIp: '10.77.0.2',
        httpBaseUrl: 'http://10.77.0.2',
        dataDir: '/nonexistent',
        logger: silent,
        inventory: new FakeInventory(),
      }),
    ).rejects.toMatchObject({
      code: 'DHCP_RANGE_INVALID',
      message: expect.stringMatching(/contains the server's own address 10.77.0.2/),
    });
  });
});

describe('inventory failures', () => {
  it('still answers the client when the inventory throws', async () => {
    const inventory = new FakeInventory();
    inventory.recordBootOffer = () => {
      throw new Error('inventory down');
    };
    const handler = createProxyModeHandler({
      serverIp: '10.77.0.2',
      policy: { bootFiles: { bios: 'undionly.kpxe', uefi: 'ipxe.efi', arm64: null }, httpBaseUrl: 'http://10.77.0.2' },
      inventory,
      logger: silent,
    });
    const out = await handler.handle({
      data: clientPacket({ type: MessageType.Discover, mac: '52:54:00:00:00:07', ...pxeUefi }),
      from,
      localPort: 67,
    });
    expect(out).toHaveLength(1);
  });
});
