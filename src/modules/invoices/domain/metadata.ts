import type { FieldError } from '../../../shared/errors.js';

/**
 * Invoice metadata: a map of keys to arbitrary JSON (strings, numbers, booleans, arrays,
 * objects), kept exactly as sent. Stax's `meta` and the unified API's `remoteFields` live here.
 *
 * Semantics: PATCH merges at the top level (a key set to a value replaces that key's whole
 * value, a key set to null removes it, `metadata: null` clears the map); PUT, and dialects that
 * replace, set the whole map. Inside values a member set to null is dropped (null and absent are
 * the same, as in the audit diff), so a value reads back exactly as it was stored.
 */
export type MetadataValue = string | number | boolean | null | MetadataValue[] | { [key: string]: MetadataValue };
export type Metadata = Record<string, MetadataValue>;

export const metadataLimits = {
  /** Top-level keys. */
  maxKeys: 50,
  maxKeyLength: 40,
  /** Keys of nested objects. */
  maxNestedKeyLength: 100,
  /** Levels below the map itself: `{"a": {"b": [1]}}` is depth 3 (a, b, the array's item). */
  maxDepth: 8,
  /** The whole map as compact JSON (UTF-8 bytes). */
  maxBytes: 32_768,
  /** Any string value, at any depth (as the flat string metadata always allowed). */
  maxStringLength: 500,
};

const reservedKeys = new Set(['__proto__', 'constructor', 'prototype']);
const escapeKey = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** A copy without null object members (arrays keep their items); errors for reserved keys and depth. */
function normalized(value: MetadataValue, pointer: string, depth: number, errors: FieldError[]): MetadataValue | undefined {
  if (depth > metadataLimits.maxDepth) {
    errors.push({ pointer, detail: `metadata nests at most ${metadataLimits.maxDepth} levels` });
    return undefined;
  }
  if (Array.isArray(value)) return value.map((item, index) => normalized(item, `${pointer}/${index}`, depth + 1, errors) ?? null);
  if (typeof value === 'string' && value.length > metadataLimits.maxStringLength) {
    errors.push({ pointer, detail: `metadata strings are at most ${metadataLimits.maxStringLength} characters` });
    return undefined;
  }
  if (value === null || typeof value !== 'object') return value;
  const result: { [key: string]: MetadataValue } = {};
  for (const [key, item] of Object.entries(value)) {
    const at = `${pointer}/${escapeKey(key)}`;
    if (reservedKeys.has(key)) errors.push({ pointer: at, detail: 'reserved key' });
    else if (key.length > metadataLimits.maxNestedKeyLength) errors.push({ pointer: at, detail: `keys are at most ${metadataLimits.maxNestedKeyLength} characters` });
    else if (item !== null) {
      const kept = normalized(item, at, depth + 1, errors);
      if (kept !== undefined) result[key] = kept;
    }
  }
  return result;
}

/** Applies a metadata write to the current map (see the semantics above) and checks the limits. */
export function mergeMetadata(
  current: Metadata,
  patch: Record<string, unknown> | null | undefined,
  replaceAll: boolean,
  errors: FieldError[],
  pointer = '/metadata',
): Metadata {
  if (patch === undefined) return replaceAll ? {} : current;
  if (patch === null) return {};
  const result: Metadata = replaceAll ? {} : { ...current };
  for (const [key, value] of Object.entries(patch)) {
    const at = `${pointer}/${escapeKey(key)}`;
    if (reservedKeys.has(key)) errors.push({ pointer: at, detail: 'reserved key' });
    else if (key.length === 0 || key.length > metadataLimits.maxKeyLength) errors.push({ pointer: at, detail: `keys are 1 to ${metadataLimits.maxKeyLength} characters` });
    else if (value === null) delete result[key];
    else {
      const kept = normalized(value as MetadataValue, at, 1, errors);
      if (kept !== undefined) result[key] = kept;
    }
  }
  if (Object.keys(result).length > metadataLimits.maxKeys) errors.push({ pointer, detail: `at most ${metadataLimits.maxKeys} keys` });
  const bytes = Buffer.byteLength(JSON.stringify(result));
  if (bytes > metadataLimits.maxBytes) errors.push({ pointer, detail: `metadata is at most ${metadataLimits.maxBytes} bytes as JSON (this would be ${bytes})` });
  return result;
}
