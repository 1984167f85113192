// A whole Kindling (HTTP, DHCP, kindling.yaml) as a child process inside a test
// namespace, where its DHCP side can bind to the namespace's interface and meet real
// peers. Options as JSON in argv[2]. Prints `READY {httpUrl, adminToken, dataDir,
// configFile, pid, httpsUrl}`, then answers each stdin line `{id, method, url, body}` with
// `ANSWER {id, status, body}` by fetching its own loopback address with the admin
// token. Stops when stdin closes.
import { createInterface } from 'node:readline';
import { startTestKindling } from './kindling.js';

const input = JSON.parse(process.argv[2] ?? '{}') as { config: Record<string, unknown>; probeTimeoutMs?: number };
const k = await startTestKindling({
  config: input.config,
  configFile: true,
  probeTimeoutMs: input.probeTimeoutMs ?? 1500,
});
const ready = {
  httpUrl: k.httpUrl,
  httpsUrl: k.httpsUrl,
  adminToken: k.adminToken,
  dataDir: k.dataDir,
  configFile: k.configFile,
  pid: process.pid,
};
process.stdout.write(`READY ${JSON.stringify(ready)}\n`);

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const { id, method, url, body } = JSON.parse(line) as { id: number; method: string; url: string; body?: unknown };
  try {
    const res = await k.api(method, url, body);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON: kept as text */
    }
    process.stdout.write(`ANSWER ${JSON.stringify({ id, status: res.status, body: parsed })}\n`);
  } catch (err) {
    process.stdout.write(`ANSWER ${JSON.stringify({ id, status: 0, body: String(err) })}\n`);
  }
}
await k.stop();
process.exit(0);
