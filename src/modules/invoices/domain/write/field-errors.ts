import { parseDecimalInput, type Dec } from '../../../../shared/money.js';
import { validationError, type FieldError } from '../../../../shared/errors.js';

/** Digit limits of the decimals a write may carry (larger is a 400, never a silent rounding). */
export const quantityLimits = { maxIntegerDigits: 12, maxFractionDigits: 6 };
export const priceLimits = { maxIntegerDigits: 13, maxFractionDigits: 10 };
export const rateLimits = { maxIntegerDigits: 3, maxFractionDigits: 4 };
/** Map keys refused everywhere (prototype pollution). */
export const reservedKeys = new Set(['__proto__', 'constructor', 'prototype']);

/** Gathers every field error of one write, so the client gets them all in one 400. */
export class Collector {
  readonly errors: FieldError[] = [];
  add(pointer: string, detail: string) {
    this.errors.push({ pointer, detail });
  }
  decimal(value: string | number, pointer: string, limits: { maxIntegerDigits: number; maxFractionDigits: number }): Dec | undefined {
    const parsed = parseDecimalInput(value, limits);
    if ('error' in parsed) {
      this.add(pointer, parsed.error);
      return undefined;
    }
    return parsed;
  }
  throwIfAny() {
    if (this.errors.length > 0) throw validationError(this.errors);
  }
}
