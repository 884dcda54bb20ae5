import { randomUUID } from 'node:crypto';
import { AppError, validationError } from '../../../../shared/errors.js';
import { Dec, currencyMinorUnits, formatDecimal } from '../../../../shared/money.js';
import type { DiscountValue, Invoice, InvoiceLine } from '../model.js';
import type { InvoiceWriteCommand, LineFields, LineOperationCommand, LineWriteCommand, WriteMode } from '../write-command.js';
import { priceLimits, quantityLimits, rateLimits, type Collector } from './field-errors.js';

/**
 * Step 2 of a write: the invoice's final lines, from `lines` (the full desired set) or
 * `line_operations` (add / update / remove against the current, locked lines), each line's own
 * fields checked and its prices made canonical. Amounts are computed in step 3 (recompute.ts).
 */
export interface LineResolution {
  mode: WriteMode;
  newLineId: () => string;
  /** The UUID of a new line (default: a random UUID). */
  newLineGuid?: () => string;
}

/** The client figures a line write may carry, cross-checked in recompute.ts. */
export type LineChecks = Pick<LineFields, 'net_amount' | 'tax_amount' | 'gross_amount' | 'total_amount' | 'ref' | 'parent_ref' | 'parent_line_id'>;

export interface LineDraft {
  line: InvoiceLine;
  /** Where this line came from in the request, for error pointers and client-total checks. */
  pointer: string | null;
  checks: LineChecks;
  /** The current invoice's own line object, untouched by this write (same currency, so same prices). */
  untouched?: true;
}

/** Resolves `lines` (the full desired set) or `line_operations` against the current lines. */
export function resolveLines(current: Invoice, input: Pick<InvoiceWriteCommand, 'lines' | 'line_operations'>, context: LineResolution, currency: string, errors: Collector): LineDraft[] {
  const existing = new Map(current.lines.map((line) => [line.id, line]));
  const recanonicalize = (line: InvoiceLine): LineDraft => ({ line: canonicalPrices(line, currency), pointer: null, checks: {} });

  if (input.lines !== undefined) {
    const seen = new Set<string>();
    return input.lines.map((entry, index) => {
      const pointer = `/lines/${index}`;
      if (entry.id === undefined) return newLine(entry, pointer, context, currency, errors);
      const before = existing.get(entry.id);
      if (!before) throw unknownLine(entry.id, `${pointer}/id`);
      if (seen.has(entry.id)) errors.add(`${pointer}/id`, `line "${entry.id}" appears twice`);
      seen.add(entry.id);
      const base = context.mode === 'put' ? blankLine(entry.id, before.guid) : before;
      return { line: writeLineFields(base, entry, pointer, currency, errors), pointer, checks: entry };
    });
  }

  // Same currency: stored prices are already canonical, so the line object itself is kept and
  // everything downstream (totals, diff, store) can skip it by reference.
  const working: LineDraft[] =
    currency === current.currency ? current.lines.map((line) => ({ line, pointer: null, checks: {}, untouched: true })) : current.lines.map(recanonicalize);
  if (!input.line_operations) {
    if (context.mode === 'put') return [];
    return working;
  }
  input.line_operations.forEach((operation, index) => {
    const pointer = `/line_operations/${index}`;
    if (operation.op === 'add') {
      if (operation.id !== undefined) errors.add(`${pointer}/id`, 'an added line gets its id from the server; omit id');
      const draft = newLine(operation, pointer, context, currency, errors);
      insertAt(working, draft, operation.position);
      return;
    }
    if (operation.id === undefined) {
      errors.add(`${pointer}/id`, `${operation.op} needs the id of the line`);
      return;
    }
    const at = working.findIndex((draft) => draft.line.id === operation.id);
    if (at < 0) throw unknownLine(operation.id, `${pointer}/id`);
    if (operation.op === 'remove') {
      const extra = Object.keys(operation).filter((key) => key !== 'op' && key !== 'id');
      if (extra.length > 0) errors.add(pointer, `remove takes only op and id (got ${extra.join(', ')})`);
      working.splice(at, 1);
      return;
    }
    const [draft] = working.splice(at, 1);
    const updated: LineDraft = { line: writeLineFields(draft.line, operation, pointer, currency, errors), pointer, checks: operation };
    insertAt(working, updated, operation.position ?? at + 1);
  });
  return working;
}

function insertAt(lines: LineDraft[], draft: LineDraft, position: number | undefined) {
  const index = position === undefined ? lines.length : Math.min(Math.max(position - 1, 0), lines.length);
  lines.splice(index, 0, draft);
}

function unknownLine(id: string, pointer: string): AppError {
  return new AppError('invalid-reference', `Line "${id}" is not a line of this invoice.`, {
    errors: [{ pointer, detail: `no line "${id}" on this invoice` }],
  });
}

function blankLine(id: string, guid: string): InvoiceLine {
  return {
    id,
    guid,
    position: 0,
    parent_line_id: null,
    description: null,
    quantity: '1',
    unit: null,
    unit_price: '0',
    discount: null,
    tax_rate: null,
    tax_code: null,
    account_code: null,
    item_code: null,
    tracking: null,
    amount_before_discount: '0',
    discount_amount: '0',
    net_amount: '0',
    tax_amount: '0',
    gross_amount: '0',
  };
}

