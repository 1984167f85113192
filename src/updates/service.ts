import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { describeIssues } from '../config/yaml-document.js';
import { isKindlingError, KindlingError } from '../errors.js';
import type { Mirror } from '../mirror/mirror.js';
import type { MirrorSource } from '../mirror/types.js';
import { JsonDocument } from '../store/index.js';
import { decide, defaultGroupPolicy, holdsSlot, type GroupPolicy, type UpdateRecord } from './decision.js';
import {
  flatcarAppId,
  parseOmahaRequest,
  renderOmahaResponse,
  type OmahaAppResponse,
  type OmahaPackage,
} from './omaha.js';

// The Omaha side of the mirror: answers update_engine from verified versions only,
// keeps each machine's reported version and update state (state/updates.json) and the
// per-group policy (state/update-policy.json). Both are written atomically; the
// machine records are coalesced, since nodes check in every hour or so.

/** The payload update_engine downloads; mirrored with its .sig like the install image. */
export const payloadName = 'flatcar_production_update.gz';

/** Nebraska's old hard-coded CoreOS group ids, as flatcar/nebraska backend/pkg/omaha/omaha.go maps them. */
const legacyGroups: Record<string, string> = {
  '5b810680-e36a-4879-b98a-4f989e80b899': 'alpha',
  '3fe10490-dd73-4b49-b72a-28ac19acfcdc': 'beta',
  '9a2deb70-37be-4026-853f-bfdd6b347bbe': 'stable',
  '72834a2b-ad86-4d6d-b498-e08a19ebe54e': 'edge',
  'e641708d-fb48-4260-8bdf-ba2074a1147a': 'alpha',
  'd112ec01-ba34-4a9e-9d4b-9814a685f266': 'beta',
  '11a585f6-9418-4df0-8863-78b2fd3240f8': 'stable',
  'b4b2fa22-c1ea-498c-a8ac-c1dc0b1d7c17': 'edge',
};

/** A group name as it appears in update.conf GROUP= and a URL segment. */
export const groupNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** One record write per window: 1,000 nodes checking in cost one SD card write, not 1,000. */
const recordCoalesceMs = 5_000;
/** Machines remembered; the oldest silent ones go first beyond this. */
const maxRecords = 10_000;

export const groupPolicySchema = z
  .object({
    source: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/)
      .nullable()
      .default(null),
    version: z
      .string()
      .regex(/^(current|\d+\.\d+\.\d+([+-][A-Za-z0-9._-]+)?)$/, 'expected "current" or a version like 3815.2.0')
      .default('current'),
    paused: z.boolean().default(false),
    rolloutLimit: z.number().int().min(1).max(100_000).nullable().default(null),
  })
  .strict();

interface PolicyDocument {
  groups: Record<string, GroupPolicy>;
}
interface RecordsDocument {
  machines: Record<string, UpdateRecord>;
}

export interface GroupView {
  name: string;
  policy: GroupPolicy;
  /** Set in update-policy.json, or only inferred from a source's channel or a machine's GROUP=. */
  configured: boolean;
  source: string | null;
  target: string | null;
  slotsInUse: number;
  machines: number;
}

export interface UpdateServiceOptions {
  stateDir: string;
  mirror: Mirror;
  logger?: Logger;
  clock?: () => Date;
  /** The MAC whose update key this is (Inventory.macForUpdateKey); without it no key names a machine. */
  machineForKey?: (key: string) => string | null;
}

/**
 * Opens a state document; one that does not parse is moved aside (kept for a person to
 * read) and started afresh, so a torn or hand-broken file never stops Kindling starting.
 */
async function openOrSetAside<T>(
  file: string,
  coalesceMs: number,
  fallback: T,
  logger: Logger | undefined,
): Promise<JsonDocument<T>> {
  try {
    return await JsonDocument.open<T>({ file, coalesceMs }, fallback);
  } catch (err) {
    if (!isKindlingError(err, 'STORE_CORRUPT')) throw err;
    const aside = `${file}.corrupt-${Date.now()}`;
    await fs.rename(file, aside);
    logger?.error(
      { file, aside, err: err.message },
      `updates: ${path.basename(file)} does not parse; moved aside to ${aside}, starting empty`,
    );
    return new JsonDocument<T>({ file, coalesceMs }, fallback);
  }
}

