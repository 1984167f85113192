import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestKindling, type TestKindling } from '../support/kindling.js';

// The live event stream the page's machines table reads (server-sent events).
let k: TestKindling;
beforeAll(async () => {
  k = await startTestKindling();
});
afterAll(async () => k?.stop());

describe('GET /api/events as server-sent events', () => {
  it('streams a new machine the moment it asks for /ipxe', async () => {
    const controller = new AbortController();
    const res = await fetch(`${k.httpUrl}/api/events`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${k.adminToken}` },
      signal: controller.signal,
    });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    await reader.read(); // the stream's opening comment
    await k.get('/ipxe?mac=52-54-00-12-34-56&platform=efi&arch=x86_64');
    let text = '';
    const deadline = Date.now() + 5000;
    while (!text.includes('\n\n') && Date.now() < deadline)
      text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const event = JSON.parse(/^data: (.*)$/m.exec(text)![1]!) as { mac: string; type: string; to: string };
    expect(event).toMatchObject({ mac: '52:54:00:12:34:56', type: 'discovered', to: 'discovered' });
  });

  it('returns recent events as JSON without the stream header', async () => {
    const res = await k.api('GET', '/api/events?mac=52:54:00:12:34:56');
    const { events } = (await res.json()) as { events: Array<{ type: string }> };
    expect(events.map((e) => e.type)).toContain('discovered');
  });
});
