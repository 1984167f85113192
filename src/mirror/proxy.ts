import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { KindlingError } from '../errors.js';

/** How the mirror reaches upstream: resolved once from mirror.proxy, mirror.caFile and the environment. */
export interface UpstreamNetwork {
  /** mirror.proxy; when null the environment's HTTPS_PROXY / HTTP_PROXY apply. */
  proxy: URL | null;
  httpsProxy: URL | null;
  httpProxy: URL | null;
  /** NO_PROXY entries: host names (a leading dot or none matches subdomains too), `*`, or host:port. */
  noProxy: string[];
  /** The system CAs plus mirror.caFile's, or null for the system CAs alone. */
  ca: string[] | null;
  caFile: string | null;
}

export interface ChosenProxy {
  url: URL;
  /** The proxy without its credentials, for messages and logs. */
  display: string;
  auth: Record<string, string>;
}

function parseProxy(value: string | undefined | null, where: string): URL | null {
  if (!value) return null;
  let url: URL;
  try {
    // curl and most tools accept "host:3128" without a scheme.
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    throw new KindlingError(
      'CONFIG_INVALID',
      `${where}: expected a proxy URL such as http://proxy.example:3128, found ${JSON.stringify(value)}`,
      { key: where },
    );
  }
  if (url.protocol !== 'http:') {
    throw new KindlingError(
      'CONFIG_INVALID',
      `${where}: expected an http:// proxy (https reaches upstream through CONNECT on it), found ${url.protocol}//`,
      { key: where },
    );
  }
  return url;
}

/** Reads the proxy settings; a bad value is a CONFIG_INVALID naming the key or variable. */
export function resolveNetwork(
  config: { proxy?: string | null; caFile?: string | null },
  env: NodeJS.ProcessEnv = process.env,
): UpstreamNetwork {
  const pick = (upper: string): [string | undefined, string] =>
    env[upper.toLowerCase()] ? [env[upper.toLowerCase()], upper.toLowerCase()] : [env[upper], upper];
  const [https, httpsName] = pick('HTTPS_PROXY');
  const [http, httpName] = pick('HTTP_PROXY');
  const [noProxy] = pick('NO_PROXY');
  let ca: string[] | null = null;
  if (config.caFile) {
    let text: string;
    try {
      text = readFileSync(config.caFile, 'utf8');
    } catch (err) {
      throw new KindlingError(
        'CONFIG_READ',
        `mirror.caFile: cannot read ${config.caFile} ` +
          `(${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); expected a ` +
          `PEM CA bundle`,
        { key: 'mirror.caFile', file: config.caFile },
      );
    }
    if (!text.includes('-----BEGIN CERTIFICATE-----')) {
      throw new KindlingError(
        'CONFIG_INVALID',
        `mirror.caFile: ${config.caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
        { key: 'mirror.caFile', file: config.caFile },
      );
    }
    // Added to the system CAs: upstream hosts the proxy does not intercept still verify.
    ca = [...tls.rootCertificates, text];
  }
  return {
    proxy: parseProxy(config.proxy, 'mirror.proxy'),
    httpsProxy: parseProxy(https, httpsName),
    httpProxy: parseProxy(http, httpName),
    noProxy: (noProxy ?? '')
      .split(',')
      .map((e) => e.trim().toLowerCase())
      .filter(Boolean),
    ca,
    caFile: config.caFile ?? null,
  };
}

function bypassed(target: URL, noProxy: string[]): boolean {
  const host = target.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  return noProxy.some((entry) => {
    if (entry === '*') return true;
    const [name, entryPort] = entry.replace(/^\*?\./, '.').split(/:(?=\d+$)/) as [string, string | undefined];
    if (entryPort && entryPort !== port) return false;
    const bare = name.replace(/^\./, '');
    return host === bare || host.endsWith(`.${bare}`);
  });
}

/** The proxy to use for `target`, or null to go direct. */
export function proxyFor(target: URL, network: UpstreamNetwork): ChosenProxy | null {
  const url = network.proxy ?? (target.protocol === 'https:' ? network.httpsProxy : network.httpProxy);
  if (!url || bypassed(target, network.noProxy)) return null;
  const credentials = () => `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  const auth: Record<string, string> = url.username
    ? { 'proxy-authorization': `Basic ${Buffer.from(credentials()).toString('base64')}` }
    : {};
  return { url, display: `${url.protocol}//${url.host}`, auth };
}