export class UpdateService {
  private readonly clock: () => Date;
  private constructor(
    private readonly mirror: Mirror,
    private readonly policyDoc: JsonDocument<PolicyDocument>,
    private readonly records: JsonDocument<RecordsDocument>,
    clock: (() => Date) | undefined,
    private readonly machineForKey: (key: string) => string | null,
  ) {
    this.clock = clock ?? (() => new Date());
  }

  static async open(options: UpdateServiceOptions): Promise<UpdateService> {
    const policy = await openOrSetAside<PolicyDocument>(
      path.join(options.stateDir, 'update-policy.json'),
      0,
      { groups: {} },
      options.logger,
    );
    const records = await openOrSetAside<RecordsDocument>(
      path.join(options.stateDir, 'updates.json'),
      recordCoalesceMs,
      { machines: {} },
      options.logger,
    );
    // A hand-edited or older file: keep only entries of the right shape.
    const isMap = (value: unknown): boolean => typeof value === 'object' && value !== null && !Array.isArray(value);
    if (!isMap(policy.data) || !isMap(policy.data.groups)) await policy.set({ groups: {} });
    if (!isMap(records.data) || !isMap(records.data.machines)) await records.set({ machines: {} });
    for (const [name, value] of Object.entries(policy.data.groups)) {
      const parsed = groupPolicySchema.safeParse(value);
      if (parsed.success && groupNamePattern.test(name)) policy.data.groups[name] = parsed.data;
      else delete policy.data.groups[name];
    }
    for (const [id, record] of Object.entries(records.data.machines)) {
      if (
        typeof record !== 'object' ||
        record === null ||
        typeof record.lastSeen !== 'string' ||
        typeof record.group !== 'string' ||
        typeof record.state !== 'string'
      ) {
        delete records.data.machines[id];
        continue;
      }
      // Records from before update keys: no key seen, so the address join still applies.
      record.mac = typeof record.mac === 'string' ? record.mac : null;
      record.sentKey = record.sentKey === true;
    }
    return new UpdateService(options.mirror, policy, records, options.clock, options.machineForKey ?? (() => null));
  }

  /**
   * Answers one Omaha request body from `ip`; `serverUrl` is how the node reaches Kindling,
   * `nodeKey` the update key from its SERVER= URL (?node=), already checked for shape.
   */
  handle(body: string, ip: string, serverUrl: string, nodeKey: string | null = null): string {
    const request = parseOmahaRequest(body);
    const now = this.clock();
    const node = { sentKey: nodeKey !== null, mac: nodeKey === null ? null : this.machineForKey(nodeKey) };
    const apps: OmahaAppResponse[] = request.apps.map((app) => {
      const base = { appId: app.appId, ping: app.ping, events: app.events.length };
      if (app.appId.toLowerCase() !== flatcarAppId)
        return {
          ...base,
          status: 'error-unknownApplication',
          updateCheck: app.updateCheck ? { status: 'error-internal' } : null,
        };
      const group = legacyGroups[app.track] ?? (groupNamePattern.test(app.track) ? app.track : 'stable');
      const policy = this.policyDoc.data.groups[group] ?? defaultGroupPolicy;
      const arch = app.board.startsWith('arm64') ? 'arm64' : 'amd64';
      const source = this.sourceFor(group, policy, arch);
      const target = source ? this.target(source, policy, serverUrl) : null;
      const machineId = app.machineId || `ip:${ip}`;
      const previous = this.records.data.machines[machineId];
      const decision = decide({
        app: { ...app, machineId },
        ip,
        node,
        group,
        previous,
        policy,
        target,
        slotsInUse: policy.rolloutLimit === null ? 0 : this.slotsInUse(group, machineId, now),
        now,
      });
      this.remember(decision.record);
      if (!source)
        return {
          ...base,
          status: 'error-unknownApplicationOrGroup',
          updateCheck: app.updateCheck ? { status: 'error-internal' } : null,
        };
      return { ...base, status: 'ok', updateCheck: decision.updateCheck };
    });
    return renderOmahaResponse({ apps });
  }

  private sourceFor(group: string, policy: GroupPolicy, arch: string): Extract<MirrorSource, { os: 'flatcar' }> | null {
    const flatcar = this.mirror.sources.filter(
      (s): s is Extract<MirrorSource, { os: 'flatcar' }> => s.os === 'flatcar',
    );
    if (policy.source) return flatcar.find((s) => s.name === policy.source) ?? null;
    return flatcar.find((s) => s.channel === group && s.arch === arch) ?? null;
  }

