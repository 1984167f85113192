import path from 'node:path';
import { z } from 'zod';
import {
  machineNamePattern,
  mirrorSourceSchema,
  type KindlingConfig,
  type MirrorSource,
  type UnknownMachineRule,
} from '../config/schema.js';
import { KindlingError } from '../errors.js';
import { sshAuthorizedKey } from '../render/node-description.js';
import { readJsonFile, SerialQueue, writeFileAtomic } from '../store/index.js';

// What the setup page's wizard decides, kept in DATADIR/state/settings.json (atomic
// writes). kindling.yaml gives the defaults; a value the page saved wins over it
// until it is cleared (docs/decisions.md, "Setup page"). Profiles are not here: the
// wizard writes the default profile as an ordinary profiles/NAME.yaml.

const unknownRuleSchema = z.union([
  z.literal('wait'),
  z.strictObject({
    profile: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'expected a profile name'),
    name: machineNamePattern,
  }),
]);

export const settingsSchema = z.strictObject({
  /** The wizard ran to its end; the page shows the dashboard from now on. */
  setupComplete: z.boolean().default(false),
  /** null: kindling.yaml's mirror.sources are in force. */
  mirrorSources: z.array(mirrorSourceSchema).min(1).nullable().default(null),
  /** The SSH keys the wizard put on the nodes' user, kept to prefill the page. */
  sshKeys: z.array(sshAuthorizedKey).max(64).default([]),
  /** The profile the wizard wrote (profiles/NAME.yaml). */
  defaultProfile: z.string().nullable().default(null),
  /** null: kindling.yaml's machines.unknown is in force. */
  unknownRule: unknownRuleSchema.nullable().default(null),
});

export type Settings = z.infer<typeof settingsSchema>;
export const settingsPatchSchema = settingsSchema.partial();
export type SettingsPatch = z.infer<typeof settingsPatchSchema>;

export class SettingsStore {
  readonly file: string;
  private value: Settings;
  private readonly config: KindlingConfig;
  private listeners: Array<(s: Settings) => void> = [];
  /** Each patch applies to the previous one's result: concurrent saves lose nothing. */
  private readonly writes = new SerialQueue();

  private constructor(file: string, value: Settings, config: KindlingConfig) {
    this.file = file;
    this.value = value;
    this.config = config;
  }

  static async open(options: { stateDir: string; config: KindlingConfig }): Promise<SettingsStore> {
    const file = path.join(options.stateDir, 'settings.json');
    const raw = await readJsonFile<unknown>(file, {});
    const parsed = settingsSchema.safeParse(raw);
    if (!parsed.success)
      throw new KindlingError(
        'STORE_CORRUPT',
        `${file}: ${parsed.error.issues.map((i) => `key "${i.path.join('.')}": ${i.message}`).join('; ')}; ` +
          `move it aside to start fresh`,
        { file },
      );
    return new SettingsStore(file, parsed.data, options.config);
  }

  get current(): Settings {
    return this.value;
  }

  /** The mirror sources in force: the page's choice, else kindling.yaml's (for the mirror service). */
  mirrorSources(): MirrorSource[] {
    return this.value.mirrorSources ?? this.config.mirror.sources;
  }

  /** The unknown-machine rule in force: the page's choice, else kindling.yaml's. */
  unknownRule(): UnknownMachineRule {
    return this.value.unknownRule ?? this.config.machines.unknown;
  }

  onChange(listener: (s: Settings) => void): void {
    this.listeners.push(listener);
  }

  /** Applies a validated patch and writes the document atomically before resolving. */
  update(patch: SettingsPatch): Promise<Settings> {
    return this.writes.run(async () => {
      const next = settingsSchema.parse({ ...this.value, ...patch });
      await writeFileAtomic(this.file, `${JSON.stringify(next, null, 2)}\n`, 0o600);
      this.value = next;
      for (const l of this.listeners) l(next);
      return next;
    });
  }
}
