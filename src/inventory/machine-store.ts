import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Journal, type JournalStats } from '../store/journal.js';
import { readJsonFile, writeFileAtomic } from '../store/index.js';
import type { MachineRecord } from './machine-record.js';

// Where the inventory's records live: DATADIR/state/machines.jsonl, one line per
// change (the whole record, so a line replays on its own), compacted when it has grown
// to twice the live records. Before the journal it was machines.json, one document
// rewritten whole per change: 9 MB written per new MAC at 20,000 machines.

export type MachineLine =
  { t: 'machine'; r: MachineRecord } | { t: 'forget'; mac: string } | { t: 'counter'; nextNumber: number };

interface LegacyDocument {
  version: 1;
  nextNumber: number;
  machines: Record<string, MachineRecord>;
}

export const machineJournalName = 'machines.jsonl';
export const legacyDocumentName = 'machines.json';

/** Compaction rewrites the live records, so waiting for as many stale lines keeps its cost per change at one record. */
const minSlack = 1000;

const isMachineLine = (v: unknown): v is MachineLine => {
  if (typeof v !== 'object' || v === null) return false;
  const line = v as Partial<{ t: string; r: { mac?: unknown }; mac: unknown; nextNumber: unknown }>;
  if (line.t === 'machine') return typeof line.r === 'object' && line.r !== null && typeof line.r.mac === 'string';
  if (line.t === 'forget') return typeof line.mac === 'string';
  return line.t === 'counter' && typeof line.nextNumber === 'number';
};

export class MachineStore {
  /** Keyed by MAC; a Map, so no MAC can name an Object.prototype key. */
  readonly records = new Map<string, MachineRecord>();
  nextNumber = 1;
  /**
   * Update key to MAC and back, kept with every saved line: an Omaha request's ?node= is
   * found without a pass over 10,000 records, and a rotated or forgotten key drops out.
   */
  private readonly macOfKey = new Map<string, string>();
  private readonly keyOfMac = new Map<string, string>();
  private journal!: Journal<MachineLine>;

  private constructor() {}

  static async open(stateDir: string): Promise<MachineStore> {
    const store = new MachineStore();
    const file = path.join(stateDir, machineJournalName);
    await migrateLegacyDocument(stateDir, file);
    const opened = await Journal.open<MachineLine>({
      file,
      snapshot: () => store.snapshot(),
      accept: isMachineLine,
      slack: (live) => Math.max(minSlack, live),
      label: 'machine journal',
    });
    for (const line of opened.records) store.replay(line);
    store.journal = opened.journal;
    return store;
  }

  get stats(): JournalStats {
    return this.journal.stats;
  }

  get failures(): number {
    return this.journal.failures;
  }

  get lastError(): string | null {
    return this.journal.lastError;
  }

  /** Records the machine as it is now (the line is serialised at once); resolves once durable. */
  save(record: MachineRecord): Promise<void> {
    this.records.set(record.mac, record);
    this.indexKey(record.mac, record.updateKey);
    return this.journal.append({ t: 'machine', r: record });
  }

  remove(mac: string): Promise<void> {
    this.records.delete(mac);
    this.indexKey(mac, undefined);
    return this.journal.append({ t: 'forget', mac });
  }

  /**
   * The MAC whose record holds this update key now. The record itself is compared, so a
   * key rotated in memory a moment before its line is saved already names nothing.
   */
  macForUpdateKey(key: string): string | null {
    const mac = this.macOfKey.get(key);
    return mac !== undefined && this.records.get(mac)?.updateKey === key ? mac : null;
  }

  saveCounter(): Promise<void> {
    return this.journal.append({ t: 'counter', nextNumber: this.nextNumber });
  }

  /** Waits for every write so far; retries a rewrite a failed write left owing. */
  flush(): Promise<void> {
    return this.journal.settle();
  }

  close(): Promise<void> {
    return this.journal.close();
  }

  private snapshot(): MachineLine[] {
    return [
      { t: 'counter', nextNumber: this.nextNumber },
      ...[...this.records.values()].map((r): MachineLine => ({ t: 'machine', r })),
    ];
  }

  private replay(line: MachineLine): void {
    if (line.t === 'machine') {
      this.records.set(line.r.mac, line.r);
      this.indexKey(line.r.mac, line.r.updateKey);
    } else if (line.t === 'forget') {
      this.records.delete(line.mac);
      this.indexKey(line.mac, undefined);
    } else this.nextNumber = line.nextNumber;
  }

  private indexKey(mac: string, key: string | undefined): void {
    const old = this.keyOfMac.get(mac);
    if (old === key) return;
    if (old !== undefined) this.macOfKey.delete(old);
    if (key === undefined) {
      this.keyOfMac.delete(mac);
      return;
    }
    this.keyOfMac.set(mac, key);
    this.macOfKey.set(key, mac);
  }
}

/**
 * machines.json (before the journal) becomes machines.jsonl: the journal is written
 * whole first, then the old file removed, so a crash in between leaves both and the
 * next start keeps the journal.
 */
async function migrateLegacyDocument(stateDir: string, journalFile: string): Promise<void> {
  const legacy = path.join(stateDir, legacyDocumentName);
  const journalExists = await fs.stat(journalFile).then(
    () => true,
    () => false,
  );
  if (!journalExists) {
    const doc = await readJsonFile<LegacyDocument | null>(legacy, null);
    if (!doc) return;
    const lines: MachineLine[] = [
      { t: 'counter', nextNumber: doc.nextNumber ?? 1 },
      ...Object.values(doc.machines ?? {})
        .map((r): MachineLine => ({ t: 'machine', r }))
        .filter(isMachineLine),
    ];
    await writeFileAtomic(journalFile, lines.map((l) => JSON.stringify(l) + '\n').join(''), 0o600);
  }
  await fs.rm(legacy, { force: true });
}
