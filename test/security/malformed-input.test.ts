import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestKindling, type TestKindling } from '../support/kindling.js';

// Input that used to cost the service (a backtracking pattern) or was
// said to answer 500. Each must be a 4xx naming what is wrong, and the service goes on.

const mac = '52:54:00:13:08:01';

describe('malformed admin input', () => {
  let k: TestKindling;
  beforeAll(async () => {
    k = await startTestKindling();
    await k.get(`/ipxe?mac=${mac}`);
  });
  afterAll(async () => {
    await k?.stop();
  });

  it('refuses a 50,000-brace name pattern at once, naming the key, and still answers', async () => {
    // With the old pattern (two unbounded runs around {{n}}) this request held the event loop for minutes.
    for (const name of [
      '{'.repeat(50_000),
      `${'{'.repeat(30_000)}{{n}}${'}'.repeat(30_000)}`,
      'a'.repeat(60) + '{{n}}',
      'Node {{n}}',
    ]) {
      const res = await k.api('PUT', '/api/settings', { unknownRule: { profile: 'flatcar-install', name } });
      expect(res.status, name.slice(0, 20)).toBe(400);
      expect(await res.text()).toContain('unknownRule.name');
    }
    const ok = await k.api('PUT', '/api/settings', { unknownRule: { profile: 'flatcar-install', name: 'rack-{{n}}' } });
    expect(ok.status).toBe(200);
    expect((await k.get('/healthz')).status).toBe(200);
  });

  it('answers every malformed profile draft with a 4xx, in validate, preview and save', async () => {
    const drafts = [
      'os: [',
      '- a\n- b',
      'os: flatcar\nusers: 5',
      '&a [*a]',
      'a: !!binary zz',
      '{'.repeat(10_000),
      'os: flatcar\ntemplate: "{{"',
      'os: flatcar\ntemplate: "{\\"a\\": {{name}}}"',
      'os: flatcar\ntemplate: "{{nope}}"',
      'os: flatcar\nconfig: ignition-v2\ntemplate: "[]"',
      'os: flatcar\nconfig: cloud-config\ntemplate: "#cloud-config\\n: : :"',
      'os: flatcar\nfiles: [{path: "../x", contents: 1}]',
      'os: flatcar\nstorage: {disks: 5}',
      'os: fcos\nstream: nope',
      'os: flatcar\narch: mips',
    ];
    const bodies: unknown[] = [{}, [], 'x', { yaml: 5 }, { yaml: null }, ...drafts.map((yaml) => ({ yaml }))];
    const served: string[] = [];
    for (const body of bodies) {
      for (const [method, url, extra] of [
        ['POST', '/api/profiles/validate', {}],
        ['PUT', '/api/profiles/draft-x', {}],
        ['POST', '/api/profiles/preview', { mac, as: 'ignition', phase: 'target' }],
        ['POST', '/api/profiles/preview', { mac, as: 'cloud-config' }],
        ['POST', '/api/profiles/preview', { mac, as: 'ipxe' }],
      ] as const) {
        const sent = body && typeof body === 'object' && !Array.isArray(body) ? { ...body, ...extra } : body;
        const res = await k.api(method, url, sent);
        if (res.status >= 500) served.push(`${method} ${url} ${JSON.stringify(sent).slice(0, 60)}: ${res.status}`);
      }
    }
    expect(served).toEqual([]);
    expect((await k.api('GET', '/api/profiles')).status).toBe(200);
  });
});
