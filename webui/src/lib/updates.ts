import type { UpdateMachine } from '../../../src/api-client/types.js';

// The machines table's side of GET /api/updates (docs/updates.md, "What the machines table shows").

/**
 * Each machine's update record, and the records that name no machine here. A machine
 * reinstalled keeps the old system's record under its old machine id until it drops out;
 * the newest report is the one its row shows.
 */
export function splitUpdates(reported: UpdateMachine[]): {
  byMac: Record<string, UpdateMachine>;
  unmatched: UpdateMachine[];
} {
  const byMac: Record<string, UpdateMachine> = {};
  for (const u of reported) {
    if (!u.mac) continue;
    const shown = byMac[u.mac];
    if (!shown || shown.lastSeen < u.lastSeen) byMac[u.mac] = u;
  }
  return { byMac, unmatched: reported.filter((u) => !u.mac) };
}
