import { parse } from 'lossless-json';
import { AppError } from '../shared/errors.js';
import { assertJsonShape } from './body-shape.js';

const maxDepth = 32;
const forbiddenKeys = new Set(['__proto__', 'constructor', 'prototype']);

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** application/json, text/json (.NET clients) and any `+json` type: the bodies the shape check streams over. */
export function isJsonMediaType(contentType: string | undefined): boolean {
  const type = contentType?.split(';')[0].trim().toLowerCase() ?? '';
  return type === 'application/json' || type === 'text/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/** Decodes a request body as strict UTF-8: invalid byte sequences are a 400, never silently replaced with U+FFFD. */
export function decodeUtf8Body(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw new AppError('malformed-request', 'The body is not valid UTF-8.');
  }
}

/**
 * Reads a JSON request body without losing numeric information: a JSON number that is a
 * safe integer, or whose double prints back as the same text (12.5), becomes a JS number; any
 * other number (0.10, 1e2, 0.1000000000000000055) keeps its exact source text as a string (so "0.1" stays 0.1 and decimal fields read it exactly, while integer fields
 * refuse it at validation). Duplicate keys, prototype keys and deep nesting are refused.
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new AppError('malformed-request', 'The request body is empty; send a JSON object.');
  assertJsonShape(text);
  let value: unknown;
  try {
    value = parse(text, undefined, {
      parseNumber: (numberText: string) => {
        const asNumber = Number(numberText);
        if (/^-?\d+$/.test(numberText)) {
          if (Number.isSafeInteger(asNumber)) return asNumber;
        } else if (String(asNumber) === numberText) {
          // 12.5 prints back as "12.5": the number is exact, and JSON kept in metadata stays a number.
          return asNumber;
        }
        return numberText;
      },
    });
  } catch (error) {
    const message = error instanceof RangeError ? 'The JSON is nested too deeply.' : (error as Error).message;
    throw new AppError('malformed-request', `The body is not valid JSON: ${message}`);
  }
  checkStructure(value, 0, '');
  return value;
}

function checkStructure(value: unknown, depth: number, pointer: string): void {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'string' && value.includes('\u0000')) {
      throw new AppError('validation-error', 'Strings may not contain NUL characters.', {
        errors: [{ pointer: pointer || '/', detail: 'contains a NUL character' }],
      });
    }
    return;
  }
  if (depth > maxDepth) throw new AppError('malformed-request', `The JSON is nested deeper than ${maxDepth} levels.`);
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) checkStructure(item, depth + 1, `${pointer}/${index}`);
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    const childPointer = `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (forbiddenKeys.has(key)) {
      throw new AppError('validation-error', `The key "${key}" is not allowed anywhere in a request.`, {
        errors: [{ pointer: childPointer, detail: 'reserved key' }],
      });
    }
    checkStructure(item, depth + 1, childPointer);
  }
}
