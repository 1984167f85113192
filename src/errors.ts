// Every error code Kindling can show a person, with its HTTP status. Codes are
// stable: tests and docs refer to them, and a retired code is never reused.
export const errorCodes = {
  CONFIG_YAML: { status: 500, summary: 'a YAML file does not parse' },
  CONFIG_INVALID: { status: 500, summary: 'a configuration value is missing, unknown or of the wrong type' },
  CONFIG_READ: { status: 500, summary: 'a configuration file cannot be read' },
  PROFILE_INVALID: { status: 422, summary: 'a profile file is not a valid profile' },
  PROFILE_UNKNOWN: { status: 404, summary: 'no profile has that name' },
  MACHINES_INVALID: { status: 422, summary: 'machines.yaml is not a valid machine list' },
  MAC_INVALID: { status: 400, summary: 'a MAC address does not parse' },
  MACHINE_UNKNOWN: { status: 404, summary: 'no machine has that MAC address' },
  MACHINE_UNASSIGNED: { status: 404, summary: 'the machine has no profile, so it has no config to fetch' },
  TRANSITION_INVALID: { status: 409, summary: 'the machine cannot move to that state from the one it is in' },
  TEMPLATE_VARIABLE: { status: 422, summary: 'a template uses a variable that is not defined' },
  TEMPLATE_OUTPUT: { status: 422, summary: 'a template rendered to something that is not valid for its format' },
  RENDER_INVALID: { status: 500, summary: 'a rendered config failed validation and was not served' },
  TOKEN_INVALID: { status: 403, summary: 'a callback carried a missing or wrong machine token' },
  REQUEST_INVALID: { status: 400, summary: 'a request is missing a parameter or has one of the wrong form' },
  BODY_TOO_LARGE: { status: 413, summary: 'a request body is larger than the 64 KiB the API accepts' },
  URL_TOO_LONG: { status: 414, summary: 'a path parameter is longer than the server accepts' },
  MEDIA_TYPE_UNSUPPORTED: { status: 415, summary: 'a request body is not JSON (content-type application/json)' },
  PATH_INVALID: { status: 400, summary: 'a path leaves its root or has forbidden characters' },
  AUTH_REQUIRED: { status: 401, summary: 'the admin API needs the admin token' },
  STORE_CORRUPT: { status: 500, summary: 'a state document does not parse' },
  DHCP_RANGE_INVALID: {
    status: 500,
    summary: 'the full-mode DHCP range is empty, outside the subnet or contains the server',
  },
  DHCP_SOCKET: { status: 500, summary: 'a DHCP port (67, 68 or 4011) cannot be bound' },
  DHCP_INTERFACE_UNKNOWN: {
    status: 500,
    summary: 'dhcp.interface names a network interface this machine does not have',
  },
  DHCP_OTHER_SERVER: {
    status: 409,
    summary: 'another DHCP server answered the probe, so full mode was not switched on (send force to switch anyway)',
  },
  NETWORK_INVALID: {
    status: 400,
    summary: 'a network setting from the page is not an address, or lies outside the interface subnet',
  },
  CONFIG_NOT_WRITABLE: {
    status: 409,
    summary: 'there is no kindling.yaml to save a change from the page to, or Kindling may not write it',
  },
  HOST_ADDRESS_INVALID: {
    status: 400,
    summary: "the machine's own address from the page is not a usable address, prefix or gateway",
  },
  HOST_ADDRESS_UNMANAGED: {
    status: 409,
    summary: "this Kindling does not set its machine's address (server.hostAddress.manage is false off the appliance)",
  },
  HOST_ADDRESS_PENDING: {
    status: 409,
    summary: "another change of the machine's own address is waiting for its confirmation",
  },
  HOST_ADDRESS_NOT_WAITING: {
    status: 409,
    summary: 'the address change to confirm is not waiting for a confirmation (finished, gone back, or another one)',
  },
  HOST_ADDRESS_REVERTED: {
    status: 409,
    summary: 'the address change went back before its confirmation arrived',
  },
  HOST_ADDRESS_HELPER_SILENT: {
    status: 504,
    summary: 'the root-side address helper did not answer (is kindling-host-address.path enabled?)',
  },
  TFTP_LISTEN: { status: 500, summary: 'the TFTP port cannot be bound' },
  MIRROR_UPSTREAM: { status: 502, summary: 'a mirror source upstream is unreachable or answered with an error status' },
  MIRROR_TRUNCATED: { status: 502, summary: 'an upstream download ended before its announced length' },
  MIRROR_METADATA: { status: 502, summary: 'upstream release metadata (version.txt or stream JSON) does not parse' },
  MIRROR_CHECKSUM: { status: 502, summary: 'a downloaded file does not match the sha256 in its metadata' },
  MIRROR_SIGNATURE: { status: 502, summary: 'a downloaded file has a bad signature or one by an untrusted key' },
  MIRROR_KEYS: { status: 500, summary: 'the OpenPGP keys of a mirror source cannot be read' },
  MIRROR_DISK_FULL: { status: 507, summary: 'the mirror ran out of disk space while downloading' },
  MIRROR_WRITE: { status: 500, summary: 'the mirror cannot write to its data directory' },
  MIRROR_SYNC_RUNNING: { status: 409, summary: 'a mirror sync is already running' },
  MIRROR_SOURCE_UNKNOWN: { status: 404, summary: 'no mirror source has that name' },
  MIRROR_IMPORT_MISSING: { status: 422, summary: 'a file the imported release needs is not in the import directory' },
  MIRROR_IMPORT_SOURCE: {
    status: 422,
    summary: 'an import directory fits no configured mirror source, or more than one',
  },
  MIRROR_SCHEDULE_INVALID: { status: 500, summary: 'mirror.schedule is not a valid cron expression' },
  NOT_FOUND: { status: 404, summary: 'no route answers that method and path' },
  INTERNAL: { status: 500, summary: 'an unexpected error; the log has the details' },
  SETUP_REQUIRED: { status: 403, summary: 'no admin password is set yet; only setting it is allowed' },
  PASSWORD_ALREADY_SET: { status: 409, summary: 'the admin password is already set; log in to change it' },
  PASSWORD_WEAK: { status: 400, summary: 'the new admin password is too short or too long' },
  LOGIN_FAILED: { status: 401, summary: 'the admin password is wrong' },
  LOGIN_RATE_LIMITED: { status: 429, summary: 'too many wrong passwords from this address; wait and try again' },
  SESSION_EXPIRED: { status: 401, summary: 'the session expired or was ended; log in again' },
  CSRF_INVALID: { status: 403, summary: "a state-changing request lacked the session's CSRF token" },
  BOOT_FILE_MISSING: { status: 404, summary: 'an iPXE binary is not in any TFTP root' },
  CONFIG_ADDRESS: { status: 403, summary: "a config fetch came from an address that is not the machine's" },
  CONFIG_RATE_LIMITED: { status: 429, summary: 'too many config fetches from one address in a minute' },
  HTTPS_REQUIRED: { status: 403, summary: 'the admin token came over plain HTTP from another host; use HTTPS' },
  OMAHA_REQUEST_INVALID: {
    status: 400,
    summary: 'an Omaha update request is not well-formed XML or not an Omaha 3.0 request',
  },
  UPDATE_POLICY_INVALID: {
    status: 422,
    summary: 'an update group policy names an unknown source or has a value of the wrong form',
  },
} as const;

export type ErrorCode = keyof typeof errorCodes;

/** An error a person can act on: a stable code, and a message naming the file, key or value and what was expected. */
export class KindlingError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'KindlingError';
    this.code = code;
    this.status = errorCodes[code].status;
    this.details = details;
  }

  toJSON(): { code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** What every error answer carries, whoever sends it: the HTTP status is errorCodes[code].status. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details: Record<string, unknown> };
}

export function errorBody(err: KindlingError): ErrorBody {
  return { error: err.toJSON() };
}

export function isKindlingError(err: unknown, code?: ErrorCode): err is KindlingError {
  return err instanceof KindlingError && (code === undefined || err.code === code);
}
