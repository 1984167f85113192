// ProxyDHCP (PXE 2.1 §2.2.3 and §2.2.4): beside the site's DHCP server, which keeps
// handing out addresses, answer network-boot clients only, with no yiaddr: DISCOVERs
// on port 67 and boot-server REQUESTs on port 4011. A client that is not booting from
// the network never gets a reply.
import type pino from 'pino';
import { bootOffer, recordSafely, type DhcpInventory } from './inventory.js';
import { encode, MessageType, Opt } from './options.js';
import { choosePxeBoot, isBootClient, type PxePolicyConfig } from './pxe-policy.js';
import {
  bootFields,
  buildReply,
  destination,
  PXE_PORT,
  pxeFacts,
  readRequest,
  type DhcpHandler,
  type Incoming,
  type Outgoing,
} from './reply.js';

export interface ProxyModeOptions {
  serverIp: string;
  policy: PxePolicyConfig;
  inventory: DhcpInventory;
  logger: pino.Logger;
}

export function createProxyModeHandler(o: ProxyModeOptions): DhcpHandler {
  const serverId = encode.ip(o.serverIp);

  async function handle(message: Incoming): Promise<Outgoing[]> {
    const request = readRequest(message, o.logger);
    if (request === null) return [];
    const { req, mac, type } = request;
    const onBootPort = message.localPort === PXE_PORT;
    // Port 67: only the DISCOVER gets a ProxyDHCP offer; the client REQUESTs its
    // address from the site's server. Port 4011: the boot-server REQUEST.
    if (onBootPort ? type !== MessageType.Request && type !== MessageType.Inform : type !== MessageType.Discover)
      return [];
    const facts = pxeFacts(req);
    if (!isBootClient(facts)) return [];
    const decision = choosePxeBoot(facts, o.policy);
    if (decision.kind === 'none') {
      o.logger.warn({ mac, arch: facts.arch, reason: decision.reason }, 'dhcp: network-boot client not answered');
      return [];
    }
    if (!onBootPort) {
      o.logger.info({ mac, arch: facts.arch, bootFile: decision.bootFile, mode: 'proxy' }, 'dhcp: boot offer');
      recordSafely(o.inventory, bootOffer(mac, facts, decision.bootFile, null, 'proxy'), o.logger);
    }
    const boot = bootFields(req, decision, o.serverIp, true);
    const data = buildReply(req, {
      type: onBootPort ? MessageType.Ack : MessageType.Offer,
      ciaddr: onBootPort ? req.ciaddr : '0.0.0.0',
      siaddr: boot.siaddr,
      file: boot.file,
      options: [[Opt.ServerId, serverId], ...boot.options],
    });
    // PXE 2.1 §2.2.4: the boot-server reply goes back to where the request came from.
    const to = onBootPort ? { address: message.from.address, port: message.from.port } : destination(req, false);
    return [{ data, to }];
  }

  return { handle };
}
