import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';

export type XmlNode = XMLBuilder;

/** Adds `<name attrs>text</name>` under parent, or nothing when the text is missing or blank. */
export function leaf(parent: XmlNode, name: string, text: string | null | undefined, attributes?: Record<string, string>): void {
  if (text === null || text === undefined || text.trim() === '') return;
  parent.ele(name, attributes).txt(text);
}

export function newXmlDocument(namespace: string | null, rootName: string, attributes: Record<string, string>): XmlNode {
  const document = create({ version: '1.0', encoding: 'UTF-8' });
  return namespace ? document.ele(namespace, rootName, attributes) : document.ele(rootName, attributes);
}

/** Characters XML 1.0 cannot carry at all (control characters, U+FFFE/FFFF, lone surrogates). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: naming the characters XML allows is the point
const notXmlCharacters = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/**
 * Pretty-printed, UTF-8; the same tree always serialises to the same bytes. Text Folio accepted
 * may hold characters XML 1.0 forbids: they are dropped so the document stays well-formed.
 */
export const serialize = (root: XmlNode): Buffer => Buffer.from(root.end({ prettyPrint: true }).replace(notXmlCharacters, ''), 'utf8');
