import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isKindlingError } from '../errors.js';
import { prng } from '../../test/support/prng.js';
import { goOmahaUpdateResponse, malformedRequests, requestFixtures, updateEngineCheck } from './fixtures.test-data.js';
import { parseOmahaRequest, renderOmahaResponse, type OmahaResponse } from './omaha.js';
import { parseXml, type XmlElement } from './xml.js';

/**
 * What update_engine takes from a response, step for step as
 * omaha_request_action.cc ParseResponse does it (XPaths under /response/app/updatecheck):
 * status noupdate|ok, the first manifest's version, every url codebase (non-empty), the
 * first package's name appended to each, size > 0, the postinstall action's sha256.
 */
function updateEngineReads(
  xml: string,
): { update: false } | { update: true; version: string; urls: string[]; size: number; hash: string } {
  const root = parseXml(xml);
  if (root.name !== 'response') throw new Error('not a response');
  const app = root.children.find((c) => c.name === 'app');
  const check = app?.children.find((c) => c.name === 'updatecheck');
  if (!check || check.attrs['status'] === undefined)
    throw new Error('kActionCodeOmahaResponseInvalid: no updatecheck status');
  if (check.attrs['status'] === 'noupdate') return { update: false };
  if (check.attrs['status'] !== 'ok')
    throw new Error(`kActionCodeOmahaResponseInvalid: status ${check.attrs['status']}`);
  const child = (el: XmlElement | undefined, name: string) => el?.children.filter((c) => c.name === name) ?? [];
  const manifest = child(check, 'manifest')[0];
  if (!manifest) throw new Error('no manifest');
  const urls = child(child(check, 'urls')[0], 'url').map((u) => u.attrs['codebase'] ?? '');
  if (urls.length === 0 || urls.some((u) => u === '')) throw new Error('empty codebase');
  const pkg = child(child(manifest, 'packages')[0], 'package')[0];
  if (!pkg?.attrs['name']) throw new Error('empty package name');
  const size = Number.parseInt(pkg.attrs['size'] ?? '', 10);
  if (!(size > 0)) throw new Error('invalid payload size');
  const action = child(child(manifest, 'actions')[0], 'action').find((a) => a.attrs['event'] === 'postinstall');
  if (!action?.attrs['sha256']) throw new Error('no postinstall action with sha256');
  return {
    update: true,
    version: manifest.attrs['version'] ?? '',
    urls: urls.map((u) => (u.endsWith('/') ? u : `${u}/`) + pkg.attrs['name']),
    size,
    hash: action.attrs['sha256'],
  };
}

describe('Omaha request parsing', () => {
  it.each(requestFixtures)('$name', ({ body, expect: want }) => {
    const request = parseOmahaRequest(body);
    expect(request.protocol).toBe('3.0');
    expect(request.apps).toHaveLength(1);
    expect(request.apps[0]).toMatchObject(want);
  });

  it('reads the client name and install source update_engine sends', () => {
    const request = parseOmahaRequest(updateEngineCheck({ version: '3815.2.0', track: 'stable', machineId: 'x' }));
    expect(request).toMatchObject({
      updater: 'update_engine-0.4.10',
      installSource: 'scheduler',
      os: { platform: 'CoreOS', version: 'Chateau' },
    });
  });

  it('decodes the entities update_engine XmlEncode writes', () => {
    const request = parseOmahaRequest(
      '<request protocol="3.0"><app appid="{x}" machinealias="a&amp;b &lt;c&gt; ' +
        "&quot;d&quot; &#65;&#x42;\" track='it&apos;s'/></request>",
    );
    expect(request.apps[0]).toMatchObject({ machineAlias: 'a&b <c> "d" AB', track: "it's" });
  });

  it.each(malformedRequests)('refuses %s with OMAHA_REQUEST_INVALID', (_name, body) => {
    let caught: unknown;
    try {
      parseOmahaRequest(body);
    } catch (err) {
      caught = err;
    }
    expect(isKindlingError(caught, 'OMAHA_REQUEST_INVALID')).toBe(true);
    expect((caught as Error).message).toMatch(/^Omaha request: /);
  });

  it('refuses a body over 64 KiB before parsing it', () => {
    const body = `<request protocol="3.0"><app appid="x"/>${'<!-- pad -->'.repeat(6000)}</request>`;
    expect(() => parseOmahaRequest(body)).toThrow(/larger than 65536 bytes/);
  });

  it('survives random mutations of real requests: a typed refusal or a parse, never another error (seeded)', () => {
    const seeds = requestFixtures.map((f) => f.body);
    const alphabet = '<>/="\'&;#x!?- \n\tabc0123[]';
    for (let seed = 1; seed <= 3000; seed++) {
      const rand = prng(seed);
      let text = seeds[seed % seeds.length] as string;
      const edits = 1 + Math.floor(rand() * 6);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rand() * text.length);
        const op = rand();
        if (op < 0.33) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(rand() * 8));
        else if (op < 0.66) text = text.slice(0, at) + alphabet[Math.floor(rand() * alphabet.length)] + text.slice(at);
        else text = text.slice(0, at) + String.fromCharCode(Math.floor(rand() * 0x3000)) + text.slice(at + 1);
      }
      try {
        const parsed = parseOmahaRequest(text);
        expect(parsed.apps.length).toBeGreaterThan(0);
      } catch (err) {
        if (!isKindlingError(err, 'OMAHA_REQUEST_INVALID'))
          throw new Error(`seed ${seed}: ${(err as Error).stack}`, { cause: err });
      }
    }
  });
});

