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

/** Pretty-printed, UTF-8; the same tree always serialises to the same bytes. */
export const serialize = (root: XmlNode): Buffer => Buffer.from(root.end({ prettyPrint: true }), 'utf8');
