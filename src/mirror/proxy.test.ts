import { describe, expect, it } from 'vitest';
import { proxyFor, resolveNetwork } from './proxy.js';

const via = (target: string, config: { proxy?: string | null }, env: NodeJS.ProcessEnv) =>
  proxyFor(new URL(target), resolveNetwork(config, env))?.display ?? 'direct';

describe('which proxy an upstream URL goes through', () => {
  it.each([
    ['https://stable.release.flatcar-linux.net/x', {}, {}, 'direct'],
    ['https://stable.release.flatcar-linux.net/x', { proxy: 'http://p:3128' }, {}, 'http://p:3128'],
    ['http://mirror.local/x', { proxy: 'p:3128' }, {}, 'http://p:3128'],
    ['https://builds.coreos.fedoraproject.org/x', {}, { HTTPS_PROXY: 'http://e:8080' }, 'http://e:8080'],
    ['http://builds.coreos.fedoraproject.org/x', {}, { HTTPS_PROXY: 'http://e:8080' }, 'direct'],
    ['http://a.example/x', {}, { HTTP_PROXY: 'http://h:80', http_proxy: 'http://lower:81' }, 'http://lower:81'],
    // As curl: a name matches itself and its subdomains, with or without the leading dot.
    ['https://a.example/x', { proxy: 'http://p:3128' }, { NO_PROXY: 'example' }, 'direct'],
    ['https://notexample/x', { proxy: 'http://p:3128' }, { NO_PROXY: 'example' }, 'http://p:3128'],
    ['https://a.example/x', { proxy: 'http://p:3128' }, { NO_PROXY: '.example' }, 'direct'],
    ['https://example/x', { proxy: 'http://p:3128' }, { NO_PROXY: 'example' }, 'direct'],
    ['https://a.example:8443/x', { proxy: 'http://p:3128' }, { NO_PROXY: 'a.example:443' }, 'http://p:3128'],
    ['https://a.example/x', { proxy: 'http://p:3128' }, { NO_PROXY: 'a.example:443' }, 'direct'],
    ['https://10.0.0.5/x', { proxy: 'http://p:3128' }, { no_proxy: 'localhost, 10.0.0.5' }, 'direct'],
    ['https://a.example/x', { proxy: 'http://p:3128' }, { NO_PROXY: '*' }, 'direct'],
  ])('%s with %j and %j: %s', (target, config, env, expected) => {
    expect(via(target, config, env as NodeJS.ProcessEnv)).toBe(expected);
  });

  it('sends credentials as Proxy-Authorization and never shows them', () => {
    const chosen = proxyFor(new URL('https://a.example/'), resolveNetwork({ proxy: 'http://ops:s%40cret@p:3128' }, {}));
    expect(chosen?.display).toBe('http://p:3128');
    expect(chosen?.auth).toEqual({ 'proxy-authorization': `Basic ${Buffer.from('ops:s@cret').toString('base64')}` });
  });

  it('refuses a proxy that is not http://, naming the key or variable', () => {
    expect(() => resolveNetwork({ proxy: 'socks5://p:1080' }, {})).toThrow(
      /mirror\.proxy: expected an http:\/\/ proxy/,
    );
    expect(() => resolveNetwork({}, { HTTPS_PROXY: 'http://[bad' })).toThrow(/HTTPS_PROXY: expected a proxy URL/);
    expect(() => resolveNetwork({ caFile: '/nonexistent/ca.pem' }, {})).toThrow(
      /mirror\.caFile: cannot read \/nonexistent\/ca\.pem \(ENOENT\)/,
    );
  });
});
