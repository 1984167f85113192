import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestKindling, type TestKindling } from '../support/kindling.js';

// The audit: 50 event-stream clients that never read, plus 30,000 events, took RSS
// from 152 to 609 MB. A client that stops reading is dropped; streams are capped.

let k: TestKindling;
beforeAll(async () => {
  k = await startTestKindling();
});
afterAll(async () => k?.stop());

function openStalledStream(): Promise<Socket> {
  const url = new URL(k.httpUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(
        `GET /api/events HTTP/1.1\r\nHost: x\r\nAccept: ` +
          `text/event-stream\r\nAuthorization: Bearer ${k.adminToken}\r\n\r\n`,
      );
      socket.once('data', () => {
        socket.pause(); // the attack: read the headers, then never again
        resolve(socket);
      });
    });
    socket.on('error', reject);
  });
}

describe('event stream backpressure', () => {
  it('drops a client that stops reading instead of buffering every event for it', { timeout: 60_000 }, async () => {
    const stalled = await Promise.all(Array.from({ length: 4 }, () => openStalledStream()));
    const received = stalled.map(() => 0);
    stalled.forEach((s, i) => s.on('data', (chunk: Buffer) => (received[i]! += chunk.length)));
    const closed = stalled.map((s) => new Promise<void>((resolve) => s.on('close', () => resolve())));
    const filler = 'x'.repeat(400);
    for (let i = 0; i < 30_000; i++) {
      k.inventory.note('52:54:00:ee:00:01', 'test', `event ${i} ${filler}`);
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    // Resumed now, each socket reads what the kernel held and then finds the server's end.
    for (const s of stalled) s.resume();
    await Promise.all(closed);
    // Each stalled client got what the buffers held when it was dropped, not all
    // 30,000 events (~15 MB each) that Node would otherwise have kept for it.
    for (const bytes of received) expect(bytes).toBeLessThan(8 * 1024 * 1024);
  });

  it('refuses a ninth stream for the same credentials', async () => {
    const open = await Promise.all(Array.from({ length: 8 }, () => openStalledStream()));
    const ninth = await fetch(`${k.httpUrl}/api/events`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${k.adminToken}` },
    });
    expect(ninth.status).toBe(400);
    expect(await ninth.text()).toMatch(/too many open event streams/);
    for (const s of open) s.destroy();
  });
});