  private target(
    source: Extract<MirrorSource, { os: 'flatcar' }>,
    policy: GroupPolicy,
    serverUrl: string,
  ): OmahaPackage | null {
    const dir = ['flatcar', source.channel, `${source.arch}-usr`];
    // Size and sha256 were computed when the version was verified and published (its manifest).
    const file = this.mirror.resolve([...dir, policy.version, payloadName]);
    if (!file) return null;
    // Through `current` the file's directory is the version it points at.
    const version = path.basename(path.dirname(file.path));
    return {
      version,
      codebase: `${serverUrl}/mirror/${dir.join('/')}/${version}/`,
      name: payloadName,
      size: file.size,
      sha256: file.sha256,
    };
  }

  private slotsInUse(group: string, except: string, now: Date): number {
    let n = 0;
    for (const record of Object.values(this.records.data.machines))
      if (record.group === group && record.machineId !== except && holdsSlot(record, now)) n++;
    return n;
  }

  private remember(record: UpdateRecord): void {
    const machines = this.records.data.machines;
    machines[record.machineId] = record;
    const ids = Object.keys(machines);
    if (ids.length > maxRecords) {
      const oldest = ids.sort((a, b) =>
        (machines[a] as UpdateRecord).lastSeen.localeCompare((machines[b] as UpdateRecord).lastSeen),
      )[0] as string;
      delete machines[oldest];
    }
    void this.records.touch().catch(() => undefined);
  }

  machines(): UpdateRecord[] {
    return Object.values(this.records.data.machines).sort((a, b) => a.machineId.localeCompare(b.machineId));
  }

  groups(): GroupView[] {
    const now = this.clock();
    const names = new Set<string>(Object.keys(this.policyDoc.data.groups));
    for (const s of this.mirror.sources) if (s.os === 'flatcar') names.add(s.channel);
    for (const r of Object.values(this.records.data.machines)) names.add(r.group);
    return [...names].sort().map((name) => {
      const policy = this.policyDoc.data.groups[name] ?? defaultGroupPolicy;
      const source = this.sourceFor(name, policy, 'amd64') ?? this.sourceFor(name, policy, 'arm64');
      const target = source ? this.target(source, policy, '') : null;
      const members = Object.values(this.records.data.machines).filter((r) => r.group === name);
      return {
        name,
        policy,
        configured: name in this.policyDoc.data.groups,
        source: source?.name ?? null,
        target: target?.version ?? null,
        slotsInUse: members.filter((r) => holdsSlot(r, now)).length,
        machines: members.length,
      };
    });
  }

  /** Validates and stores one group's policy; resolves once it is on disk. */
  async setPolicy(group: string, input: unknown): Promise<GroupPolicy> {
    if (!groupNamePattern.test(group))
      throw new KindlingError(
        'UPDATE_POLICY_INVALID',
        `update group "${group.slice(0, 80)}": expected letters, digits, '.', '_' or '-', up to 64`,
        { group },
      );
    const parsed = groupPolicySchema.safeParse(input ?? {});
    if (!parsed.success) {
      const problems = describeIssues(`update group ${group}`, parsed.error.issues);
      throw new KindlingError('UPDATE_POLICY_INVALID', problems.join('\n'), { group, problems });
    }
    const policy = parsed.data;
    if (policy.source !== null) {
      const source = this.mirror.sources.find((s) => s.name === policy.source);
      if (!source || source.os !== 'flatcar') {
        const names = this.mirror.sources.filter((s) => s.os === 'flatcar').map((s) => s.name);
        throw new KindlingError(
          'UPDATE_POLICY_INVALID',
          `update group ${group}: key "source": no Flatcar mirror source "${policy.source}"; ` +
            `expected one of ${names.join(', ') || '(none configured)'}`,
          { group, key: 'source' },
        );
      }
    }
    await this.policyDoc.set({ groups: { ...this.policyDoc.data.groups, [group]: policy } });
    return policy;
  }

  async resetPolicy(group: string): Promise<void> {
    const groups = { ...this.policyDoc.data.groups };
    delete groups[group];
    await this.policyDoc.set({ groups });
  }

  async close(): Promise<void> {
    await Promise.all([this.records.flush(), this.policyDoc.flush()]);
  }
}
