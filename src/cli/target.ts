import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { KindlingClient } from '../api-client/index.js';
import { applianceConfigPath, loadConfig, parseYaml, type KindlingConfig } from '../config/index.js';

/** The config file to use: --config, else the appliance's file if present, else the embedded defaults. */
export function configFileFrom(flag: string | undefined): string | null {
  if (flag) return flag;
  return existsSync(applianceConfigPath) ? applianceConfigPath : null;
}

/** The running service a command talks to, and how the command found it (for messages). */
export interface ServiceTarget {
  config: KindlingConfig;
  url: string;
  /** Which file and keys gave the URL, e.g. "from /etc/kindling/kindling.yaml http.port". */
  where: string;
  /** The config file the URL came from; null on the embedded defaults (a checkout, not the appliance). */
  configFile: string | null;
  tokenFile: string;
  /** Why the admin token could not be read; null when it was. */
  tokenProblem: string | null;
  client: KindlingClient;
}

/** A wildcard listen address is reached on loopback; an IPv6 literal needs brackets in a URL. */
function hostOf(listen: string): string {
  if (listen === '0.0.0.0') return '127.0.0.1';
  if (listen === '::') return '[::1]';
  return listen.includes(':') ? `[${listen}]` : listen;
}

/** Which of http.listen and http.port the file sets; the rest are defaults. */
function describeWhere(file: string | null, flag: string | undefined): string {
  if (file === null) return `the checkout defaults: there is no ${applianceConfigPath} and no --config`;
  let http: Record<string, unknown> = {};
  try {
    const data = parseYaml(readFileSync(file, 'utf8'), file) as { http?: Record<string, unknown> } | null;
    http = data?.http ?? {};
  } catch {
    // loadConfig read it a moment ago; if it is gone now, say the file without keys.
  }
  const set = ['listen', 'port'].filter((k) => k in http).map((k) => `http.${k}`);
  const unset = ['listen', 'port'].filter((k) => !(k in http)).map((k) => `http.${k}`);
  const source = flag ? `--config ${file}` : file;
  if (set.length === 0) return `defaults: ${source} sets neither http.listen nor http.port`;
  return `from ${source} ${set.join(' and ')}${unset.length ? `; ${unset.join(', ')} default` : ''}`;
}

function readToken(file: string): { token: string | null; problem: string | null } {
  try {
    return { token: readFileSync(file, 'utf8').trim(), problem: null };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      return {
        token: null,
        problem: `there is no admin token at ${file}: has the service run with this data directory?`,
      };
    if (code === 'EACCES')
      return {
        token: null,
        problem:
          `the admin token ${file} is not readable by this user: run as root ` +
          `or the kindling user (sudo kindling ...)`,
      };
    return { token: null, problem: `the admin token ${file} cannot be read: ${(err as Error).message}` };
  }
}

/** Loads the configuration and makes a client for the service it describes. */
export function serviceTarget(configFlag: string | undefined, timeoutSeconds: number): ServiceTarget {
  const { config, file } = loadConfig(configFileFrom(configFlag));
  const url = `http://${hostOf(config.http.listen)}:${config.http.port}`;
  const tokenFile = path.join(config.dataDir, 'state', 'admin-token');
  const { token, problem } = readToken(tokenFile);
  const client = new KindlingClient({
    baseUrl: url,
    headers: (): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {}),
    timeoutMs: timeoutSeconds * 1000,
  });
  return {
    config,
    url,
    where: describeWhere(file, configFlag),
    configFile: file,
    tokenFile,
    tokenProblem: problem,
    client,
  };
}
