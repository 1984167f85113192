import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument, isSeq, isMap, type Document, type YAMLSeq } from 'yaml';
import { z } from 'zod';
import { ipv4 } from '../config/schema.js';
import { parseYaml, validate } from '../config/yaml-document.js';
import { isKindlingError, KindlingError } from '../errors.js';
import { writeFileAtomic } from '../store/atomic-file.js';
import { SerialQueue } from '../store/serial-queue.js';
import { parseMac } from './mac.js';
import { parseProfile, profileNamePattern, type Profile } from './profile.js';

// The declarative files under dataDir/config/ (docs/configuration.md, "Declarative files"):
// profiles/NAME.yaml and machines.yaml. They are edited by hand or by the page and
// reloaded without a restart. Each file is judged on its own: a broken file keeps
// its last good version in force and its error is reported until it is fixed.

const machineEntrySchema = z.strictObject({
  mac: z.string().transform((v, ctx) => {
    try {
      return parseMac(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  }),
  name: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i, 'expected a host name such as a-coreos (letters, digits, -)')
    .optional(),
  profile: z
    .string()
    .regex(profileNamePattern, 'expected a profile name (the file name under profiles/ without .yaml)')
    .optional(),
  ip: ipv4.optional(),
  vars: z
    .record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a variable name of letters, digits and _'),
      z.union([z.string(), z.number(), z.boolean()]).transform(String),
    )
    .default({}),
});

export type MachineDeclaration = z.infer<typeof machineEntrySchema>;

const machinesFileSchema = z
  .array(machineEntrySchema)
  .nullable()
  .transform((list) => list ?? [])
  .superRefine((list, ctx) => {
    for (const field of ['mac', 'name', 'ip'] as const) {
      const seen = new Map<string, number>();
      list.forEach((m, i) => {
        const value = m[field];
        if (value === undefined) return;
        const first = seen.get(value);
        if (first !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [i, field],
            message: `${field} ${value} is already used by entry ${first}`,
          });
        else seen.set(value, i);
      });
    }
  });

export interface ConfigProblem {
  file: string;
  message: string;
}

export class Declarations {
  readonly configDir: string;
  private readonly profilesDir: string;
  private readonly machinesFile: string;
  private lastGoodProfiles = new Map<string, Profile>();
  private lastGoodMachines: MachineDeclaration[] = [];
  private problemsByFile = new Map<string, string>();
  private watchers: FSWatcher[] = [];
  private reloadTimer: NodeJS.Timeout | null = null;
  private listeners: Array<() => void> = [];
  /** Every write to a declarative file goes through here, one at a time (no lost updates). */
  private readonly writes = new SerialQueue();

  constructor(configDir: string) {
    this.configDir = configDir;
    this.profilesDir = path.join(configDir, 'profiles');
    this.machinesFile = path.join(configDir, 'machines.yaml');
  }

  get profiles(): ReadonlyMap<string, Profile> {
    return this.lastGoodProfiles;
  }

  get machines(): readonly MachineDeclaration[] {
    return this.lastGoodMachines;
  }

  get problems(): ConfigProblem[] {
    return [...this.problemsByFile].map(([file, message]) => ({ file, message }));
  }

