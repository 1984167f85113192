// Retransmission timing. RFC 1350 section 2 leaves it to the sender; RFC 2349 section 4
// lets the client fix the interval. Doubling from 1 s (tftpd-hpa's default) up to 8 s,
// six times, waits about 31 s in all: long enough for a switch port that spanning tree
// holds for ~30 s after link-up, short enough that a vanished client frees its slot.

export interface RetransmitPolicy {
  initialMs: number;
  maxMs: number;
  /** Retransmissions of one window before the transfer is abandoned. */
  retries: number;
}

export const DEFAULT_RETRANSMIT: RetransmitPolicy = { initialMs: 1000, maxMs: 8000, retries: 6 };

/** Delay before retransmission number `attempt` (0 for the first send). */
export function retransmitDelay(policy: RetransmitPolicy, attempt: number, clientTimeoutMs: number | null): number {
  // A client-chosen timeout is used as given (RFC 2349 section 4), without back-off.
  if (clientTimeoutMs !== null) return clientTimeoutMs;
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
}
