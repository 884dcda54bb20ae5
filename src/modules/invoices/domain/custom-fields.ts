import type { FieldError } from '../../../shared/errors.js';
import type { CustomFieldValue } from './model.js';

/**
 * Custom fields whose type is fixed by their name: CRM.COM's user-defined fields
 * `udf_string_1..8`, `udf_float_1..4` and `udf_date_1..4`. A write that gives one of them
 * another type is a 400 (from /v1 and from every dialect alike).
 */
export type CustomFieldType = CustomFieldValue['type'];

const declared: Array<{ pattern: RegExp; type: CustomFieldType }> = [
  { pattern: /^udf_string_[1-8]$/, type: 'string' },
  { pattern: /^udf_float_[1-4]$/, type: 'number' },
  { pattern: /^udf_date_[1-4]$/, type: 'date' },
];

export const udfFieldNames: readonly string[] = [
  ...Array.from({ length: 8 }, (_, index) => `udf_string_${index + 1}`),
  ...Array.from({ length: 4 }, (_, index) => `udf_float_${index + 1}`),
  ...Array.from({ length: 4 }, (_, index) => `udf_date_${index + 1}`),
];

export function declaredCustomFieldType(key: string): CustomFieldType | undefined {
  return declared.find(({ pattern }) => pattern.test(key))?.type;
}

/** The error for a value of the wrong type under a declared name, or undefined. */
export function customFieldTypeError(key: string, type: CustomFieldType, pointer: string): FieldError | undefined {
  const expected = declaredCustomFieldType(key);
  if (expected === undefined || expected === type) return undefined;
  return { pointer: `${pointer}/type`, detail: `${key} holds a ${expected}` };
}

/**
 * Flat udf values as a dialect sends them (`"udf_float_1": 12.5`, null clears) → a typed
 * custom_fields patch. Unknown udf names and unreadable values are errors at `pointerOf(name)`.
 */
export function udfPatch(
  values: Record<string, string | number | null | undefined>,
  pointerOf: (name: string) => string,
  errors: FieldError[],
): Record<string, { type: CustomFieldType; value: string } | null> {
  const patch: Record<string, { type: CustomFieldType; value: string } | null> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const type = declaredCustomFieldType(name);
    if (!type) {
      errors.push({ pointer: pointerOf(name), detail: `not a user-defined field (${udfFieldNames.join(', ')})` });
      continue;
    }
    if (value === null || value === '') {
      patch[name] = null;
      continue;
    }
    if (type === 'number' && typeof value === 'string' && !/^[+-]?\d+(\.\d+)?$/.test(value)) {
      errors.push({ pointer: pointerOf(name), detail: 'must be a number' });
      continue;
    }
    if (type !== 'number' && typeof value !== 'string') {
      errors.push({ pointer: pointerOf(name), detail: `must be a ${type === 'date' ? 'date (YYYY-MM-DD)' : 'string'}` });
      continue;
    }
    patch[name] = { type, value: String(value) };
  }
  return patch;
}

/** The invoice's udf fields as flat values (numbers and dates as strings; absent ones omitted). */
export function udfValues(customFields: Record<string, CustomFieldValue>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of udfFieldNames) if (customFields[name]) values[name] = customFields[name].value;
  return values;
}
