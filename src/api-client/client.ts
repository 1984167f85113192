// The one client of the admin API (docs/api.md), for the `kindling` command (bearer
// token, a URL from kindling.yaml) and the setup page (same origin, session cookie,
// CSRF token). It runs in Node and in the browser: fetch only, no Node modules.
import type {
  ConfigPhase,
  DraftCheck,
  ErrorAnswer,
  ErrorCode,
  Health,
  InventoryEvent,
  Issue,
  MachineAnswer,
  MachineDetail,
  MachineList,
  MirrorState,
  HostAddressChange,
  HostAddressConfirmed,
  HostAddressRequested,
  HostAddressView,
  NetworkChange,
  NetworkSaved,
  NetworkSettingsView,
  NetworkView,
  LoadedProfile,
  ProfileDraft,
  ProfileList,
  ProfileSaved,
  RenderFormat,
  SessionOpened,
  SessionState,
  SettingsInput,
  SettingsView,
  SyncStarted,
  GroupPolicy,
  UpdatesView,
} from './types.js';

/** The server refused: its code, message and details, kept as sent. `HTTP`: the answer had no Kindling error body. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'HTTP',
    message: string,
    readonly details: Record<string, unknown>,
    readonly url: string,
  ) {
    super(message);
  }

  /** Key paths and messages, when the server reported them (profile and settings checks). */
  get issues(): Issue[] {
    const issues = this.details['issues'];
    return Array.isArray(issues) ? (issues as Issue[]) : [];
  }
}

/** Why nothing answered, in words; `system` is the system's code (ECONNREFUSED, …) when known. */
export class Unreachable extends Error {
  override readonly name = 'Unreachable';
  constructor(
    readonly url: string,
    readonly reason: string,
    readonly system: string | null,
  ) {
    super(`no answer from ${url}: ${reason}`);
  }
}

export interface ClientOptions {
  /** Where the API is: `http://127.0.0.1:8080` for the command, '' for the page (same origin). */
  baseUrl: string;
  /** Headers for one request: the bearer token, or the page's CSRF token on state changes. */
  headers?: (method: string) => Record<string, string>;
  credentials?: RequestCredentials;
  /** Give up on a request after this long; a stopped or unreachable host would hang otherwise. */
  timeoutMs?: number;
  /** Sees every ApiError before it is thrown (the page notices a lost session here). */
  onError?: (err: ApiError, path: string) => void;
}

const reasons: Record<string, string> = {
  ECONNREFUSED: 'connection refused (nothing listens there)',
  ECONNRESET: 'the connection was closed before an answer',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  EADDRNOTAVAIL: 'the address is not available on this machine',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve (DNS did not answer)',
  ETIMEDOUT: 'the connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  UND_ERR_SOCKET: 'the connection was closed before an answer',
};

/** The system code inside a fetch failure: undici wraps it in `cause`, happy eyeballs in an AggregateError. */
function causeCode(err: unknown): string | null {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const inner = (e as { errors?: unknown[] }).errors?.[0];
    e = (e as { cause?: unknown }).cause ?? inner;
  }
  return null;
}

