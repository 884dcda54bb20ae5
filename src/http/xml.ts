import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { AppError } from '../shared/errors.js';
import { assertXmlShape } from './body-shape.js';

/**
 * XML bodies for resources whose JSON model is described by a TypeBox schema.
 *
 * Element naming (both directions; see docs/attachments-xml-fields.md):
 *  - the document element names the resource (`<invoice>`); members are child elements named
 *    like the JSON members (`<memo>`, `<due_date>`);
 *  - a list is a wrapper element holding one element per item (`<lines><line>…</line></lines>`);
 *  - a map is a wrapper element holding `<entry key="…">value</entry>` items
 *    (`<metadata><entry key="po">7</entry></metadata>`);
 *  - null is an empty element with XML Schema's `xsi:nil="true"` (`<memo xsi:nil="true"/>`, the
 *    document element declaring `xmlns:xsi`); reading takes a bare `nil="true"` too; `<memo/>` is "".
 * Reading is guided by the route's body schema, so "12.50" stays a decimal string and
 * `<net_days>30</net_days>` becomes the number 30 only where the schema asks for a number.
 * DOCTYPE and ENTITY declarations are refused before parsing (no DTDs, no entity expansion).
 */
export const xmlMediaTypes = ['application/xml', 'text/xml'];

/** The XML Schema instance namespace, where `nil` lives (XML Schema Part 1, §2.6.2). */
export const xsiNamespace = 'http://www.w3.org/2001/XMLSchema-instance';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: false, // decoded below in one pass: only the five XML entities and character references
});

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  format: false,
  suppressEmptyNode: true, // an empty element is written <memo/>, a null one <memo xsi:nil="true"/>
  suppressBooleanAttributes: false,
  processEntities: true,
});

/** A JSON schema as TypeBox emits it (read structurally). */
// biome-ignore lint/suspicious/noExplicitAny: a JSON schema is read structurally here; its keywords vary by node
type TSchema = Record<string, any>;

const malformed = (detail: string) => new AppError('malformed-request', detail);

const namedEntities: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#\d{1,7}|[a-z]{2,4});/g, (whole, name: string) => {
    if (name.startsWith('#')) {
      const code = name[1] === 'x' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      if (code > 0x10ffff || code === 0) throw malformed(`Invalid character reference ${whole}.`);
      return String.fromCodePoint(code);
    }
    const decoded = namedEntities[name];
    if (decoded === undefined) throw malformed(`Unknown entity ${whole}: only the five XML entities are allowed.`);
    return decoded;
  });
}

/** Parses an XML body into the JSON model the schema describes. Throws a 400 AppError for anything unreadable. */
export function parseXmlBody(text: string, rootName: string, bodySchema: TSchema | undefined): unknown {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw malformed('XML with a DOCTYPE or ENTITY declaration is refused (no DTDs, no entity expansion).');
  assertXmlShape(text);
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw malformed(`The XML is not well-formed: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col}).`);
  let document: Record<string, unknown>;
  try {
    document = parser.parse(text) as Record<string, unknown>;
  } catch (error) {
    // The parser's messages describe the document (e.g. "Maximum nested tags exceeded"), never our internals.
    throw malformed(`The XML could not be read: ${String((error as Error)?.message ?? error).slice(0, 200)}`);
  }
  const roots = Object.keys(document).filter((key) => !key.startsWith('#'));
  if (roots.length !== 1 || roots[0] !== rootName) throw malformed(`The XML document element must be <${rootName}>.`);
  return fromXml(document[rootName] as Node, bodySchema ?? {});
}

type Node = string | Node[] | { [key: string]: Node };

const isAttribute = (key: string) => key.startsWith('@_');
/** `nil="true"`, or XML Schema's `xsi:nil="true"` (any prefix) as .NET and Java serializers write it. */
const isNil = (node: Node) =>
  typeof node === 'object' && !Array.isArray(node) && Object.entries(node).some(([key, value]) => (key === '@_nil' || key.endsWith(':nil')) && value === 'true');
const textOf = (node: Node): string => (typeof node === 'string' ? decodeEntities(node) : !Array.isArray(node) && typeof node['#text'] === 'string' ? decodeEntities(node['#text']) : '');
const childKeys = (node: Node) => (typeof node === 'object' && !Array.isArray(node) ? Object.keys(node).filter((key) => !isAttribute(key) && key !== '#text') : []);
const asList = (node: Node): Node[] => (Array.isArray(node) ? node : [node]);

