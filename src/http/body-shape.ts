import { AppError } from '../shared/errors.js';

/**
 * Bounds on the shape of a request body, checked by one linear scan of its text *before* it is
 * parsed or validated. Parsing and schema validation cost time per member, so a 1.5 MB object
 * of 150,000 keys cost 1.2–1.7 s of blocking CPU before its 400 (issue 13); the scan refuses it
 * in a few milliseconds. The bounds sit far above anything a valid request needs: the largest
 * map any schema allows has 50 keys, the longest list 1,000 lines of about 20 values each.
 */
export interface BodyShapeLimits {
  maxMembers: number;
  maxArrayItems: number;
  maxValues: number;
}

export const bodyShapeLimits: Readonly<BodyShapeLimits> = {
  /** Members of one JSON object, or child elements of one XML element. */
  maxMembers: 1_000,
  /** Items of one JSON array (an XML list is an element: `maxMembers`). */
  maxArrayItems: 2_000,
  /** Values (JSON) or elements (XML) in the whole body. */
  maxValues: 60_000,
} as const;

const tooComplex = (what: string, limit: number) =>
  new AppError('payload-too-large', `The body holds ${what}; nothing was read further.`, {
    extensions: { limit },
  });

/**
 * An incremental form of the JSON bound: fed the body chunk by chunk as it arrives (bytes or
 * text: every character the scan looks at is ASCII, and UTF-8 never uses ASCII bytes inside a
 * multi-byte character), it throws the 413 as soon as a bound is passed, so a hostile body is
 * refused after its first kilobytes, before the rest is read, decoded or parsed.
 */
export function jsonShapeScanner(limits: BodyShapeLimits = bodyShapeLimits) {
  // One counter per open container: its commas so far (members − 1).
  const open: number[] = [];
  const isArray: boolean[] = [];
  let values = 1;
  let inString = false;
  let escaped = false;
  return {
    feed(input: string | Uint8Array): void {
      const text = typeof input === 'string' ? input : undefined;
      const bytes = typeof input === 'string' ? undefined : input;
      for (let index = 0; index < input.length; index++) {
        const code = text === undefined ? (bytes as Uint8Array)[index] : text.charCodeAt(index);
        if (inString) {
          if (escaped) escaped = false;
          else if (code === 0x5c) escaped = true;
          else if (code === 0x22) inString = false;
        } else if (code === 0x22) {
          inString = true;
        } else if (code === 0x7b || code === 0x5b) {
          open.push(0);
          isArray.push(code === 0x5b);
        } else if (code === 0x7d || code === 0x5d) {
          open.pop();
          isArray.pop();
        } else if (code === 0x2c && open.length > 0) {
          const top = open.length - 1;
          const count = ++open[top] + 1;
          if (++values > limits.maxValues) throw tooComplex(`more than ${limits.maxValues.toLocaleString('en')} values`, limits.maxValues);
          if (isArray[top] ? count > limits.maxArrayItems : count > limits.maxMembers) {
            throw isArray[top]
              ? tooComplex(`an array of more than ${limits.maxArrayItems.toLocaleString('en')} items`, limits.maxArrayItems)
              : tooComplex(`an object of more than ${limits.maxMembers.toLocaleString('en')} members`, limits.maxMembers);
          }
        }
      }
    },
  };
}

/** Refuses a JSON text (or its UTF-8 bytes) whose objects, arrays or total value count exceed `bodyShapeLimits` (413). */
export function assertJsonShape(input: string | Uint8Array, limits: BodyShapeLimits = bodyShapeLimits): void {
  jsonShapeScanner(limits).feed(input);
}

/**
 * The same bounds for an XML text: child elements per element and elements in total. The scan
 * only needs to over-count, never to parse: the real parser still reads a document that passes.
 */
export function assertXmlShape(text: string, limits = bodyShapeLimits): void {
  const children: number[] = [0];
  let elements = 0;
  let index = text.indexOf('<');
  while (index !== -1 && index < text.length - 1) {
    const next = text.charCodeAt(index + 1);
    if (next === 0x21 /* ! comment, CDATA */ || next === 0x3f /* ? processing instruction */) {
      const end = text.startsWith('<!--', index) ? text.indexOf('-->', index) : text.startsWith('<![CDATA[', index) ? text.indexOf(']]>', index) : text.indexOf('>', index);
      if (end === -1) return;
      index = text.indexOf('<', end);
      continue;
    }
    const close = text.indexOf('>', index);
    if (close === -1) return;
    if (next === 0x2f /* </name> */) {
      if (children.length > 1) children.pop();
    } else {
      if (++elements > limits.maxValues) throw tooComplex(`more than ${limits.maxValues.toLocaleString('en')} elements`, limits.maxValues);
      // An element is an object or a list (<lines>): the larger of the two bounds.
      const maxChildren = Math.max(limits.maxMembers, limits.maxArrayItems);
      if (++children[children.length - 1] > maxChildren) {
        throw tooComplex(`an element with more than ${maxChildren.toLocaleString('en')} child elements`, maxChildren);
      }
      if (text.charCodeAt(close - 1) !== 0x2f /* not self-closing <name/> */) children.push(0);
    }
    index = text.indexOf('<', close);
  }
}