export class KindlingClient {
  constructor(private readonly options: ClientOptions) {}

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  /**
   * One request; an error answer becomes ApiError, no answer at all Unreachable. `read`
   * runs under the same deadline, so a body that stalls half-way is no answer either.
   * `answers` says which statuses are answers rather than errors (default: 2xx).
   */
  async request<T = Response>(
    method: string,
    path: string,
    body?: unknown,
    read: (res: Response) => Promise<T> = async (res) => res as T,
    answers: (status: number) => boolean = (s) => s >= 200 && s < 300,
  ): Promise<T> {
    const url = `${this.options.baseUrl}${path}`;
    const headers: Record<string, string> = { accept: 'application/json', ...this.options.headers?.(method) };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const timeoutMs = this.options.timeoutMs;
    // A plain timer, not AbortSignal.timeout: that one does not keep Node running, and
    // Node 20's fetch can wait forever on a connection closed before the request went out.
    const controller = new AbortController();
    const timer = timeoutMs ? setTimeout(() => controller.abort(), timeoutMs) : undefined;
    const timedOut = () => new Unreachable(url, `no answer within ${Math.round((timeoutMs ?? 0) / 1000)} s`, 'TIMEOUT');
    try {
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          headers,
          body: body === undefined ? null : JSON.stringify(body),
          signal: controller.signal,
          ...(this.options.credentials ? { credentials: this.options.credentials } : {}),
        });
      } catch (err) {
        if (controller.signal.aborted) throw timedOut();
        const code = causeCode(err);
        const said = ((err as { cause?: Error }).cause?.message || (err as Error).message) ?? '';
        throw new Unreachable(
          url,
          (code && reasons[code]) ?? `the connection failed (${code ?? (said || 'no reason given')})`,
          code,
        );
      }
      if (!answers(res.status)) {
        const err = await errorOf(res, url);
        this.options.onError?.(err, path);
        throw err;
      }
      try {
        return await read(res);
      } catch (err) {
        if (controller.signal.aborted) throw timedOut();
        throw err;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.request(method, path, body, async (res) => (await res.json()) as T);
  }

  text(method: string, path: string, body?: unknown): Promise<string> {
    return this.request(method, path, body, (res) => res.text());
  }

  // Open to the network.
  /** The health summary; 503 (a service failed) is an answer here, with the same body. */
  health = () =>
    this.request(
      'GET',
      '/healthz',
      undefined,
      async (res) => (await res.json()) as Health,
      (s) => s === 200 || s === 503,
    );

  // Machines.
  machines = () => this.json<MachineList>('GET', '/api/machines');
  machine = (mac: string) => this.json<MachineDetail>('GET', `/api/machines/${encodeURIComponent(mac)}`);
  assign = (mac: string, profile: string, name?: string) =>
    this.json<MachineAnswer>(
      'POST',
      `/api/machines/${encodeURIComponent(mac)}/assign`,
      name ? { profile, name } : { profile },
    );
  reinstall = (mac: string) => this.json<MachineAnswer>('POST', `/api/machines/${encodeURIComponent(mac)}/reinstall`);
  forget = (mac: string) => this.json<{ forgotten: string }>('DELETE', `/api/machines/${encodeURIComponent(mac)}`);
  /** What the machine would get now, token masked: iPXE text or the config as served. */
  render = (mac: string, as: RenderFormat, phase?: ConfigPhase) =>
    this.text(
      'GET',
      `/api/machines/${encodeURIComponent(mac)}/render?as=${encodeURIComponent(as)}${phase ? `&phase=${phase}` : ''}`,
    );
  events = (options: { mac?: string; limit?: number } = {}) => {
    const query = new URLSearchParams({
      ...(options.mac ? { mac: options.mac } : {}),
      ...(options.limit ? { limit: String(options.limit) } : {}),
    }).toString();
    return this.json<{ events: InventoryEvent[] }>('GET', `/api/events${query ? `?${query}` : ''}`);
  };

  // Profiles.
  profiles = () => this.json<ProfileList>('GET', '/api/profiles');
  profile = (name: string) => this.json<{ profile: LoadedProfile }>('GET', `/api/profiles/${encodeURIComponent(name)}`);
  profileSource = (name: string) => this.text('GET', `/api/profiles/${encodeURIComponent(name)}/source`);
  validateProfile = (draft: ProfileDraft) => this.json<DraftCheck>('POST', '/api/profiles/validate', draft);
  saveProfile = (name: string, draft: ProfileDraft) =>
    this.json<ProfileSaved>('PUT', `/api/profiles/${encodeURIComponent(name)}`, draft);
  deleteProfile = (name: string) =>
    this.json<{ deleted: string }>('DELETE', `/api/profiles/${encodeURIComponent(name)}`);
  previewProfile = (
    draft: ProfileDraft,
    target: { mac: string; as: RenderFormat; name?: string; phase?: ConfigPhase },
  ) => this.text('POST', '/api/profiles/preview', { ...draft, ...target });

  // Mirror.
  mirror = () => this.json<MirrorState>('GET', '/api/mirror');
  mirrorSync = (source?: string) => this.json<SyncStarted>('POST', '/api/mirror/sync', source ? { source } : {});

  // Updates for installed Flatcar nodes (Omaha, docs/updates.md).
  updates = () => this.json<UpdatesView>('GET', '/api/updates');
  /** Replaces one group's policy; keys left out take their defaults. */
  setUpdatePolicy = (group: string, policy: Partial<GroupPolicy>) =>
    this.json<UpdatesView>('PUT', `/api/updates/groups/${encodeURIComponent(group)}`, policy);
  resetUpdatePolicy = (group: string) =>
    this.json<UpdatesView>('DELETE', `/api/updates/groups/${encodeURIComponent(group)}`);

  // Settings and the wizard.
  settings = () => this.json<SettingsView>('GET', '/api/settings');
  updateSettings = (patch: SettingsInput) => this.json<SettingsView>('PUT', '/api/settings', patch);
  network = () => this.json<NetworkView>('GET', '/api/setup/network');
  networkSettings = () => this.json<NetworkSettingsView>('GET', '/api/settings/network');
  /** Refused with NETWORK_INVALID (issues name the keys) or DHCP_OTHER_SERVER (details.servers) unless `force`. */
  saveNetwork = (change: NetworkChange) => this.json<NetworkSaved>('PUT', '/api/settings/network', change);
  hostAddress = () => this.json<HostAddressView>('GET', '/api/settings/host-address');
  /** 202: the helper applies it for this boot; confirm from `confirmUrl` before the deadline or it goes back. */
  setHostAddress = (change: HostAddressChange) =>
    this.json<HostAddressRequested>('PUT', '/api/settings/host-address', change);
  confirmHostAddress = (id: string) =>
    this.json<HostAddressConfirmed>('POST', '/api/settings/host-address/confirm', { id });

  // The page's session.
  session = () => this.json<SessionState>('GET', '/api/session');
  setInitialPassword = (password: string) => this.json<SessionOpened>('POST', '/api/setup/password', { password });
  login = (password: string) => this.json<SessionOpened>('POST', '/api/login', { password });
  logout = () => this.json<{ authenticated: false }>('POST', '/api/logout');
  changePassword = (current: string, password: string) =>
    this.json<SessionOpened>('POST', '/api/password', { current, password });
}

async function errorOf(res: Response, url: string): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const { error } = JSON.parse(text) as Partial<ErrorAnswer>;
    if (error && typeof error.code === 'string' && typeof error.message === 'string')
      return new ApiError(res.status, error.code, error.message, error.details ?? {}, url);
  } catch {
    // Not JSON: not a Kindling answer (a proxy, another program on the port).
  }
  const excerpt = text.trim().split('\n')[0]?.slice(0, 200) ?? '';
  return new ApiError(res.status, 'HTTP', `${res.status} ${res.statusText}${excerpt ? `: ${excerpt}` : ''}`, {}, url);
}