function newLine(entry: LineWriteCommand | LineOperationCommand, pointer: string, context: LineResolution, currency: string, errors: Collector): LineDraft {
  if (entry.unit_price === undefined) errors.add(`${pointer}/unit_price`, 'a new line needs a unit_price');
  return { line: writeLineFields(blankLine(context.newLineId(), (context.newLineGuid ?? randomUUID)()), entry, pointer, currency, errors), pointer, checks: entry };
}

/** Absent fields keep the base line's value; the base is blank for new lines and PUT. */
function writeLineFields(base: InvoiceLine, entry: LineFields, pointer: string, currency: string, errors: Collector): InvoiceLine {
  const line: InvoiceLine = { ...base };
  if (entry.description !== undefined) line.description = entry.description;
  if (entry.unit !== undefined) line.unit = entry.unit;
  if (entry.tax_code !== undefined) line.tax_code = entry.tax_code;
  if (entry.account_code !== undefined) line.account_code = entry.account_code;
  if (entry.item_code !== undefined) line.item_code = entry.item_code;
  if (entry.tracking !== undefined) line.tracking = entry.tracking;
  if (entry.parent_line_id !== undefined) line.parent_line_id = entry.parent_line_id;
  if (entry.quantity !== undefined) {
    const quantity = errors.decimal(entry.quantity, `${pointer}/quantity`, quantityLimits);
    if (quantity?.isNegative()) errors.add(`${pointer}/quantity`, 'must not be negative (use a credit note to credit)');
    else if (quantity) line.quantity = formatDecimal(quantity);
  }
  if (entry.unit_price !== undefined) {
    const price = errors.decimal(entry.unit_price, `${pointer}/unit_price`, priceLimits);
    if (price) line.unit_price = formatDecimal(price);
  }
  if (entry.tax_rate !== undefined) {
    if (entry.tax_rate === null) line.tax_rate = null;
    else {
      const rate = errors.decimal(entry.tax_rate, `${pointer}/tax_rate`, rateLimits);
      if (rate && (rate.isNegative() || rate.gt(100))) errors.add(`${pointer}/tax_rate`, 'must be a percentage between 0 and 100');
      else if (rate) line.tax_rate = formatDecimal(rate);
    }
  }
  if (entry.discount !== undefined) {
    if (entry.discount === null) line.discount = null;
    else {
      const limits = entry.discount.type === 'percent' ? rateLimits : priceLimits;
      const value = errors.decimal(entry.discount.value, `${pointer}/discount/value`, limits);
      if (value?.isNegative()) errors.add(`${pointer}/discount/value`, 'must not be negative');
      else if (value && entry.discount.type === 'percent' && value.gt(100)) errors.add(`${pointer}/discount/value`, 'a percentage is at most 100');
      else if (value) line.discount = { type: entry.discount.type, value: formatDecimal(value) };
    }
  }
  return canonicalPrices(line, currency);
}

/** Prices print with at least the currency's minor units ("10.50", "10.125", JPY "1000"). */
export function canonicalPrices(line: InvoiceLine, currency: string): InvoiceLine {
  const price = (value: string) => {
    const decimal = new Dec(value);
    const minor = currencyMinorUnits(currency);
    return decimal.decimalPlaces() < minor ? decimal.toFixed(minor) : formatDecimal(decimal);
  };
  const discount: DiscountValue | null =
    line.discount?.type === 'amount' ? { type: 'amount', value: price(line.discount.value) } : line.discount;
  return { ...line, unit_price: price(line.unit_price), discount };
}

export function checkLineStructure(drafts: LineDraft[], maxLines: number) {
  if (drafts.length > maxLines) {
    throw validationError([{ pointer: '/lines', detail: `an invoice holds at most ${maxLines} lines` }]);
  }
  const byId = new Map(drafts.map((draft) => [draft.line.id, draft.line]));
  for (const { line, pointer } of drafts) {
    if (line.parent_line_id === null) continue;
    const at = `${pointer ?? `/lines/${line.id}`}/parent_line_id`;
    const parent = byId.get(line.parent_line_id);
    if (!parent || parent.id === line.id) {
      throw new AppError('invalid-reference', `Line "${line.id}" names parent "${line.parent_line_id}", which is not another line of this invoice.`, {
        errors: [{ pointer: at, detail: 'parent is not a line of this invoice' }],
      });
    }
    if (parent.parent_line_id !== null) {
      throw new AppError('one-level-grouping', 'Lines group one level deep: a parent line cannot itself have a parent.', {
        errors: [{ pointer: at, detail: 'parent line is itself grouped' }],
      });
    }
  }
}

/**
 * `parent_ref` names the line of this same request whose `ref` it repeats: how a request
 * groups lines under a parent it adds itself (a new line has no id before the write).
 */
export function resolveParentRefs(drafts: LineDraft[], errors: Collector) {
  const byRef = new Map<string, InvoiceLine>();
  for (const draft of drafts) {
    const ref = draft.checks.ref;
    if (ref === undefined) continue;
    if (byRef.has(ref)) errors.add(`${draft.pointer}/ref`, `ref "${ref}" is used by another line of this request`);
    byRef.set(ref, draft.line);
  }
  for (const draft of drafts) {
    const parentRef = draft.checks.parent_ref;
    if (parentRef === undefined) continue;
    const parent = byRef.get(parentRef);
    if (draft.checks.parent_line_id !== undefined) errors.add(`${draft.pointer}/parent_ref`, 'send parent_line_id or parent_ref, not both');
    else if (!parent) errors.add(`${draft.pointer}/parent_ref`, `no line of this request has ref "${parentRef}"`);
    else draft.line = { ...draft.line, parent_line_id: parent.id };
  }
}
