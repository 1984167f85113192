import { describe, expect, it } from 'vitest';
import { isKindlingError } from '../errors.js';
import { nodeA } from './fixtures.test-data.js';
import { renderVariables, substitute, variablesUsed } from './variables.js';

describe('renderVariables', () => {
  it('has the machine facts and its machines.yaml vars', () => {
    const vars = renderVariables({ ...nodeA, vars: { rack: 'r1' } });
    expect(vars).toMatchObject({
      name: 'a-coreos',
      mac: '52:54:00:55:1c:ee',
      mac_hyphen: '52-54-00-55-1c-ee',
      ip: '10.77.0.11',
      server: 'http://10.77.0.1',
      rack: 'r1',
    });
    expect(vars.running_callback_url).toBe('http://10.77.0.1/callback/running?mac=52:54:00:55:1c:ee&token=tok-a-3f9c');
  });

  it('lets no machines.yaml var override a fact', () => {
    expect(renderVariables({ ...nodeA, vars: { mac: 'spoofed', name: 'x' } })).toMatchObject({
      mac: '52:54:00:55:1c:ee',
      name: 'a-coreos',
    });
  });

  it('leaves ip undefined when the address is not known', () => {
    expect(renderVariables({ ...nodeA, ip: null, vars: { ip: 'stale' } })).not.toHaveProperty('ip');
  });
});

describe('substitute', () => {
  const vars = { name: 'a-coreos', quote: 'say "hi"', nested: '{{name}}', dollar: '$1' };
  it.each([
    ['{{name}}.rack.local', 'a-coreos.rack.local'],
    ['{{ name }}', 'a-coreos'],
    ['{{\tname  }}', 'a-coreos'],
    ['{{nested}}', '{{name}}'], // never evaluated twice
    ['{{dollar}}', '$1'], // replacement patterns are not interpreted
    ['{{ a-b }} {{1x}} {name} {{}}', '{{ a-b }} {{1x}} {name} {{}}'], // not identifiers: left alone
    ['{{{name}}}', '{a-coreos}'],
    ['no variables', 'no variables'],
  ])('%s -> %s', (text, expected) => {
    expect(substitute(text, vars, 'test')).toBe(expected);
  });

  it('escapes each value when asked', () => {
    expect(substitute('"{{quote}}"', vars, 'test', (v) => JSON.stringify(v).slice(1, -1))).toBe('"say \\"hi\\""');
  });

  it('names the place, the variable and the defined ones when a variable is undefined', () => {
    try {
      substitute('x {{rack}} y', vars, 'profile web: template');
      expect.unreachable();
    } catch (err) {
      expect(isKindlingError(err, 'TEMPLATE_VARIABLE')).toBe(true);
      expect((err as Error).message).toBe(
        'profile web: template: variable {{rack}} is not defined; defined: dollar, name, nested, quote',
      );
    }
  });

  it('does not treat inherited properties as variables', () => {
    expect(() => substitute('{{constructor}} {{toString}}', {}, 'test')).toThrow(/constructor/);
  });

  it('hints at machines.yaml when the address is unknown', () => {
    expect(() => substitute('{{ip}}', renderVariables({ ...nodeA, ip: null }), 'profile p: files[0].contents')).toThrow(
      /{{ip}} is not defined \(the address is not known: give the machine an ip in machines.yaml\)/,
    );
  });

  it('lists the variables a text uses', () => {
    expect(variablesUsed('{{a}} {{ b }} {{a}}')).toEqual(['a', 'b']);
  });
});