/** The union branch that fits the node: structured nodes take object/array branches, text takes scalars. */
function pickBranch(schema: TSchema, node: Node): TSchema {
  const branches: TSchema[] = (schema.anyOf ?? schema.oneOf ?? [schema]).filter((branch: TSchema) => branch.type !== 'null');
  const structured = childKeys(node).length > 0;
  const order = structured ? ['object', 'array', 'string'] : ['string', 'number', 'integer', 'boolean', 'object', 'array'];
  for (const type of order) {
    const found = branches.find((branch) => branch.type === type);
    if (found) return found;
  }
  return branches[0] ?? {};
}

const mapValueSchema = (schema: TSchema): TSchema | undefined => {
  if (schema.patternProperties) return Object.values(schema.patternProperties as Record<string, TSchema>)[0];
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object' && !schema.properties) return schema.additionalProperties as TSchema;
  return undefined;
};

function fromXml(node: Node, schema: TSchema): unknown {
  if (Array.isArray(node)) return node.map((item) => fromXml(item, schema)); // a repeated element where one was expected: validation names it
  if (isNil(node)) return null;
  const target = pickBranch(schema, node);
  switch (target.type) {
    case 'array':
      return childKeys(node).flatMap((key) => asList((node as Record<string, Node>)[key]).map((item) => fromXml(item, target.items ?? {})));
    case 'object': {
      const valueSchema = mapValueSchema(target);
      const result: Record<string, unknown> = {};
      if (valueSchema) {
        for (const key of childKeys(node)) {
          for (const entry of asList((node as Record<string, Node>)[key])) {
            const entryKey = typeof entry === 'object' && !Array.isArray(entry) ? entry['@_key'] : undefined;
            if (key !== 'entry' || typeof entryKey !== 'string') throw malformed(`Map members are written <entry key="…">; found <${key}>.`);
            result[decodeEntities(entryKey)] = fromXml(withoutKey(entry as Record<string, Node>), valueSchema);
          }
        }
        return result;
      }
      const properties = (target.properties ?? {}) as Record<string, TSchema>;
      for (const key of childKeys(node)) result[key] = fromXml((node as Record<string, Node>)[key], properties[key] ?? {});
      return result;
    }
    case 'integer':
    case 'number': {
      const text = textOf(node).trim();
      return /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text) ? Number(text) : text;
    }
    case 'boolean': {
      const text = textOf(node).trim();
      return text === 'true' ? true : text === 'false' ? false : text;
    }
    default:
      return childKeys(node).length > 0 ? fromXml(node, { type: 'object' }) : textOf(node);
  }
}

function withoutKey(entry: Record<string, Node>): Node {
  const { '@_key': _key, ...rest } = entry;
  const keys = Object.keys(rest);
  return keys.length === 1 && keys[0] === '#text' ? (rest['#text'] as Node) : keys.length === 0 ? '' : rest;
}

/** Item element names of lists; any other list uses <item>. */
const itemNames: Record<string, string> = {
  lines: 'line',
  attachments: 'attachment',
  tax_breakdown: 'tax',
  data: 'invoice',
  line_operations: 'operation',
  errors: 'error',
  changes: 'change',
};
/** Members written as <entry key="…"> maps (any object whose keys are not XML names is one too). */
const mapMembers = new Set(['metadata', 'custom_fields', 'external_refs', 'tracking']);
const xmlName = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
// Characters XML 1.0 cannot carry at all become U+FFFD.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching the control characters XML 1.0 forbids is the point
const clean = (text: string) => text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD');

function toXmlNode(value: unknown, name: string): unknown {
  if (value === null || value === undefined) return { '@_xsi:nil': 'true' };
  if (Array.isArray(value)) {
    if (value.length === 0) return '';
    const item = itemNames[name] ?? 'item';
    return { [item]: value.map((element) => toXmlNode(element, item)) };
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (mapMembers.has(name) || entries.some(([key]) => !xmlName.test(key))) {
      if (entries.length === 0) return '';
      return {
        entry: entries.map(([key, member]) => {
          const content = toXmlNode(member, 'entry');
          return typeof content === 'object' ? { '@_key': clean(key), ...(content as object) } : { '@_key': clean(key), '#text': content };
        }),
      };
    }
    const result: Record<string, unknown> = {};
    for (const [key, member] of entries) result[key] = toXmlNode(member, key);
    return result;
  }
  return clean(String(value));
}

/** Serializes a JSON model as an XML document with the given document element. */
export function toXmlDocument(rootName: string, value: unknown, attributes: Record<string, string> = {}): string {
  const node = toXmlNode(value, rootName);
  // xsi is declared on the document element whatever the content, so every nil below is in scope.
  const rootAttributes = { ...attributes, 'xmlns:xsi': xsiNamespace };
  const root = typeof node === 'object' ? { ...Object.fromEntries(Object.entries(rootAttributes).map(([k, v]) => [`@_${k}`, v])), ...(node as object) } : node;
  return `<?xml version="1.0" encoding="UTF-8"?>${builder.build({ [rootName]: root })}`;
}
