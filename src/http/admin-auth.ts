import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import path from 'node:path';
import { readJsonFile, SerialQueue, writeFileAtomic } from '../store/index.js';
import { KindlingError } from '../errors.js';

// The setup page's admin password and sessions. The password is kept only as an
// scrypt hash (DATADIR/state/admin-password.json, 0600, written atomically). Sessions
// live in memory: a restart logs everyone out, and nothing is written per request.

/** scrypt cost: N=2^15 takes about 100 ms on a Raspberry Pi 4 and 32 MiB of memory. */
const scryptParams = { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const keyLength = 32;
/** A session ends after this long without a request... */
export const sessionIdleMs = 60 * 60 * 1000;
/** ...and in any case this long after login. */
export const sessionMaxMs = 12 * 60 * 60 * 1000;
/** Sessions kept at once; the oldest goes first. */
const maxSessions = 32;
/** Wrong passwords allowed per client address before it must wait. */
export const loginFreeAttempts = 5;
/** The first wait; it doubles with each further wrong password, up to loginMaxLockMs. */
const loginBaseLockMs = 30_000;
const loginMaxLockMs = 15 * 60 * 1000;
/**
 * Across all addresses: at most this many wrong passwords a minute (scrypt costs CPU).
 * Addresses that logged in before are exempt, so a flood from many addresses cannot
 * lock the admin out; the bearer token on the box itself is never limited.
 */
const globalFailuresPerMinute = 60;
const maxTrustedClients = 64;
export const passwordMinLength = 8;
const passwordMaxLength = 1024;

interface PasswordRecord {
  algorithm: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  hash: string;
  setAt: string;
}

export interface Session {
  id: string;
  csrf: string;
  createdAt: number;
  lastSeen: number;
}

interface Attempts {
  count: number;
  lockedUntil: number;
  last: number;
}

function scrypt(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password.normalize('NFC'), salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export class AdminAuth {
  /** Milliseconds since the epoch; tests move it to expire sessions. */
  clock: () => number = () => Date.now();
  private readonly file: string;
  private record: PasswordRecord | null;
  private readonly sessions = new Map<string, Session>();
  private readonly attempts = new Map<string, Attempts>();
  /** Addresses that logged in with the right password since the start (newest last). */
  private readonly trustedClients = new Set<string>();
  private recentFailures: number[] = [];
  /** Password writes one at a time, so only the first of racing first-boot calls wins. */
  private readonly passwordWrites = new SerialQueue();

  private constructor(file: string, record: PasswordRecord | null) {
    this.file = file;
    this.record = record;
  }

  static async open(options: { stateDir: string }): Promise<AdminAuth> {
    const file = path.join(options.stateDir, 'admin-password.json');
    const record = await readJsonFile<PasswordRecord | null>(file, null);
    return new AdminAuth(file, record);
  }

  get passwordSet(): boolean {
    return this.record !== null;
  }

  /** First boot only: sets the password and opens a session. */
  setInitialPassword(password: string, client?: string): Promise<Session> {
    return this.passwordWrites.run(async () => {
      // Checked inside the queue: the hash takes ~100 ms, and a second caller waiting
      // behind the first must see the password the first one set.
      if (this.record)
        throw new KindlingError(
          'PASSWORD_ALREADY_SET',
          'the admin password is already set; log in, then change it under Settings',
        );
      await this.writePassword(password);
      if (client !== undefined) this.trust(client);
      return this.createSession();
    });
  }

  /** Changes the password; every other session ends. */
  changePassword(current: string, next: string, client: string): Promise<Session> {
    return this.passwordWrites.run(async () => {
      await this.login(current, client);
      await this.writePassword(next);
      this.sessions.clear();
      return this.createSession();
    });
  }

  /** Checks the password with rate limiting per client address; a session on success. */
  async login(password: string, client: string): Promise<Session> {
    if (!this.record)
      throw new KindlingError('SETUP_REQUIRED', 'no admin password is set yet; open the setup page to set one');
    const now = this.clock();
    this.recentFailures = this.recentFailures.filter((t) => now - t < 60_000);
    let entry = this.attempts.get(client);
    // A client that stayed quiet for twice the longest wait starts over.
    if (!entry || (entry.lockedUntil < now && now - entry.last > 2 * loginMaxLockMs))
      entry = { count: 0, lockedUntil: 0, last: now };
    const globallyLimited = this.recentFailures.length >= globalFailuresPerMinute && !this.trustedClients.has(client);
    if (entry.lockedUntil > now || globallyLimited) {
      const retryAfter = Math.max(1, Math.ceil((Math.max(entry.lockedUntil, now + 1000) - now) / 1000));
      throw new KindlingError('LOGIN_RATE_LIMITED', `too many wrong passwords; try again in ${retryAfter} s`, {
        retryAfterSeconds: retryAfter,
      });
    }
    // Counted before the hash is checked, so parallel guesses cannot slip past the limit.
    entry.count += 1;
    entry.last = now;
    if (entry.count >= loginFreeAttempts)
      entry.lockedUntil = now + Math.min(loginMaxLockMs, loginBaseLockMs * 2 ** (entry.count - loginFreeAttempts));
    this.attempts.set(client, entry);
    this.prune(now);
    const r = this.record;
    const given = await scrypt(typeof password === 'string' ? password : '', Buffer.from(r.salt, 'base64'), {
      N: r.N,
      r: r.r,
      p: r.p,
      maxmem: scryptParams.maxmem,
    });
    const expected = Buffer.from(r.hash, 'base64');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      this.recentFailures.push(this.clock());
      const left = Math.max(0, loginFreeAttempts - entry.count);
      throw new KindlingError(
        'LOGIN_FAILED',
        left > 0 ? `wrong password; ${left} more tries before a wait` : 'wrong password; wait before trying again',
        { attemptsLeft: left },
      );
    }
    this.attempts.delete(client);
    this.trust(client);
    return this.createSession();
  }

  /** The live session for a cookie value, or why there is none. */
  session(id: string | undefined): Session | 'missing' | 'expired' {
    if (!id) return 'missing';
    const s = this.sessions.get(id);
    const now = this.clock();
    if (!s) return 'expired';
    if (now - s.lastSeen > sessionIdleMs || now - s.createdAt > sessionMaxMs) {
      this.sessions.delete(id);
      return 'expired';
    }
    s.lastSeen = now;
    return s;
  }

  checkCsrf(session: Session, given: string | undefined): boolean {
    const a = Buffer.from(session.csrf);
    const b = Buffer.from(given ?? '');
    return a.length === b.length && timingSafeEqual(a, b);
  }

  logout(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  private async writePassword(password: string): Promise<void> {
    if (
      typeof password !== 'string' ||
      [...password].length < passwordMinLength ||
      password.length > passwordMaxLength
    ) {
      throw new KindlingError(
        'PASSWORD_WEAK',
        `the admin password must be ${passwordMinLength} to ${passwordMaxLength} characters long`,
      );
    }
    const salt = randomBytes(16);
    const hash = await scrypt(password, salt, scryptParams);
    const record: PasswordRecord = {
      algorithm: 'scrypt',
      N: scryptParams.N,
      r: scryptParams.r,
      p: scryptParams.p,
      salt: salt.toString('base64'),
      hash: hash.toString('base64'),
      setAt: new Date(this.clock()).toISOString(),
    };
    await writeFileAtomic(this.file, `${JSON.stringify(record)}\n`, 0o600);
    this.record = record;
  }

  private createSession(): Session {
    const now = this.clock();
    for (const [id, s] of this.sessions)
      if (now - s.lastSeen > sessionIdleMs || now - s.createdAt > sessionMaxMs) this.sessions.delete(id);
    while (this.sessions.size >= maxSessions) this.sessions.delete(this.sessions.keys().next().value as string);
    const session: Session = {
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(32).toString('base64url'),
      createdAt: now,
      lastSeen: now,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  private trust(client: string): void {
    this.trustedClients.delete(client);
    this.trustedClients.add(client);
    if (this.trustedClients.size > maxTrustedClients)
      this.trustedClients.delete(this.trustedClients.values().next().value as string);
  }

  private prune(now: number): void {
    if (this.attempts.size < 1000) return;
    for (const [client, a] of this.attempts)
      if (a.lockedUntil < now && now - a.last > loginMaxLockMs) this.attempts.delete(client);
  }
}
