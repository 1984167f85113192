import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, parseDocument } from 'yaml';
import { KindlingError } from '../errors.js';
import { writeFileAtomic } from '../store/atomic-file.js';
import { parseConfig } from './load.js';
import type { KindlingConfig } from './schema.js';

// Changing kindling.yaml from the page: the operator's file is edited in place, as a
// YAML document, so every comment and key order they wrote stays; only the keys set
// change. The whole result is validated before it replaces the file (atomic write).

export interface ConfigChange {
  /** Key path such as ['dhcp', 'range', 'start']. */
  path: string[];
  value: unknown;
}

/**
 * Applies `changes` to `file` and returns the configuration it now holds; the file is unchanged when that would not
 * load.
 */
export async function writeConfigKeys(file: string, changes: readonly ConfigChange[]): Promise<KindlingConfig> {
  let text: string;
  let mode: number;
  try {
    text = await fs.readFile(file, 'utf8');
    mode = (await fs.stat(file)).mode & 0o777;
  } catch (err) {
    throw new KindlingError('CONFIG_READ', `${file}: cannot read the configuration file: ${(err as Error).message}`, {
      file,
    });
  }
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0)
    throw new KindlingError(
      'CONFIG_YAML',
      `${file}: YAML does not parse: ${doc.errors[0]!.message.split('\n')[0]}; ` +
        `fix it by hand before changing it from the page`,
      { file },
    );
  // An empty file or a bare scalar: start a mapping (setIn on a non-map would throw).
  if (!isMap(doc.contents)) doc.contents = doc.createNode({}) as unknown as typeof doc.contents;
  for (const change of changes) {
    const existing = doc.getIn(change.path, true);
    // A scalar keeps its node, and so the comment on its line.
    if (isScalar(existing) && (change.value === null || typeof change.value !== 'object'))
      existing.value = change.value;
    else doc.setIn(change.path, doc.createNode(change.value));
  }
  const next = parseConfig(doc.toJS(), file, path.dirname(path.resolve(file)));
  try {
    await writeFileAtomic(file, doc.toString(), mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (!['EACCES', 'EPERM', 'EROFS'].includes(code)) throw err;
    throw new KindlingError(
      'CONFIG_NOT_WRITABLE',
      `${file}: Kindling may not write its configuration file (${code}); expected ${path.dirname(file)} ` +
        `writable by the service (appliance: ReadWritePaths=${path.dirname(file)}, docs/appliance.md)`,
      { file },
    );
  }
  return next;
}
