import { KindlingError } from '../errors.js';
import { escapeAttr, parseXml, XmlSyntaxError, type XmlElement } from './xml.js';

// The Omaha v3 subset Flatcar's update_engine speaks and Nebraska answers. Pure: bytes
// in, typed values out, and back. Sources, by file (commits in docs/updates.md):
// - request: flatcar/update_engine src/update_engine/omaha_request_action.cc GetRequestXml
// - response parsing: the same file, ParseResponse/ParseStatus/ParseUrls/ParsePackage/ParseParams
// - response shape and status words: flatcar/go-omaha omaha/protocol.go, omaha/codes.go,
//   as flatcar/nebraska backend/pkg/omaha/omaha.go fills them in.

/** Flatcar's app id (update_engine omaha_request_params.cc kAppId). */
export const flatcarAppId = '{e96281a6-d1af-4bde-9a0a-97b76e56dc57}';

/** Event types update_engine sends (omaha_request_action.h OmahaEvent::Type). */
export const eventTypes = {
  unknown: 0,
  downloadComplete: 1,
  installComplete: 2,
  updateComplete: 3,
  downloadStarted: 13,
  downloadFinished: 14,
} as const;
/** Event results (OmahaEvent::Result). */
export const eventResults = { error: 0, success: 1, successReboot: 2, updateDeferred: 9 } as const;

export interface OmahaEvent {
  type: number;
  result: number;
  errorCode: number | null;
  previousVersion: string | null;
}

export interface OmahaAppRequest {
  appId: string;
  version: string;
  /** update.conf GROUP=, Nebraska's group track. */
  track: string;
  machineId: string;
  bootId: string;
  machineAlias: string;
  oem: string;
  /** FLATCAR_RELEASE_BOARD: amd64-usr or arm64-usr. */
  board: string;
  alephVersion: string;
  ping: boolean;
  updateCheck: boolean;
  events: OmahaEvent[];
}

export interface OmahaRequest {
  protocol: string;
  /** The client's own name and version, e.g. update_engine-0.4.10. */
  updater: string;
  installSource: string;
  os: { platform: string; version: string; sp: string; arch: string };
  apps: OmahaAppRequest[];
}

/** The payload an `ok` update check points at: update_engine appends `name` to `codebase`. */
export interface OmahaPackage {
  version: string;
  codebase: string;
  name: string;
  size: number;
  /** Hex, as the mirror's manifest keeps it; rendered base64, as update_engine compares it. */
  sha256: string;
}

export type OmahaUpdateCheck =
  { status: 'noupdate' } | { status: 'ok'; package: OmahaPackage } | { status: 'error-internal' };

export interface OmahaAppResponse {
  appId: string;
  /** `ok`, or Nebraska's error words: error-unknownApplication, error-unknownApplicationOrGroup. */
  status: string;
  ping: boolean;
  events: number;
  updateCheck: OmahaUpdateCheck | null;
}

export interface OmahaResponse {
  apps: OmahaAppResponse[];
}

/** Requests bigger than this are refused before parsing; update_engine's are under 2 KiB. */
export const maxRequestBytes = 64 * 1024;

function invalid(message: string, details: Record<string, unknown> = {}): KindlingError {
  return new KindlingError('OMAHA_REQUEST_INVALID', `Omaha request: ${message}`, details);
}

function attr(el: XmlElement, name: string): string {
  return el.attrs[name] ?? '';
}

function intAttr(el: XmlElement, name: string, where: string): number | null {
  const raw = el.attrs[name];
  if (raw === undefined || raw === '') return null;
  if (!/^-?\d{1,10}$/.test(raw))
    throw invalid(`${where} ${name}="${raw.slice(0, 40)}": expected an integer`, { attribute: name });
  return Number(raw);
}

function parseEvent(el: XmlElement, index: number): OmahaEvent {
  const where = `<event> ${index + 1}`;
  const type = intAttr(el, 'eventtype', where);
  const result = intAttr(el, 'eventresult', where);
  if (type === null || result === null)
    throw invalid(`${where}: expected eventtype and eventresult attributes`, { element: 'event' });
  return {
    type,
    result,
    errorCode: intAttr(el, 'errorcode', where),
    previousVersion: el.attrs['previousversion'] ?? null,
  };
}

