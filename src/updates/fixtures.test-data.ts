// Omaha request and response bodies, copied or rendered from the sources that define
// the protocol Flatcar speaks. Regenerate by reading the same files at newer commits.
//
// - flatcar/update_engine @ 73826410218996e32ffbb7d092ef47be3afaa078
//   src/update_engine/omaha_request_action.cc: GetRequestXml/GetAppXml/GetAppBody (the
//   request a node sends), GetUpdateResponse2 in omaha_request_action_unittest.cc (a
//   response it accepts), omaha_request_params.cc (kAppId, GROUP=, SERVER=).
// - flatcar/go-omaha @ 3f8ee033a453172992edb450227d7fd2cabaa9f4
//   fixtures/update-engine/{update,no-update}/{request,response}.xml, captured from
//   update_engine; omaha/protocol.go for the response's element and attribute names.
// - flatcar/nebraska @ 30a488d8d3008b2f01d299e31431080791001a33
//   backend/test/api/big_omaha_request.xml (one <app> of it, %s filled in) and
//   backend/pkg/omaha/omaha.go (which elements an answer carries, status words).

export const sources = {
  updateEngine: { repo: 'flatcar/update_engine', commit: '73826410218996e32ffbb7d092ef47be3afaa078' },
  goOmaha: { repo: 'flatcar/go-omaha', commit: '3f8ee033a453172992edb450227d7fd2cabaa9f4' },
  nebraska: { repo: 'flatcar/nebraska', commit: '30a488d8d3008b2f01d299e31431080791001a33' },
} as const;

export interface RequestFixture {
  name: string;
  body: string;
  expect: {
    appId: string;
    version: string;
    track: string;
    machineId: string;
    board: string;
    ping: boolean;
    updateCheck: boolean;
    events: Array<{ type: number; result: number; errorCode: number | null; previousVersion: string | null }>;
  };
}

/** What GetRequestXml renders on a Flatcar node for a scheduled update check (event == NULL, not ping-only). */
export function updateEngineCheck(options: {
  version: string;
  track: string;
  machineId: string;
  previous?: string;
  board?: string;
}): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<request protocol="3.0" version="update_engine-0.4.10" ' +
    'updaterversion="update_engine-0.4.10" installsource="scheduler" ismachine="1">\n' +
    `    <os version="Chateau" platform="CoreOS" sp="${options.version}_x86_64"></os>\n` +
    `    <app appid="{e96281a6-d1af-4bde-9a0a-97b76e56dc57}" version="${options.version}" ` +
    `track="${options.track}" bootid="{3c9c0e11-6c37-4e47-9f60-6d06b421286d}" oem="qemu" oemversion="" ` +
    `alephversion="${options.version}" machineid="${options.machineId}" machinealias="" lang="en-US" ` +
    `board="${options.board ?? 'amd64-usr'}" hardware_class="" delta_okay="false" >\n` +
    '        <ping active="1"></ping>\n' +
    '        <updatecheck></updatecheck>\n' +
    `        <event eventtype="3" eventresult="2" previousversion="${options.previous ?? '0.0.0.0'}"></event>\n` +
    '    </app>\n' +
    '</request>\n'
  );
}

/** What GetRequestXml renders for an event report (event != NULL): the app body is the event alone. */
export function updateEngineEvent(options: {
  version: string;
  track: string;
  machineId: string;
  type: number;
  result: number;
  errorCode?: number;
}): string {
  const errorCode = options.result === 1 ? '' : ` errorcode="${options.errorCode ?? 0}"`;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<request protocol="3.0" version="update_engine-0.4.10" ' +
    'updaterversion="update_engine-0.4.10" installsource="scheduler" ismachine="1">\n' +
    `    <os version="Chateau" platform="CoreOS" sp="${options.version}_x86_64"></os>\n` +
    `    <app appid="{e96281a6-d1af-4bde-9a0a-97b76e56dc57}" version="${options.version}" ` +
    `track="${options.track}" bootid="{3c9c0e11-6c37-4e47-9f60-6d06b421286d}" oem="qemu" ` +
    `oemversion="" alephversion="${options.version}" machineid="${options.machineId}" machinealias="" ` +
    `lang="en-US" board="amd64-usr" hardware_class="" delta_okay="false" >\n` +
    `        <event eventtype="${options.type}" eventresult="${options.result}"${errorCode}></event>\n` +
    '    </app>\n' +
    '</request>\n'
  );
}

