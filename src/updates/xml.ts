// A strict parser for the small XML subset Omaha clients send (update_engine's
// omaha_request_action.cc GetRequestXml): an optional declaration, comments, elements
// with quoted attributes, whitespace between them. There is no XML library in the
// dependencies (docs/decisions.md, "Omaha XML"), and this subset needs none: DOCTYPE,
// CDATA and processing instructions are refused, so no entity expansion can happen.

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
}

/** Where and why a document was refused; omaha.ts turns it into OMAHA_REQUEST_INVALID. */
export class XmlSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
    this.name = 'XmlSyntaxError';
  }
}

export interface XmlLimits {
  maxDepth: number;
  maxElements: number;
  maxAttributes: number;
}

/** update_engine sends depth 3 and a handful of elements; these bounds leave room and stop abuse. */
export const defaultXmlLimits: XmlLimits = { maxDepth: 16, maxElements: 2_000, maxAttributes: 64 };

const nameStart = /[A-Za-z_:]/;
const nameChar = /[A-Za-z0-9_:.-]/;
const entities: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function parseXml(text: string, limits: XmlLimits = defaultXmlLimits): XmlElement {
  let pos = 0;
  let elements = 0;
  const fail = (message: string, at = pos): never => {
    throw new XmlSyntaxError(message, at);
  };

  const skipSpace = (): void => {
    while (pos < text.length && ' \t\r\n'.includes(text[pos] as string)) pos++;
  };
  const skipMisc = (): void => {
    for (;;) {
      skipSpace();
      if (text.startsWith('<!--', pos)) {
        const end = text.indexOf('-->', pos + 4);
        if (end < 0) fail('unterminated comment');
        pos = end + 3;
      } else return;
    }
  };
  const readName = (): string => {
    const start = pos;
    if (!nameStart.test(text[pos] ?? '')) fail('expected a name');
    pos++;
    while (pos < text.length && nameChar.test(text[pos] as string)) pos++;
    return text.slice(start, pos);
  };
  const decode = (raw: string, at: number): string => {
    if (raw.includes('<')) fail("'<' inside an attribute value", at);
    return raw.replace(/&([^;&\s]{0,10});?/g, (whole, ref: string) => {
      if (!whole.endsWith(';')) fail(`bare '&' (write &amp;)`, at);
      if (ref.startsWith('#')) {
        const code = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
        const valid =
          Number.isInteger(code) &&
          (code === 0x9 ||
            code === 0xa ||
            code === 0xd ||
            (code >= 0x20 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff)));
        if (!/^#(x[0-9A-Fa-f]{1,6}|[0-9]{1,7})$/.test(ref) || !valid) fail(`bad character reference &${ref};`, at);
        return String.fromCodePoint(code);
      }
      const value = entities[ref];
      if (value === undefined) fail(`unknown entity &${ref};`, at);
      return value as string;
    });
  };

  const element = (depth: number): XmlElement => {
    if (depth > limits.maxDepth) fail(`elements nested deeper than ${limits.maxDepth}`);
    if (++elements > limits.maxElements) fail(`more than ${limits.maxElements} elements`);
    if (text[pos] !== '<') fail("expected '<'");
    pos++;
    const name = readName();
    const attrs: Record<string, string> = Object.create(null) as Record<string, string>;
    let count = 0;
    for (;;) {
      const before = pos;
      skipSpace();
      if (text.startsWith('/>', pos)) {
        pos += 2;
        return { name, attrs, children: [] };
      }
      if (text[pos] === '>') {
        pos++;
        break;
      }
      if (pos === before) fail(`expected whitespace, '>' or '/>' in <${name}>`);
      const attrAt = pos;
      const attr = readName();
      skipSpace();
      if (text[pos] !== '=') fail(`expected '=' after attribute ${attr}`);
      pos++;
      skipSpace();
      const quote = text[pos];
      if (quote !== '"' && quote !== "'") fail(`expected a quoted value for attribute ${attr}`);
      const end = text.indexOf(quote as string, pos + 1);
      if (end < 0) fail(`unterminated value of attribute ${attr}`);
      if (attr in attrs) fail(`attribute ${attr} given twice`, attrAt);
      if (++count > limits.maxAttributes) fail(`more than ${limits.maxAttributes} attributes on <${name}>`);
      attrs[attr] = decode(text.slice(pos + 1, end), pos + 1);
      pos = end + 1;
    }
    const children: XmlElement[] = [];
    for (;;) {
      const textStart = pos;
      while (pos < text.length && text[pos] !== '<') pos++;
      // Omaha carries everything in attributes; character data is only whitespace, refused otherwise.
      if (text.slice(textStart, pos).trim() !== '') fail(`unexpected text inside <${name}>`, textStart);
      if (pos >= text.length) fail(`<${name}> is never closed`);
      if (text.startsWith('<!--', pos)) {
        skipMisc();
        continue;
      }
      if (text.startsWith('</', pos)) {
        pos += 2;
        const closing = readName();
        if (closing !== name) fail(`</${closing}> closes <${name}>`);
        skipSpace();
        if (text[pos] !== '>') fail(`expected '>' after </${closing}`);
        pos++;
        return { name, attrs, children };
      }
      if (text.startsWith('<!', pos) || text.startsWith('<?', pos))
        fail('DOCTYPE, CDATA and processing instructions are not accepted');
      children.push(element(depth + 1));
    }
  };

  if (text.charCodeAt(0) === 0xfeff) pos = 1;
  if (text.startsWith('<?xml', pos)) {
    const end = text.indexOf('?>', pos);
    if (end < 0) fail('unterminated XML declaration');
    const decl = text.slice(pos, end);
    const encoding = /encoding\s*=\s*["']([^"']*)["']/.exec(decl)?.[1];
    if (encoding && !/^utf-?8$/i.test(encoding)) fail(`encoding ${encoding}; expected UTF-8`);
    pos = end + 2;
  }
  skipMisc();
  if (text.startsWith('<!', pos) || text.startsWith('<?', pos))
    fail('DOCTYPE, CDATA and processing instructions are not accepted');
  if (pos >= text.length) fail('empty document');
  const root = element(1);
  skipMisc();
  if (pos < text.length) fail('content after the root element');
  return root;
}

/** Escapes text for a double-quoted attribute value. */
export function escapeAttr(value: string): string {
  return value.replace(
    /[&<>"\r\n\t]/g,
    (c) =>
      ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\r': '&#13;', '\n': '&#10;', '\t': '&#9;' })[
        c
      ] as string,
  );
}
