// Error codes of the admin session (login, CSRF, first-boot set-up). They answer in
// the same { error: { code, message, details } } form as src/errors.ts; they live
// here while src/errors.ts is being edited by other work, and move there with the
// next change that touches both.
export const pageErrorCodes = {
  SETUP_REQUIRED: { status: 403, summary: 'no admin password is set yet; only setting it is allowed' },
  PASSWORD_ALREADY_SET: { status: 409, summary: 'the admin password is already set; log in to change it' },
  PASSWORD_WEAK: { status: 400, summary: 'the new admin password is too short or too long' },
  LOGIN_FAILED: { status: 401, summary: 'the admin password is wrong' },
  LOGIN_RATE_LIMITED: { status: 429, summary: 'too many wrong passwords from this address; wait and try again' },
  SESSION_EXPIRED: { status: 401, summary: 'the session expired or was ended; log in again' },
  CSRF_INVALID: { status: 403, summary: 'a state-changing request lacked the session\'s CSRF token' },
} as const;

export type PageErrorCode = keyof typeof pageErrorCodes;

export class PageError extends Error {
  readonly code: PageErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown>;
  constructor(code: PageErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'PageError';
    this.code = code;
    this.status = pageErrorCodes[code].status;
    this.details = details;
  }
  toJSON(): { code: PageErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}
