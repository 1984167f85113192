// Durable lease records: an append-only JSON-lines journal with group commit
// (src/store/journal.ts). A lease must be on disk before its ACK leaves (a restart or
// kill -9 must never hand one address to two machines), but ISC dhcpd's fsync per ACK
// and dnsmasq's rewrite of the whole file per change are what make them slow and wear
// an SD card. Here a storm of leases shares a handful of syncs, and the journal is
// rewritten atomically from the live table when it has grown well past it.
import { Journal, type JournalStats } from '../store/journal.js';

export type { JournalStats };

export type JournalRecord =
  | { t: 'bind'; mac: string; ip: string; exp: number; host?: string | null }
  | { t: 'release'; mac: string; ip: string; at: number }
  | { t: 'decline'; ip: string; until: number };

/** The journal is compacted when it holds this many records more than the live table. */
const COMPACT_SLACK = 2000;

const isLeaseRecord = (r: unknown): r is JournalRecord =>
  typeof r === 'object' && r !== null && typeof (r as { t?: unknown }).t === 'string';

export type LeaseJournal = Journal<JournalRecord>;

export const LeaseJournal = {
  /** Reads every intact record (a torn last line after a crash is skipped), then opens for append (mode 0600). */
  open(file: string, snapshot: () => JournalRecord[]): Promise<{ journal: LeaseJournal; records: JournalRecord[] }> {
    return Journal.open({ file, snapshot, accept: isLeaseRecord, slack: () => COMPACT_SLACK, label: 'lease journal' });
  },
};
