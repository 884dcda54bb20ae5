import type { TSchema, Static } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { AppError } from '../shared/errors.js';

// ajv-formats is CommonJS: under NodeNext its default import is the module object, whose `default` is the plugin.
const addFormats = addFormatsModule.default;
const ajv = addFormats(new Ajv({ allErrors: true, strict: false, coerceTypes: false }));
const compiled = new WeakMap<TSchema, ValidateFunction>();

/** Checks a form's input against the same schema the API validates its request with. */
export function checkedInput<T extends TSchema>(schema: T, value: unknown): Static<T> {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (validate(value)) return value as Static<T>;
  const errors = (validate.errors ?? []).map((error) => ({ pointer: error.instancePath || '/', detail: error.message ?? 'is invalid' }));
  throw new AppError('validation-error', `Please correct: ${errors.map((error) => `${error.pointer.slice(1).replace(/\//g, ' ') || 'form'} ${error.detail}`).join('; ')}.`, { errors });
}
