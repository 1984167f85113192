// What the admin API answers (docs/api.md, docs/webui.md), as types both the `kindling`
// command and the setup page read. Only `import type` here: the page bundles this
// module's importers for the browser, so nothing of Node may come in at run time.
import type { MirrorSource, UnknownMachineRule } from '../config/schema.js';
import type { ErrorCode } from '../errors.js';
import type { ConfigProblem } from '../inventory/declarations.js';
import type { InventoryEvent, Machine } from '../inventory/inventory.js';
import type { MachineState } from '../inventory/lifecycle.js';
import type { ProfileSpec } from '../inventory/profile.js';
import type { MirrorState, ProgressEvent, SourceState, SyncOutcome } from '../mirror/index.js';
import type { z } from 'zod';
import type { Settings, SettingsPatch, settingsPatchSchema } from '../settings/settings.js';
import type {
  NetworkChange,
  NetworkProblem,
  NetworkSaved,
  NetworkSettings,
  NetworkSettingsView,
  OtherServerRefusal,
  Recommendation,
} from '../settings/network.js';
import type {
  HostAddressChange,
  HostAddressConfirmed,
  HostAddressRequested,
  HostAddressView,
} from '../settings/host-address.js';
import type { HostAddressStatus } from '../system/host-address-protocol.js';
import type {
  DhcpConfiguredMode,
  DhcpFacts,
  DhcpReason,
  OtherDhcpServer,
  ServiceStatus,
} from '../system/service-status.js';

export type {
  HostAddressChange,
  HostAddressConfirmed,
  HostAddressRequested,
  HostAddressStatus,
  HostAddressView,
  DhcpConfiguredMode,
  DhcpFacts,
  DhcpReason,
  NetworkChange,
  NetworkProblem,
  NetworkSaved,
  NetworkSettings,
  NetworkSettingsView,
  OtherDhcpServer,
  OtherServerRefusal,
  Recommendation,
};
import type { GroupPolicy, GroupView, UpdateMachine, UpdateState } from '../updates/index.js';

export type { GroupPolicy, GroupView, UpdateMachine, UpdateState };
export type {
  ConfigProblem,
  ErrorCode,
  InventoryEvent,
  MachineState,
  MirrorSource,
  MirrorState,
  ProgressEvent,
  Settings,
  SettingsPatch,
  SyncOutcome,
  SourceState,
  UnknownMachineRule,
};

/** A machine as the API shows it: the callback token is always the masked placeholder. */
export type ApiMachine = Machine & { token: string };

/** One key path and what is wrong there, as the profile and settings checks report it. */
export interface Issue {
  path: string[];
  message: string;
}

/** A service as /healthz reports it; the DHCP service adds typed facts (`dhcp`). */
export type ServiceState = ServiceStatus;

export interface Health {
  status: 'ok' | 'degraded' | 'failed';
  version: string;
  services: ServiceState[];
  configProblems: ConfigProblem[];
  machines: Record<MachineState, number>;
  tls: { fingerprint: string; port: number } | null;
}

export interface MachineList {
  machines: ApiMachine[];
}
export interface MachineDetail {
  machine: ApiMachine;
  events: InventoryEvent[];
}
export interface MachineAnswer {
  machine: ApiMachine;
}

export type RenderFormat = 'ipxe' | 'ignition' | 'cloud-config';
export type ConfigPhase = 'install' | 'target';

export interface ProfileSummary {
  name: string;
  os: 'flatcar' | 'fcos';
  channel: string | undefined;
  version: string;
  arch: string;
  mode: 'install' | 'live';
  config: 'ignition' | 'ignition-v2' | 'cloud-config';
}
export interface ProfileList {
  profiles: ProfileSummary[];
  problems: ConfigProblem[];
}
/** A profile as loaded: defaults filled in, plus its name. */
export type LoadedProfile = ProfileSpec & { name: string };

/** A draft is YAML text (comments kept) or a profile object from the form. */
export type ProfileDraft = { yaml: string } | { profile: Record<string, unknown> };
export interface DraftCheck {
  ok: boolean;
  issues: Issue[];
  /** The draft as data (what the YAML says, before defaults); null when the YAML does not parse. */
  data: Record<string, unknown> | null;
  /** The draft as the YAML that saving it would write (for a YAML draft, the text itself). */
  yaml: string;
}
export interface ProfileSaved {
  profile: LoadedProfile | null;
  created: boolean;
  problems: ConfigProblem[];
}

/** What PUT /api/settings takes: any subset of the keys, defaults left to the server. */
export type SettingsInput = z.input<typeof settingsPatchSchema>;

export interface SettingsView {
  settings: Settings;
  inForce: { mirrorSources: MirrorSource[]; unknownRule: UnknownMachineRule };
  fromConfig: {
    mirrorSources: MirrorSource[];
    unknownRule: UnknownMachineRule;
    mirrorSchedule: string | null;
    mirrorKeep: number;
  };
}

export interface NetworkView {
  interface: string;
  addresses: Array<{ interface: string; address: string; family: string; cidr: string | null }>;
  http: string;
  dhcp: { configuredMode: DhcpConfiguredMode; service: ServiceState | null };
  recommendation: Recommendation;
}

export type SessionState =
  | {
      passwordSet: boolean;
      setupComplete: boolean;
      authenticated: false;
      expired: boolean;
      tlsFingerprint: string | null;
    }
  | { passwordSet: true; setupComplete: boolean; authenticated: true; csrf: string; tlsFingerprint: string | null };
export interface SessionOpened {
  authenticated: true;
  csrf: string;
}

export interface SyncStarted {
  started: true;
  sources: string[];
}

/** GET /api/updates: each update group's policy and target, and what each machine reported over Omaha. */
export interface UpdatesView {
  groups: GroupView[];
  machines: UpdateMachine[];
}

/** Every error answer: the status is the one docs/errors.md gives the code. */
export interface ErrorAnswer {
  error: { code: ErrorCode; message: string; details: Record<string, unknown> };
}

/** The named events of GET /api/events, by name: the mirror's progress rides the machines' stream. */
export interface NamedEvents {
  'mirror-progress': ProgressEvent;
  'mirror-outcome': SyncOutcome;
  'mirror-idle': Record<string, never>;
}