export const requestFixtures: RequestFixture[] = [
  {
    name: 'update_engine scheduled check (omaha_request_action.cc GetRequestXml)',
    body: updateEngineCheck({ version: '3815.2.0', track: 'stable', machineId: '0f3a7c5e2b8d4e6f9a1b2c3d4e5f6a7b' }),
    expect: {
      appId: '{e96281a6-d1af-4bde-9a0a-97b76e56dc57}',
      version: '3815.2.0',
      track: 'stable',
      machineId: '0f3a7c5e2b8d4e6f9a1b2c3d4e5f6a7b',
      board: 'amd64-usr',
      ping: true,
      updateCheck: true,
      events: [{ type: 3, result: 2, errorCode: null, previousVersion: '0.0.0.0' }],
    },
  },
  {
    name: 'update_engine download-started event (GetAppBody, event branch)',
    body: updateEngineEvent({ version: '3815.2.0', track: 'beta', machineId: 'aa', type: 13, result: 1 }),
    expect: {
      appId: '{e96281a6-d1af-4bde-9a0a-97b76e56dc57}',
      version: '3815.2.0',
      track: 'beta',
      machineId: 'aa',
      board: 'amd64-usr',
      ping: false,
      updateCheck: false,
      events: [{ type: 13, result: 1, errorCode: null, previousVersion: null }],
    },
  },
  {
    name: 'update_engine error event with errorcode',
    body: updateEngineEvent({
      version: '3815.2.0',
      track: 'stable',
      machineId: 'bb',
      type: 3,
      result: 0,
      errorCode: 2000,
    }),
    expect: {
      appId: '{e96281a6-d1af-4bde-9a0a-97b76e56dc57}',
      version: '3815.2.0',
      track: 'stable',
      machineId: 'bb',
      board: 'amd64-usr',
      ping: false,
      updateCheck: false,
      events: [{ type: 3, result: 0, errorCode: 2000, previousVersion: null }],
    },
  },
  {
    name: 'go-omaha fixtures/update-engine/update/request.xml (verbatim)',
    body:
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<request protocol="3.0" version="ChromeOSUpdateEngine-0.1.0.0" ' +
      'updaterversion="ChromeOSUpdateEngine-0.1.0.0" installsource="ondemandupdate" ' +
      'ismachine="1">\n' +
      '<os version="Indy" platform="Chrome OS" sp="ForcedUpdate_x86_64"></os>\n' +
      '<app appid="{87efface-864d-49a5-9bb3-4b050a7c227a}" ' +
      'bootid="{7D52A1CC-7066-40F0-91C7-7CB6A871BFDE}" machinealias="mymachine" ' +
      'machineid="{8BDE4C4D-9083-4D61-B41C-3253212C0C37}" oem="ec3000" version="ForcedUpdate" ' +
      'track="dev-channel" from_track="developer-build" lang="en-US" board="amd64-generic" ' +
      'hardware_class="" delta_okay="false" >\n' +
      '<ping active="1" a="-1" r="-1"></ping>\n' +
      '<updatecheck targetversionprefix=""></updatecheck>\n' +
      '<event eventtype="3" eventresult="2" previousversion=""></event>\n' +
      '</app>\n' +
      '</request>\n',
    expect: {
      appId: '{87efface-864d-49a5-9bb3-4b050a7c227a}',
      version: 'ForcedUpdate',
      track: 'dev-channel',
      machineId: '{8BDE4C4D-9083-4D61-B41C-3253212C0C37}',
      board: 'amd64-generic',
      ping: true,
      updateCheck: true,
      events: [{ type: 3, result: 2, errorCode: null, previousVersion: '' }],
    },
  },
  {
    name: 'go-omaha fixtures/update-engine/no-update/request.xml (verbatim)',
    body:
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<request protocol="3.0" version="ChromeOSUpdateEngine-0.1.0.0" ' +
      'updaterversion="ChromeOSUpdateEngine-0.1.0.0" installsource="ondemandupdate" ' +
      'ismachine="1">\n' +
      '<os version="Indy" platform="Chrome OS" sp="ForcedUpdate_x86_64"></os>\n' +
      '<app appid="{87efface-864d-49a5-9bb3-4b050a7c227a}" version="ForcedUpdate" track="" ' +
      'from_track="developer-build" lang="en-US" board="amd64-generic" hardware_class="" delta_okay="false" ' +
      '>\n' +
      '<event eventtype="3" eventresult="1"></event>\n' +
      '</app>\n' +
      '</request>\n',
    expect: {
      appId: '{87efface-864d-49a5-9bb3-4b050a7c227a}',
      version: 'ForcedUpdate',
      track: '',
      machineId: '',
      board: 'amd64-generic',
      ping: false,
      updateCheck: false,
      events: [{ type: 3, result: 1, errorCode: null, previousVersion: null }],
    },
  },
  {
    name: 'nebraska backend/test/api/big_omaha_request.xml (first app)',
    body:
      '<request protocol="3.0" installsource="scheduler">\n' +
      '    <os platform="CoreOS" version="lsb"></os>\n' +
      '    <app appid="{e96281a6-d1af-4bde-9a0a-97b76e56dc57}" version="0.0.0" track="stable" ' +
      'bootid="3c9c0e11-6c37-4e47-9f60-6d06b421286d" machineid="m-1" oem="fakeclient">\n' +
      '     <ping r="1" status="1"></ping>\n' +
      '     <updatecheck></updatecheck>\n' +
      '     <event eventtype="3" eventresult="1"></event>\n' +
      '    </app>\n' +
      '</request>\n',
    expect: {
      appId: '{e96281a6-d1af-4bde-9a0a-97b76e56dc57}',
      version: '0.0.0',
      track: 'stable',
      machineId: 'm-1',
      board: '',
      ping: true,
      updateCheck: true,
      events: [{ type: 3, result: 1, errorCode: null, previousVersion: null }],
    },
  },
];