describe('Omaha response rendering', () => {
  const payload = Buffer.from('a payload');
  const sha256 = createHash('sha256').update(payload).digest('hex');
  const ok: OmahaResponse = {
    apps: [
      {
        appId: '{e96281a6-d1af-4bde-9a0a-97b76e56dc57}',
        status: 'ok',
        ping: true,
        events: 1,
        updateCheck: {
          status: 'ok',
          package: {
            version: '3815.2.1',
            codebase: 'http://10.77.0.1/mirror/flatcar/stable/amd64-usr/3815.2.1',
            name: 'flatcar_production_update.gz',
            size: payload.length,
            sha256,
          },
        },
      },
    ],
  };

  it('the update_engine parse steps accept the answer and find URL, size and the base64 sha256', () => {
    expect(updateEngineReads(renderOmahaResponse(ok))).toEqual({
      update: true,
      version: '3815.2.1',
      urls: ['http://10.77.0.1/mirror/flatcar/stable/amd64-usr/3815.2.1/flatcar_production_update.gz'],
      size: payload.length,
      hash: createHash('sha256').update(payload).digest('base64'),
    });
  });

  it("the same steps read go-omaha's captured update_engine response (the checker itself is right)", () => {
    expect(updateEngineReads(goOmahaUpdateResponse)).toMatchObject({
      update: true,
      version: '9999.0.0',
      urls: ['http://kam:8080/static/update.gz'],
      size: 67546213,
      hash: '0VAlQW3RE99SGtSB5R4m08antAHO8XDoBMKDyxQT/Mg=',
    });
  });

  it('answers noupdate, ping and events with the elements Nebraska sends', () => {
    const xml = renderOmahaResponse({
      apps: [
        {
          appId: '{e96281a6-d1af-4bde-9a0a-97b76e56dc57}',
          status: 'ok',
          ping: true,
          events: 2,
          updateCheck: { status: 'noupdate' },
        },
      ],
    });
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<response protocol="3.0" ' +
        'server="kindling"><daystart elapsed_seconds="0"></daystart>' +
        '<app appid="{e96281a6-d1af-4bde-9a0a-97b76e56dc57}" status="ok"><ping ' +
        'status="ok"></ping><updatecheck status="noupdate"></updatecheck>' +
        '<event status="ok"></event><event status="ok"></event></app></response>\n',
    );
    expect(updateEngineReads(xml)).toEqual({ update: false });
  });

  it('escapes what a client sent back into attributes', () => {
    const xml = renderOmahaResponse({
      apps: [{ appId: '"><evil/>', status: 'ok', ping: false, events: 0, updateCheck: null }],
    });
    expect(parseXml(xml).children[1]?.attrs['appid']).toBe('"><evil/>');
  });
});
