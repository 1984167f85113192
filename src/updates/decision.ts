import { compareVersions } from '../mirror/version-order.js';
import {
  eventResults,
  eventTypes,
  type OmahaAppRequest,
  type OmahaEvent,
  type OmahaPackage,
  type OmahaUpdateCheck,
} from './omaha.js';

// What one machine is told, as a pure function of its request, its last known update
// state, the group's policy and the mirror's target: no I/O, no clock of its own.

/** What the machines table shows for a node's update. */
export const updateStates = [
  'up-to-date',
  'held',
  'offered',
  'downloading',
  'downloaded',
  'installed',
  'updated',
  'error',
] as const;
export type UpdateState = (typeof updateStates)[number];

/** One machine as its Omaha requests describe it, keyed by machine id (/etc/machine-id). */
export interface UpdateRecord {
  machineId: string;
  group: string;
  /** The version it runs, from <app version=>. */
  version: string;
  state: UpdateState;
  /** Why it was held (paused, rollout limit) or what failed; null otherwise. */
  reason: string | null;
  /** The version it was told about and when; it holds a rollout slot until success, error or timeout. */
  offered: string | null;
  offeredAt: string | null;
  errorCode: number | null;
  ip: string;
  /**
   * The machine its last request's ?node= update key named (update.conf SERVER=); null
   * without a key, or with one no machine holds (forged, or rotated by a reinstall).
   */
  mac: string | null;
  /** Whether its last request carried a well-formed key: then the address is never used to guess a machine. */
  sentKey: boolean;
  alias: string;
  lastSeen: string;
}

export interface GroupPolicy {
  /** The mirror source the group follows; null: the Flatcar source whose channel is the group's name. */
  source: string | null;
  /** `current`, or a version held on the mirror. */
  version: string;
  paused: boolean;
  /** At most this many machines between being told of an update and reporting its end; null: no limit. */
  rolloutLimit: number | null;
}

export const defaultGroupPolicy: GroupPolicy = { source: null, version: 'current', paused: false, rolloutLimit: null };

/** A machine that was told of an update and went silent gives its slot back after this long. */
export const slotTimeoutMs = 2 * 60 * 60 * 1000;

const inFlight: ReadonlySet<UpdateState> = new Set(['offered', 'downloading', 'downloaded', 'installed']);

/** Whether a record holds a rollout slot at `now`. */
export function holdsSlot(record: UpdateRecord, now: Date): boolean {
  return inFlight.has(record.state) && now.getTime() - Date.parse(record.lastSeen) < slotTimeoutMs;
}

export interface DecideInput {
  app: OmahaAppRequest;
  ip: string;
  /** What the request's update key said: the MAC it names (or null), or no key at all. */
  node: { sentKey: boolean; mac: string | null };
  group: string;
  previous: UpdateRecord | undefined;
  policy: GroupPolicy;
  /** What the group should run, from the verified mirror; null when the mirror holds nothing for it. */
  target: OmahaPackage | null;
  /** Slots held by other machines of the group right now. */
  slotsInUse: number;
  now: Date;
}

export interface Decision {
  updateCheck: OmahaUpdateCheck | null;
  record: UpdateRecord;
}

function applyEvent(record: UpdateRecord, event: OmahaEvent, app: OmahaAppRequest): void {
  if (event.result === eventResults.error) {
    record.state = 'error';
    record.errorCode = event.errorCode;
    record.reason = `update_engine reported error ${event.errorCode ?? 'without a code'} (event type ${event.type})`;
    return;
  }
  if (event.result === eventResults.updateDeferred) return;
  if (!inFlight.has(record.state)) return;
  if (event.type === eventTypes.downloadStarted) record.state = 'downloading';
  else if (event.type === eventTypes.downloadFinished || event.type === eventTypes.downloadComplete)
    record.state = 'downloaded';
  else if (
    (event.type === eventTypes.updateComplete || event.type === eventTypes.installComplete) &&
    event.result === eventResults.success
  )
    record.state = 'installed';
  else if (event.type === eventTypes.updateComplete && event.result === eventResults.successReboot) {
    // The first check after a reboot: the node now runs what it was given, or it rolled back.
    if (record.offered && compareVersions(app.version, record.offered) >= 0) {
      record.state = 'updated';
      record.reason = null;
    } else {
      record.state = 'error';
      record.reason = `rebooted still running ${app.version}, not ${record.offered ?? 'the offered version'}`;
    }
  }
}

export function decide(input: DecideInput): Decision {
  const { app, now, policy, target } = input;
  const record: UpdateRecord = input.previous
    ? { ...input.previous }
    : {
        machineId: app.machineId,
        group: input.group,
        version: app.version,
        state: 'up-to-date',
        reason: null,
        offered: null,
        offeredAt: null,
        errorCode: null,
        ip: input.ip,
        mac: null,
        sentKey: false,
        alias: '',
        lastSeen: now.toISOString(),
      };
  // A silent machine's slot has lapsed: it starts again from its next check.
  if (input.previous && inFlight.has(record.state) && !holdsSlot(input.previous, now)) {
    record.state = 'error';
    record.reason = `no event for ${slotTimeoutMs / 60_000} minutes after the offer of ${record.offered ?? '?'}`;
  }
  record.group = input.group;
  record.version = app.version || record.version;
  record.ip = input.ip;
  // Each request says anew: a key from before a reinstall stops naming the machine at once.
  record.mac = input.node.mac;
  record.sentKey = input.node.sentKey;
  record.alias = app.machineAlias;
  record.lastSeen = now.toISOString();
  for (const event of app.events) applyEvent(record, event, app);
  if (!app.updateCheck) return { updateCheck: null, record };

  const hold = (reason: string): Decision => {
    // An error stays visible until the next offer; an update under way keeps its state.
    if (!inFlight.has(record.state) && record.state !== 'error') {
      record.state = 'held';
      record.reason = reason;
    }
    return { updateCheck: { status: 'noupdate' }, record };
  };
  if (!target) return hold(`the mirror holds no update payload for group ${input.group}`);
  if (compareVersions(app.version, target.version) >= 0) {
    if (record.state !== 'updated' || record.offered !== target.version) record.state = 'up-to-date';
    record.reason = null;
    record.errorCode = null;
    return { updateCheck: { status: 'noupdate' }, record };
  }
  if (record.state === 'installed') return { updateCheck: { status: 'noupdate' }, record };
  if (policy.paused) return hold(`updates for group ${input.group} are paused`);
  const holding = inFlight.has(record.state) && record.offered === target.version;
  if (!holding && policy.rolloutLimit !== null && input.slotsInUse >= policy.rolloutLimit) {
    return hold(
      `rollout limit: ${input.slotsInUse} of ${policy.rolloutLimit} machines of group ${input.group} are updating`,
    );
  }
  if (!holding) {
    record.offered = target.version;
    record.offeredAt = now.toISOString();
    record.state = 'offered';
  }
  record.reason = null;
  record.errorCode = null;
  return { updateCheck: { status: 'ok', package: target }, record };
}
