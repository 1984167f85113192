import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDirectory } from '../../src/mirror/import-client.js';
import { startTestKindling, type TestKindling } from '../support/kindling.js';
import { FakeUpstream, flatcarNames, makeSigner } from './support/fake-upstream.js';

// The Mirror page follows a sync or an import on GET /api/events (named SSE events)
// instead of polling GET /api/mirror.

let k: TestKindling;
let upstream: FakeUpstream;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'kindling-mirror-events-'));
  upstream = new FakeUpstream(await makeSigner('flatcar-events'));
  await upstream.start();
  const source = {
    name: 'flatcar-stable',
    os: 'flatcar',
    channel: 'stable',
    arch: 'amd64',
    baseUrl: `${upstream.url}/stable`,
    keys: upstream.signer.armoredPublic,
  };
  k = await startTestKindling({ config: { mirror: { schedule: null, sources: [source] } } });
});
afterAll(async () => {
  await k?.stop();
  await upstream?.stop();
  await rm(work, { recursive: true, force: true });
});

/** One named event of the stream, its JSON data as sent. */
type StreamEvent = { event: string; data: Record<string, unknown> };

/** Reads the stream until `until` holds or 10 s pass; returns the named events seen. */
async function collect(action: () => Promise<unknown>, until: (events: Array<StreamEvent>) => boolean) {
  const controller = new AbortController();
  const res = await fetch(`${k.httpUrl}/api/events`, {
    headers: { accept: 'text/event-stream', authorization: `Bearer ${k.adminToken}` },
    signal: controller.signal,
  });
  const reader = res.body!.getReader();
  await reader.read(); // the opening comment
  const done = action();
  const events: Array<StreamEvent> = [];
  let text = '';
  const deadline = Date.now() + 10_000;
  while (!until(events) && Date.now() < deadline) {
    const chunk = await reader.read();
    if (chunk.done) break;
    text += new TextDecoder().decode(chunk.value);
    let end: number;
    while ((end = text.indexOf('\n\n')) >= 0) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      const name = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (name && data) events.push({ event: name, data: JSON.parse(data) });
    }
  }
  controller.abort();
  await done;
  return events;
}

describe('mirror progress on the event stream', () => {
  it('streams progress, the outcome and idle during a sync', async () => {
    await upstream.addFlatcar('3815.2.0');
    const events = await collect(
      () => k.api('POST', '/api/mirror/sync', {}),
      (e) => e.some((x) => x.event === 'mirror-idle'),
    );
    const progress = events.filter((e) => e.event === 'mirror-progress').map((e) => e.data);
    expect(
      progress
        .filter((p) => p.done)
        .map((p) => p.file)
        .sort(),
    ).toEqual([...flatcarNames].sort());
    expect(progress[0]).toMatchObject({
      source: 'flatcar-stable',
      bytes: expect.any(Number),
      total: expect.any(Number),
    });
    expect(events.find((e) => e.event === 'mirror-outcome')?.data).toMatchObject({
      source: 'flatcar-stable',
      ok: true,
      result: 'published',
      version: '3815.2.0',
    });
  });

  it('streams an import the same way, marked as an import', async () => {
    const files = await upstream.addFlatcar('3815.2.1');
    const dir = path.join(work, 'stick');
    await mkdir(dir);
    for (const name of flatcarNames) {
      await writeFile(path.join(dir, name), files.get(name) as Buffer);
      await writeFile(
        path.join(dir, `${name}.sig`),
        upstream.files.get(`/stable/amd64-usr/3815.2.1/${name}.sig`) as Buffer,
      );
    }
    await writeFile(
      path.join(dir, 'version.txt'),
      upstream.files.get('/stable/amd64-usr/current/version.txt') as Buffer,
    );
    const events = await collect(
      () => importDirectory({ dir, baseUrl: k.httpUrl, token: k.adminToken }),
      (e) => e.some((x) => x.event === 'mirror-idle'),
    );
    expect(
      events
        .filter((e) => e.event === 'mirror-progress' && e.data.done)
        .map((e) => e.data.file)
        .sort(),
    ).toEqual([...flatcarNames].sort());
    expect(events.find((e) => e.event === 'mirror-outcome')?.data).toMatchObject({
      ok: true,
      version: '3815.2.1',
      via: 'import',
    });
  });
});