function parseApp(el: XmlElement, index: number): OmahaAppRequest {
  const appId = attr(el, 'appid');
  if (!appId) throw invalid(`<app> ${index + 1}: expected an appid attribute`, { element: 'app' });
  const children = (name: string) => el.children.filter((c) => c.name === name);
  return {
    appId,
    version: attr(el, 'version'),
    track: attr(el, 'track'),
    machineId: attr(el, 'machineid'),
    bootId: attr(el, 'bootid'),
    machineAlias: attr(el, 'machinealias'),
    oem: attr(el, 'oem'),
    board: attr(el, 'board'),
    alephVersion: attr(el, 'alephversion'),
    ping: children('ping').length > 0,
    updateCheck: children('updatecheck').length > 0,
    events: children('event').map(parseEvent),
  };
}

/** Parses a request body; anything that is not an Omaha v3 request is OMAHA_REQUEST_INVALID. */
export function parseOmahaRequest(body: string): OmahaRequest {
  if (Buffer.byteLength(body) > maxRequestBytes) throw invalid(`body is larger than ${maxRequestBytes} bytes`);
  let root: XmlElement;
  try {
    root = parseXml(body);
  } catch (err) {
    if (err instanceof XmlSyntaxError) throw invalid(`not well-formed XML: ${err.message}`, { offset: err.offset });
    throw err;
  }
  if (root.name !== 'request') throw invalid(`root element <${root.name}>; expected <request>`, { element: root.name });
  const protocol = attr(root, 'protocol');
  if (protocol !== '3.0')
    throw invalid(`protocol="${protocol.slice(0, 20)}"; expected protocol="3.0"`, { attribute: 'protocol' });
  const os = root.children.find((c) => c.name === 'os');
  const apps = root.children.filter((c) => c.name === 'app').map(parseApp);
  if (apps.length === 0) throw invalid('no <app> element', { element: 'app' });
  return {
    protocol,
    updater: attr(root, 'version'),
    installSource: attr(root, 'installsource'),
    os: {
      platform: os ? attr(os, 'platform') : '',
      version: os ? attr(os, 'version') : '',
      sp: os ? attr(os, 'sp') : '',
      arch: os ? attr(os, 'arch') : '',
    },
    apps,
  };
}

/** update_engine compares the payload's base64 sha256 (OmahaHashCalculator::Finalize) with this. */
export function hexToBase64(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}

function renderUpdateCheck(check: OmahaUpdateCheck): string {
  if (check.status !== 'ok') return `<updatecheck status="${check.status}"></updatecheck>`;
  const p = check.package;
  const sha = hexToBase64(p.sha256);
  const codebase = p.codebase.endsWith('/') ? p.codebase : `${p.codebase}/`;
  return (
    `<updatecheck status="ok"><urls><url codebase="${escapeAttr(codebase)}"></url></urls>` +
    `<manifest version="${escapeAttr(p.version)}">` +
    `<packages><package name="${escapeAttr(p.name)}" hash_sha256="${sha}" ` +
    `size="${p.size}" required="true"></package></packages>` +
    `<actions><action event="postinstall" sha256="${sha}" DisablePayloadBackoff="true"></action></actions>` +
    `</manifest></updatecheck>`
  );
}

/** Renders the answer as Nebraska's go-omaha encoder lays it out, on one line. */
export function renderOmahaResponse(response: OmahaResponse): string {
  let out =
    '<?xml version="1.0" encoding="UTF-8"?>\n<response protocol="3.0" ' +
    'server="kindling"><daystart elapsed_seconds="0"></daystart>';
  for (const app of response.apps) {
    out += `<app appid="${escapeAttr(app.appId)}" status="${escapeAttr(app.status)}">`;
    if (app.ping) out += '<ping status="ok"></ping>';
    if (app.updateCheck) out += renderUpdateCheck(app.updateCheck);
    for (let i = 0; i < app.events; i++) out += '<event status="ok"></event>';
    out += '</app>';
  }
  return `${out}</response>\n`;
}