  machine(mac: string): MachineDeclaration | undefined {
    return this.lastGoodMachines.find((m) => m.mac === mac);
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Reads every file again. Returns the problems found (also kept in `problems`). */
  reload(): ConfigProblem[] {
    const problems = new Map<string, string>();
    const profiles = new Map<string, Profile>();
    for (const file of this.profileFiles()) {
      const name = path.basename(file, path.extname(file));
      try {
        if (!profileNamePattern.test(name))
          throw new KindlingError(
            'PROFILE_INVALID',
            `${file}: a profile file name must be lower-case letters, digits, - or _ followed by .yaml`,
            { file },
          );
        profiles.set(name, parseProfile(name, parseYaml(readFileSync(file, 'utf8'), file), file));
      } catch (err) {
        problems.set(file, messageOf(err));
        const previous = this.lastGoodProfiles.get(name);
        if (previous) profiles.set(name, previous);
      }
    }
    this.lastGoodProfiles = profiles;

    if (existsSync(this.machinesFile)) {
      try {
        this.lastGoodMachines = validate(
          machinesFileSchema,
          parseYaml(readFileSync(this.machinesFile, 'utf8'), this.machinesFile) ?? [],
          this.machinesFile,
          'MACHINES_INVALID',
        );
      } catch (err) {
        problems.set(this.machinesFile, messageOf(err));
      }
    } else {
      this.lastGoodMachines = [];
    }
    for (const m of this.lastGoodMachines) {
      if (m.profile && !profiles.has(m.profile)) {
        problems.set(
          `${this.machinesFile}#${m.mac}`,
          `${this.machinesFile}: machine ${m.mac} names profile "${m.profile}", but there ` +
            `is no ${path.join(this.profilesDir, `${m.profile}.yaml`)}`,
        );
      }
    }
    this.problemsByFile = problems;
    for (const listener of this.listeners) listener();
    return this.problems;
  }

  /** Picks up edits by hand: a debounced reload on any change in the config directory. */
  watch(): void {
    mkdirSync(this.profilesDir, { recursive: true });
    const schedule = () => {
      if (this.reloadTimer) clearTimeout(this.reloadTimer);
      this.reloadTimer = setTimeout(() => {
        this.reloadTimer = null;
        this.reload();
      }, 150);
    };
    for (const dir of [this.configDir, this.profilesDir]) {
      const watcher = watch(dir, { persistent: false }, schedule);
      watcher.on('error', () => undefined); // a removed directory ends its watch; SIGHUP still reloads
      this.watchers.push(watcher);
    }
  }

  close(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
  }

  /**
   * Adds or changes a machine's entry in machines.yaml, keeping the file's comments
   * and order, and writes it atomically. The reload that follows makes it current.
   */
  async upsertMachine(entry: { mac: string; name?: string | undefined; profile?: string | undefined }): Promise<void> {
    await this.editMachinesFile((seq) => {
      const existing = seq.items.find((item) => isMap(item) && safeMac(String(item.get('mac'))) === entry.mac);
      if (isMap(existing)) {
        if (entry.name !== undefined) existing.set('name', entry.name);
        if (entry.profile !== undefined) existing.set('profile', entry.profile);
      } else {
        const fresh: Record<string, string> = { mac: entry.mac };
        if (entry.name !== undefined) fresh['name'] = entry.name;
        if (entry.profile !== undefined) fresh['profile'] = entry.profile;
        seq.add(fresh);
      }
    });
  }

  async removeMachine(mac: string): Promise<void> {
    await this.editMachinesFile((seq) => {
      seq.items = seq.items.filter((item) => !(isMap(item) && safeMac(String(item.get('mac'))) === mac));
    });
  }

  /**
   * Writes profiles/NAME.yaml (already validated) and reloads. Serialized with every
   * other declarative write, so a concurrent edit cannot be lost between read and write.
   */
  async writeProfile(name: string, text: string): Promise<{ file: string; created: boolean }> {
    return this.writes.run(async () => {
      const file = this.profileFile(name);
      const created = !existsSync(file);
      await writeFileAtomic(file, text.endsWith('\n') ? text : `${text}\n`, modeToKeep(file));
      this.reload();
      return { file, created };
    });
  }

  /** Removes profiles/NAME.yaml; `check` runs inside the write lock, right before, and may refuse. */
  async removeProfile(name: string, check: () => void): Promise<void> {
    await this.writes.run(async () => {
      const file = this.profileFile(name);
      if (!existsSync(file)) throw new KindlingError('PROFILE_UNKNOWN', `there is no profile "${name}"`);
      check();
      await rm(file);
      this.reload();
    });
  }

  profileFile(name: string): string {
    return path.join(this.profilesDir, `${name}.yaml`);
  }

  private editMachinesFile(edit: (seq: YAMLSeq) => void): Promise<void> {
    return this.writes.run(async () => {
      if (this.problemsByFile.has(this.machinesFile)) {
        throw new KindlingError(
          'MACHINES_INVALID',
          `${this.machinesFile} has an error; fix it by hand before changing machines ` +
            `here: ${this.problemsByFile.get(this.machinesFile)}`,
          { file: this.machinesFile },
        );
      }
      const text = existsSync(this.machinesFile) ? readFileSync(this.machinesFile, 'utf8') : '';
      const doc: Document = parseDocument(text);
      if (!isSeq(doc.contents)) doc.contents = doc.createNode([]) as YAMLSeq;
      const seq = doc.contents as YAMLSeq;
      seq.flow = false; // one entry per line, as people write it
      edit(seq);
      await writeFileAtomic(this.machinesFile, doc.toString(), modeToKeep(this.machinesFile));
      this.reload();
    });
  }

  private profileFiles(): string[] {
    if (!existsSync(this.profilesDir)) return [];
    return readdirSync(this.profilesDir)
      .filter((n) => (n.endsWith('.yaml') || n.endsWith('.yml')) && !n.startsWith('.'))
      .sort()
      .map((n) => path.join(this.profilesDir, n));
  }
}

function safeMac(text: string): string | null {
  try {
    return parseMac(text);
  } catch {
    return null;
  }
}

function messageOf(err: unknown): string {
  return isKindlingError(err) ? err.message : `unexpected error: ${(err as Error).message}`;
}

/** An admin's own file keeps its mode; one Kindling creates is owner-only (a profile can hold password hashes). */
function modeToKeep(file: string): number {
  try {
    return statSync(file).mode & 0o777;
  } catch {
    return 0o600;
  }
}
