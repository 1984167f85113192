import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isKindlingError } from '../errors.js';
import { ignitionTemplate, nodeA, seedNodes, templateProfile } from './fixtures.test-data.js';
import { renderTargetConfig } from './install.js';
import { renderTemplate } from './template.js';
import { renderVariables } from './variables.js';

const nodeC = seedNodes[2] as typeof nodeA;
const tpl = (template: string, config: 'ignition' | 'ignition-v2' | 'cloud-config' = 'ignition', ctx = nodeC) =>
  renderTemplate({ name: 'web', config, template }, ctx);
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return isKindlingError(err) ? `${err.code}: ${err.message}` : String(err);
  }
  return 'no error';
};

describe('Ignition templates', () => {
  it('substitutes, validates and adds the running callback', () => {
    const ign = JSON.parse(renderTargetConfig(templateProfile, nodeC).body);
    expect(ign.storage.files[0].contents.source).toBe('data:,c-coreos');
    expect(ign.systemd.units[0].contents).toContain('ExecStart=/bin/echo c-coreos r1');
    expect(ign.systemd.units[1].name).toBe('kindling-running.service');
    expect(ign.systemd.units[1].contents).toContain('token=tok-c-77d0');
  });

  it('JSON-escapes substituted values inside strings', () => {
    const out = renderTemplate(
      {
        name: 'web',
        config: 'ignition',
        template: '{"ignition":{"version":"3.3.0"},"systemd":{"units":[{"name":"a.service","contents":"{{v}}"}]}}',
      },
      nodeC,
      { ...renderVariables(nodeC), v: 'say "hi"\n\\' },
    );
    expect(JSON.parse(out.body).systemd.units[0].contents).toBe('say "hi"\n\\');
  });

  it('does not add a second callback unit', () => {
    const own =
      '{"ignition":{"version":"3.3.0"},"systemd":{"units":[{"name":"kindling-running.service","enabled":false}]}}';
    expect(JSON.parse(tpl(own).body).systemd.units).toEqual([{ name: 'kindling-running.service', enabled: false }]);
  });

  it.each([
    ['not JSON', '{"ignition": {', /TEMPLATE_OUTPUT: profile web: template: the output is not JSON/],
    [
      'invalid Ignition',
      '{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"etc/x"}]}}',
      /TEMPLATE_OUTPUT: .*storage.files\[0\].path: expected an absolute path/,
    ],
    [
      'spec 2 under config: ignition',
      '{"ignition":{"version":"2.3.0"}}',
      /ignition.version is 2.3.0 but the profile says config: ignition/,
    ],
    [
      'an undefined variable',
      ignitionTemplate.replace('{{rack}}', '{{zone}}'),
      /TEMPLATE_VARIABLE: profile web: template: variable \{\{zone\}\} is not defined; defined: .*rack/,
    ],
    ['cloud-config under config: ignition', '#cloud-config\nhostname: x\n', /config: cloud-config/],
  ])('rejects %s', (_name, template, message) => {
    expect(code(() => tpl(template))).toMatch(message);
  });

  it('accepts spec 2.3.0 under config: ignition-v2', () => {
    expect(tpl('{"ignition":{"version":"2.3.0"}}', 'ignition-v2').format).toBe('ignition-v2');
  });
});

describe('cloud-config templates', () => {
  const template =
    '#cloud-config\n# etcd for {{name}}\nhostname: {{name}}\nwrite_files:\n  - path: /etc/ip\n    content: ' +
    '"$private_ipv4"\ncoreos:\n  units:\n    - name: etcd2.service\n      command: start\n';

  it('substitutes variables and $private_ipv4, keeps comments, adds the callback', () => {
    const body = tpl(template, 'cloud-config').body;
    expect(body.startsWith('#cloud-config\n# etcd for c-coreos\n')).toBe(true);
    const doc = parse(body);
    expect(doc.hostname).toBe('c-coreos');
    expect(doc.write_files[0].content).toBe('10.77.0.13');
    expect(doc.coreos.units.map((u: { name: string }) => u.name)).toEqual([
      'etcd2.service',
      'kindling-running.service',
    ]);
  });

  it('adds coreos.units when the template has none', () => {
    expect(parse(tpl('#cloud-config\nhostname: x\n', 'cloud-config').body).coreos.units[0].name).toBe(
      'kindling-running.service',
    );
  });

  it('serves a #! script as written', () => {
    expect(tpl('#!/bin/sh\ncurl -X POST {{running_callback_url}}\n', 'cloud-config').body).toBe(
      '#!/bin/sh\ncurl -X POST http://10.77.0.1/callback/running?mac=52:54:00:81:ac:aa&token=tok-c-77d0\n',
    );
  });

  it.each([
    [
      'no header',
      'hostname: x\n',
      /TEMPLATE_OUTPUT: profile web: template: the output must start with "#cloud-config"/,
    ],
    ['bad YAML', '#cloud-config\nhostname: [x\n', /TEMPLATE_OUTPUT: profile web: template: the output is not YAML/],
    ['not a mapping', '#cloud-config\n- a\n', /must be a YAML mapping/],
    ['units not a list', '#cloud-config\ncoreos:\n  units: 3\n', /coreos.units must be a list/],
    [
      'JSON under config: cloud-config',
      '{"ignition":{"version":"3.3.0"}}',
      /Ignition JSON but the profile says config: cloud-config/,
    ],
  ])('rejects %s', (_name, template, message) => {
    expect(code(() => tpl(template, 'cloud-config'))).toMatch(message);
  });
});

describe('cloud-config templates and untrusted values', () => {
  const template = '#cloud-config\nhostname: {{v}}\nwrite_files:\n  - path: /etc/rack\n    content: "rack {{v}}"\n';
  const withValue = (v: string) =>
    renderTemplate({ name: 'web', config: 'cloud-config', template }, nodeC, { ...renderVariables(nodeC), v });

  it.each(['r1', 'rack-7.lab', 'a_b/c=d,e+f', 'http://10.77.0.1:8080/x?y=1&z=2', ''])(
    'substitutes %j as written',
    (v) => {
      expect(parse(withValue(v).body).hostname ?? '').toBe(v);
    },
  );

  it.each([
    ['a line break that adds a key', 'x\nusers: [{name: evil}]'],
    ['a carriage return', 'x\rssh_authorized_keys: [k]'],
    ['a mapping indicator', 'x: y'],
    ['a comment', 'x #'],
    ['a quote that ends the string', 'x" evil: "y'],
    ['a flow collection', '[a, b]'],
    ['an anchor', '&a x'],
    ['a tag', '!!python/object x'],
    ['a leading dash', '- x'],
  ])('refuses %s, naming the value', (_name, v) => {
    expect(code(() => withValue(v))).toMatch(
      /^TEMPLATE_VARIABLE: profile web: template: the value .* cannot go into a cloud-config template/,
    );
  });

  it('leaves #! scripts as written', () => {
    const out = renderTemplate({ name: 'web', config: 'cloud-config', template: '#!/bin/sh\necho {{v}}\n' }, nodeC, {
      ...renderVariables(nodeC),
      v: 'a: b',
    });
    expect(out.body).toBe('#!/bin/sh\necho a: b\n');
  });
});