/** go-omaha fixtures/update-engine/update/response.xml, verbatim: a response update_engine accepted. */
export const goOmahaUpdateResponse =
  '<?xml version="1.0" encoding="UTF-8"?>\n<response protocol="3.0">\n<daystart elapsed_seconds="49008"/>\n' +
  '<app appid="{87efface-864d-49a5-9bb3-4b050a7c227a}" status="ok">\n<ping ' +
  'status="ok"/>\n<updatecheck status="ok">\n<urls>\n' +
  '<url codebase="http://kam:8080/static/"/>\n</urls>\n<manifest version="9999.0.0">\n<packages>\n' +
  '<package hash="+LXvjiaPkeYDLHoNKlf9qbJwvnk=" name="update.gz" ' +
  'size="67546213"\nrequired="true"/>\n</packages>\n<actions>\n' +
  '<action event="postinstall"\nChromeOSVersion="9999.0.0"\n' +
  'sha256="0VAlQW3RE99SGtSB5R4m08antAHO8XDoBMKDyxQT/Mg="\nneedsadmin="false"\nIsDelta="True"\n/>\n' +
  '</actions>\n</manifest>\n</updatecheck>\n</app>\n</response>\n';

/** Bodies that must be refused with OMAHA_REQUEST_INVALID, never a crash or a 500. */
export const malformedRequests: Array<[string, string]> = [
  ['empty', ''],
  ['not XML', 'hello'],
  ['JSON', '{"request":{}}'],
  ['unclosed root', '<request protocol="3.0"><app appid="x">'],
  ['mismatched close', '<request protocol="3.0"><app appid="x"></request></app>'],
  ['wrong root', '<response protocol="3.0"><app appid="x"/></response>'],
  ['protocol 2.0', '<request protocol="2.0"><app appid="x"/></request>'],
  ['no app', '<request protocol="3.0"><os platform="CoreOS"/></request>'],
  ['app without appid', '<request protocol="3.0"><app version="1"/></request>'],
  [
    'DOCTYPE (entity expansion)',
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><request protocol="3.0"><app appid="&a;"/></request>',
  ],
  ['unknown entity', '<request protocol="3.0"><app appid="&a;"/></request>'],
  ['bare ampersand', '<request protocol="3.0"><app appid="a & b"/></request>'],
  ['unquoted attribute', '<request protocol=3.0><app appid="x"/></request>'],
  ['duplicate attribute', '<request protocol="3.0" protocol="3.0"><app appid="x"/></request>'],
  ['event without result', '<request protocol="3.0"><app appid="x"><event eventtype="3"/></app></request>'],
  [
    'event type not a number',
    '<request protocol="3.0"><app appid="x"><event eventtype="three" eventresult="1"/></app></request>',
  ],
  ['text content', '<request protocol="3.0">text<app appid="x"/></request>'],
  ['trailing content', '<request protocol="3.0"><app appid="x"/></request><request/>'],
  ['CDATA', '<request protocol="3.0"><![CDATA[x]]><app appid="x"/></request>'],
  ['UTF-16 declared', '<?xml version="1.0" encoding="UTF-16"?><request protocol="3.0"><app appid="x"/></request>'],
  ['deep nesting', `<request protocol="3.0">${'<a>'.repeat(40)}${'</a>'.repeat(40)}<app appid="x"/></request>`],
  ['unterminated comment', '<request protocol="3.0"><!-- <app appid="x"/></request>'],
];
