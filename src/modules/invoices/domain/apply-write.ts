import type { BillTo, Invoice } from './model.js';
import type { InvoiceWriteCommand, WriteMode } from './write-command.js';
import { Collector } from './write/field-errors.js';
import { mergeHeader } from './write/header.js';
import { checkLineStructure, resolveLines, resolveParentRefs } from './write/lines.js';
import { recomputeInvoice } from './write/recompute.js';

export type { WriteMode } from './write-command.js';

export interface WriteContext {
  mode: WriteMode;
  maxLines: number;
  newLineId: () => string;
  /** The UUID of a new line (default: a random UUID). */
  newLineGuid?: () => string;
  /** The bill-to snapshot of the customer named by `customer_id`, when the write (re)links one. */
  linkedCustomer?: BillTo;
  /**
   * Recompute every line even when the write allows the incremental path (tests compare the
   * two). By default, lines the write does not touch keep their stored amounts and their object.
   */
  fullRecompute?: boolean;
}

/**
 * Applies one client write (create, PATCH or PUT) to an invoice and recomputes every
 * figure. Pure: the caller loads what it needs (the current invoice, the customer being
 * linked) and stores the result. Throws AppError (400/422) and never half-applies.
 * Three steps: header merge (write/header.ts), line resolution (write/lines.ts), recompute
 * (write/recompute.ts).
 */
export function applyInvoiceWrite(current: Invoice, input: InvoiceWriteCommand, context: WriteContext): Invoice {
  const errors = new Collector();
  const replaceAll = context.mode === 'put';

  if (input.lines !== undefined && input.line_operations !== undefined) {
    errors.add('/line_operations', 'send either lines (the full set) or line_operations, not both');
  }
  if (replaceAll && input.line_operations !== undefined) {
    errors.add('/line_operations', 'PUT replaces the whole invoice: send lines, not line_operations');
  }
  if (replaceAll && input.currency === undefined) errors.add('/currency', 'PUT replaces the whole invoice: currency is required');
  errors.throwIfAny();

  const next = mergeHeader(current, input, replaceAll, context.linkedCustomer, errors);
  errors.throwIfAny();

  const drafts = resolveLines(current, input, context, next.currency, errors);
  resolveParentRefs(drafts, errors);
  errors.throwIfAny();
  checkLineStructure(drafts, context.maxLines);

  const incremental =
    !context.fullRecompute &&
    context.mode !== 'create' &&
    next.currency === current.currency &&
    next.tax_mode === current.tax_mode &&
    next.rounding_mode === current.rounding_mode;
  return recomputeInvoice(next, drafts, input, incremental ? current : null);
}
