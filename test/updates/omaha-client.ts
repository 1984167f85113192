import { updateEngineCheck, updateEngineEvent } from '../../src/updates/fixtures.test-data.js';
import { parseXml, type XmlElement } from '../../src/updates/xml.js';

// A stand-in for update_engine on an installed node: it posts the request bodies
// omaha_request_action.cc builds (src/updates/fixtures.test-data.ts) to update.conf's
// SERVER= and reads the answer the way ParseResponse does.

export interface Offer {
  version: string;
  url: string;
  size: number;
  /** Base64, as update_engine's OmahaHashCalculator compares it. */
  sha256: string;
}

export interface OmahaAnswer {
  status: number;
  body: string;
  appStatus: string | undefined;
  check: string | undefined;
  offer: Offer | null;
}

function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

export class OmahaClient {
  constructor(
    readonly server: string,
    readonly machineId: string,
    public version: string,
    readonly group = 'stable',
  ) {}

  private async post(body: string): Promise<OmahaAnswer> {
    const res = await fetch(this.server, { method: 'POST', headers: { 'content-type': 'text/xml' }, body });
    const text = await res.text();
    if (res.status !== 200)
      return { status: res.status, body: text, appStatus: undefined, check: undefined, offer: null };
    const app = child(parseXml(text), 'app');
    const check = child(app, 'updatecheck');
    let offer: Offer | null = null;
    if (check?.attrs['status'] === 'ok') {
      const manifest = child(check, 'manifest');
      const pkg = child(child(manifest, 'packages'), 'package');
      const action = child(child(manifest, 'actions'), 'action');
      const codebase = child(child(check, 'urls'), 'url')?.attrs['codebase'] ?? '';
      offer = {
        version: manifest?.attrs['version'] ?? '',
        url: (codebase.endsWith('/') ? codebase : `${codebase}/`) + (pkg?.attrs['name'] ?? ''),
        size: Number(pkg?.attrs['size']),
        sha256: action?.attrs['sha256'] ?? '',
      };
    }
    return { status: res.status, body: text, appStatus: app?.attrs['status'], check: check?.attrs['status'], offer };
  }

  check(previous?: string): Promise<OmahaAnswer> {
    return this.post(
      updateEngineCheck({
        version: this.version,
        track: this.group,
        machineId: this.machineId,
        ...(previous ? { previous } : {}),
      }),
    );
  }

  event(type: number, result: number, errorCode?: number): Promise<OmahaAnswer> {
    return this.post(
      updateEngineEvent({
        version: this.version,
        track: this.group,
        machineId: this.machineId,
        type,
        result,
        ...(errorCode === undefined ? {} : { errorCode }),
      }),
    );
  }
}
