import { mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestKindling, type TestKindling } from '../support/kindling.js';
import { OmahaClient } from './omaha-client.js';

// Update state files broken on disk (a power cut mid-edit by hand, a wrong shape) never
// stop Kindling starting: the broken file is kept aside and the service starts empty.

let k: TestKindling | null = null;
afterAll(async () => k?.stop());

describe('update state files', () => {
  it(
    'a policy file that does not parse and a records file of the wrong shape: ' +
      'Kindling starts, answers and keeps the broken file',
    async () => {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'kindling-updates-state-'));
      mkdirSync(path.join(dataDir, 'state'), { recursive: true });
      writeFileSync(path.join(dataDir, 'state', 'update-policy.json'), '{"groups": {"stable": {"paused": tr');
      writeFileSync(path.join(dataDir, 'state', 'updates.json'), '{"machines": [1, null, "x"]}');
      k = await startTestKindling({ dataDir });
      const state = readdirSync(path.join(dataDir, 'state'));
      const aside = state.find((n) => n.startsWith('update-policy.json.corrupt-'));
      expect(aside).toBeDefined();
      expect(readFileSync(path.join(dataDir, 'state', aside as string), 'utf8')).toContain('"paused": tr');
      const answer = await new OmahaClient(`${k.httpUrl}/v1/update/`, 'z9', '3815.2.0').check();
      // No Flatcar source in this Kindling: Nebraska's word for an unknown group, not a crash.
      expect(answer).toMatchObject({ status: 200, appStatus: 'error-unknownApplicationOrGroup' });
      const view = (await (await k.api('GET', '/api/updates')).json()) as {
        groups: unknown[];
        machines: Array<{ machineId: string }>;
      };
      expect(view.machines.map((m) => m.machineId)).toEqual(['z9']);
      expect((await k.api('PUT', '/api/updates/groups/stable', { paused: true })).status).toBe(200);
      // What was learned after the bad start is kept across a restart.
      await k.close();
      k = await startTestKindling({ dataDir });
      const again = (await (await k.api('GET', '/api/updates')).json()) as {
        groups: Array<{ name: string; policy: { paused: boolean } }>;
        machines: Array<{ machineId: string }>;
      };
      expect(again.machines.map((m) => m.machineId)).toEqual(['z9']);
      expect(again.groups.find((g) => g.name === 'stable')?.policy.paused).toBe(true);
    },
  );
});
