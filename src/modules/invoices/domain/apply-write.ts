import { randomUUID } from 'node:crypto';
import {
  Dec,
  currencyMinorUnits,
  formatAmount,
  formatDecimal,
  isCurrencyCode,
  parseDecimalInput,
  type RoundingMode,
} from '../../../shared/money.js';
import { AppError, validationError, type FieldError } from '../../../shared/errors.js';
import { addDays, isValidBusinessDate } from '../../../shared/time.js';
import type { InvoiceWrite, LineInput, LineOperation } from '../schemas.js';
import { mergeMetadata } from './metadata.js';
import { customFieldTypeError } from './custom-fields.js';
import type { BillTo, CustomFieldValue, DiscountValue, Invoice, InvoiceLine } from './model.js';
import { computeTotals, type InvoiceTotals, type LineAmounts, type TaxBreakdownRow, type TotalsLineInput } from './totals.js';

/**
 * Applies one client write (create, PATCH or PUT) to an invoice and recomputes every
 * figure. Pure: the caller loads what it needs (the current invoice, the customer being
 * linked) and stores the result. Throws AppError (400/422) and never half-applies.
 */
export type WriteMode = 'create' | 'patch' | 'put';

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

/** What a draft keeps of its request entry: the figures to check and its request-local names. */
type LineChecks = Pick<LineInput, 'net_amount' | 'tax_amount' | 'gross_amount' | 'total_amount' | 'ref' | 'parent_ref'>;

interface LineDraft {
  line: InvoiceLine;
  /** Where this line came from in the request, for error pointers and client-total checks. */
  pointer: string | null;
  checks: LineChecks;
  /** The current invoice's own line object, untouched by this write (same currency, so same prices). */
  untouched?: true;
}

const quantityLimits = { maxIntegerDigits: 12, maxFractionDigits: 6 };
const priceLimits = { maxIntegerDigits: 13, maxFractionDigits: 10 };
const rateLimits = { maxIntegerDigits: 3, maxFractionDigits: 4 };
const reservedKeys = new Set(['__proto__', 'constructor', 'prototype']);

class Collector {
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

export function applyInvoiceWrite(current: Invoice, input: InvoiceWrite, context: WriteContext): Invoice {
  const errors = new Collector();
  const replaceAll = context.mode === 'put';
  const next: Invoice = { ...current };

  if (input.lines !== undefined && input.line_operations !== undefined) {
    errors.add('/line_operations', 'send either lines (the full set) or line_operations, not both');
  }
  if (replaceAll && input.line_operations !== undefined) {
    errors.add('/line_operations', 'PUT replaces the whole invoice: send lines, not line_operations');
  }
  if (replaceAll && input.currency === undefined) errors.add('/currency', 'PUT replaces the whole invoice: currency is required');
  errors.throwIfAny();

  // Plain header fields: absent = unchanged (PATCH) or reset (PUT); null = cleared.
  const pick = <K extends keyof Invoice>(key: K, value: Invoice[K] | undefined, reset: Invoice[K]) => {
    if (value !== undefined) next[key] = value;
    else if (replaceAll) next[key] = reset;
  };
  pick('number', emptyToNull(input.number), null);
  pick('reference', input.reference, null);
  pick('purchase_order', input.purchase_order, null);
  pick('memo', input.memo, null);
  pick('internal_note', input.internal_note, null);
  pick('issue_date', input.issue_date, null);
  pick('due_date', input.due_date, null);
  pick('payment_terms', input.payment_terms, null);
  pick('tax_mode', input.tax_mode, 'exclusive');
  pick('rounding_mode', input.rounding_mode, 'half_up');

  if (input.currency !== undefined) {
    if (!isCurrencyCode(input.currency)) errors.add('/currency', `"${input.currency}" is not an ISO 4217 currency code`);
    else next.currency = input.currency;
  }
  if (input.exchange_rate !== undefined || replaceAll) {
    if (input.exchange_rate === null || input.exchange_rate === undefined) next.exchange_rate = null;
    else {
      const rate = errors.decimal(input.exchange_rate, '/exchange_rate', { maxIntegerDigits: 12, maxFractionDigits: 10 });
      if (rate && rate.lte(0)) errors.add('/exchange_rate', 'must be greater than 0');
      else if (rate) next.exchange_rate = formatDecimal(rate);
    }
  }
  for (const field of ['issue_date', 'due_date'] as const) {
    const value = input[field];
    if (typeof value === 'string' && !isValidBusinessDate(value)) errors.add(`/${field}`, 'is not a real calendar date between 1900 and 2999');
  }

  next.metadata = mergeMetadata(current.metadata, input.metadata, replaceAll, errors.errors);
  next.external_refs = mergeMap(current.external_refs, input.external_refs, replaceAll, '/external_refs', errors, 20);
  next.custom_fields = mergeCustomFields(current.custom_fields, input.custom_fields, replaceAll, errors);

  // Customer link: (re)linking refreshes the snapshot; bill_to fields sent alongside win.
  if (input.customer_id !== undefined) next.customer_id = input.customer_id;
  else if (replaceAll) next.customer_id = null;
  let billTo: BillTo | null = replaceAll ? null : current.bill_to;
  if (context.linkedCustomer) billTo = { ...context.linkedCustomer };
  if (input.bill_to === null) billTo = null;
  else if (input.bill_to !== undefined) billTo = { ...(billTo ?? {}), ...input.bill_to };
  next.bill_to = billTo;

  const datesReadable = errors.errors.every((error) => error.pointer !== '/issue_date' && error.pointer !== '/due_date');
  // Due date follows the payment terms unless the client sets it in this same write.
  const termsOrIssueChanged = input.payment_terms !== undefined || input.issue_date !== undefined;
  if (datesReadable && input.due_date === undefined && termsOrIssueChanged && next.payment_terms && next.issue_date) {
    next.due_date = addDays(next.issue_date, next.payment_terms.net_days);
  }
  if (datesReadable && next.issue_date && next.due_date && next.due_date < next.issue_date) {
    errors.add('/due_date', `must not be before issue_date (${next.issue_date})`);
  }
  errors.throwIfAny();

  const drafts = buildLines(current, input, context, next.currency, errors);
  resolveParentRefs(drafts, errors);
  errors.throwIfAny();
  checkLineStructure(drafts, context.maxLines);

  const incremental =
    !context.fullRecompute &&
    context.mode !== 'create' &&
    next.currency === current.currency &&
    next.tax_mode === current.tax_mode &&
    next.rounding_mode === current.rounding_mode;
  return computeInvoice(next, drafts, input, incremental ? current : null);
}

function emptyToNull(value: string | null | undefined): string | null | undefined {
  return value === '' ? null : value;
}

function mergeMap(
  current: Record<string, string>,
  patch: Record<string, string | null> | null | undefined,
  replaceAll: boolean,
  pointer: string,
  errors: Collector,
  maxKeys: number,
): Record<string, string> {
  if (patch === undefined) return replaceAll ? {} : current;
  if (patch === null) return {};
  const result: Record<string, string> = replaceAll ? {} : { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (reservedKeys.has(key)) errors.add(`${pointer}/${key}`, 'reserved key');
    else if (value === null) delete result[key];
    else result[key] = value;
  }
  if (Object.keys(result).length > maxKeys) errors.add(pointer, `at most ${maxKeys} keys`);
  return result;
}

function mergeCustomFields(
  current: Record<string, CustomFieldValue>,
  patch: InvoiceWrite['custom_fields'],
  replaceAll: boolean,
  errors: Collector,
): Record<string, CustomFieldValue> {
  if (patch === undefined) return replaceAll ? {} : current;
  if (patch === null) return {};
  const result: Record<string, CustomFieldValue> = replaceAll ? {} : { ...current };
  for (const [key, field] of Object.entries(patch)) {
    const pointer = `/custom_fields/${key}`;
    const typeError = field === null ? undefined : customFieldTypeError(key, field.type, pointer);
    if (reservedKeys.has(key)) errors.add(pointer, 'reserved key');
    else if (field === null) delete result[key];
    else if (typeError) errors.errors.push(typeError);
    else if (field.type === 'number') {
      const value = errors.decimal(field.value, `${pointer}/value`, { maxIntegerDigits: 15, maxFractionDigits: 10 });
      if (value) result[key] = { type: 'number', value: formatDecimal(value) };
    } else if (field.type === 'date') {
      if (!isValidBusinessDate(field.value)) errors.add(`${pointer}/value`, 'is not a real calendar date');
      else result[key] = { type: 'date', value: field.value };
    } else result[key] = { type: 'string', value: field.value };
  }
  if (Object.keys(result).length > 50) errors.add('/custom_fields', 'at most 50 custom fields');
  return result;
}

/** Resolves `lines` (the full desired set) or `line_operations` against the current lines. */
function buildLines(current: Invoice, input: InvoiceWrite, context: WriteContext, currency: string, errors: Collector): LineDraft[] {
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

/**
 * `parent_ref` names the line of this same request whose `ref` it repeats: how a request
 * groups lines under a parent it adds itself (a new line has no id before the write).
 */
function resolveParentRefs(drafts: LineDraft[], errors: Collector) {
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
    if ((draft.checks as LineInput).parent_line_id !== undefined) errors.add(`${draft.pointer}/parent_ref`, 'send parent_line_id or parent_ref, not both');
    else if (!parent) errors.add(`${draft.pointer}/parent_ref`, `no line of this request has ref "${parentRef}"`);
    else draft.line = { ...draft.line, parent_line_id: parent.id };
  }
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

function newLine(entry: LineInput | LineOperation, pointer: string, context: WriteContext, currency: string, errors: Collector): LineDraft {
  if (entry.unit_price === undefined) errors.add(`${pointer}/unit_price`, 'a new line needs a unit_price');
  return { line: writeLineFields(blankLine(context.newLineId(), (context.newLineGuid ?? randomUUID)()), entry, pointer, currency, errors), pointer, checks: entry };
}

/** Absent fields keep the base line's value; the base is blank for new lines and PUT. */
function writeLineFields(base: InvoiceLine, entry: LineInput | LineOperation, pointer: string, currency: string, errors: Collector): InvoiceLine {
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
function canonicalPrices(line: InvoiceLine, currency: string): InvoiceLine {
  const price = (value: string) => {
    const decimal = new Dec(value);
    const minor = currencyMinorUnits(currency);
    return decimal.decimalPlaces() < minor ? decimal.toFixed(minor) : formatDecimal(decimal);
  };
  const discount: DiscountValue | null =
    line.discount?.type === 'amount' ? { type: 'amount', value: price(line.discount.value) } : line.discount;
  return { ...line, unit_price: price(line.unit_price), discount };
}

function checkLineStructure(drafts: LineDraft[], maxLines: number) {
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
 * Runs the totals engine over the final lines and checks any figures the client sent. With
 * `base` (the current invoice, same currency, tax mode and rounding mode), only the lines this
 * write touched are computed: untouched lines keep their stored amounts, and the invoice figures
 * are the stored ones minus the old amounts of touched lines plus their new ones — the same sums
 * as a full recompute (test/unit/totals-incremental.test.ts checks it over random edits).
 */
function computeInvoice(next: Invoice, drafts: LineDraft[], input: InvoiceWrite, base: Invoice | null): Invoice {
  const currency = next.currency;
  const computed = drafts.filter((draft) => !(base && draft.untouched));
  const engine = computeTotals({
    currency,
    taxMode: next.tax_mode,
    roundingMode: next.rounding_mode as RoundingMode,
    lines: computed.map(({ line }): TotalsLineInput => ({
      id: line.id,
      quantity: new Dec(line.quantity),
      unitPrice: new Dec(line.unit_price),
      discount: line.discount ? { type: line.discount.type, value: new Dec(line.discount.value) } : null,
      taxRate: line.tax_rate === null ? null : new Dec(line.tax_rate),
    })),
  });
  const amountsOf = new Map<LineDraft, LineAmounts>(computed.map((draft, index) => [draft, engine.lines[index]]));
  const totals = base ? adjustTotals(base, drafts, amountsOf) : engine;
  const money = (value: Dec) => formatAmount(value, currency);
  const mismatches: FieldError[] = [];
  const check = (sent: string | number | undefined, computed: Dec, pointer: string) => {
    if (sent === undefined) return;
    const parsed = parseDecimalInput(sent, priceLimits);
    if ('error' in parsed || !parsed.eq(computed)) {
      mismatches.push({ pointer, detail: `server computes ${money(computed)}`, expected: money(computed) });
    }
  };

  const lines = drafts.map((draft, index): InvoiceLine => {
    const amounts = amountsOf.get(draft);
    if (!amounts) {
      // Untouched (incremental path): same object unless the line moved.
      return draft.line.position === index + 1 ? draft.line : { ...draft.line, position: index + 1 };
    }
    if (draft.pointer) {
      check(draft.checks.net_amount, amounts.netAmount, `${draft.pointer}/net_amount`);
      check(draft.checks.tax_amount, amounts.taxAmount, `${draft.pointer}/tax_amount`);
      check(draft.checks.gross_amount, amounts.grossAmount, `${draft.pointer}/gross_amount`);
      check(draft.checks.total_amount, amounts.grossAmount, `${draft.pointer}/total_amount`);
    }
    return {
      ...draft.line,
      position: index + 1,
      amount_before_discount: money(amounts.amountBeforeDiscount),
      discount_amount: money(amounts.discountAmount),
      net_amount: money(amounts.netAmount),
      tax_amount: money(amounts.taxAmount),
      gross_amount: money(amounts.grossAmount),
    };
  });
  check(input.subtotal, totals.subtotal, '/subtotal');
  check(input.discount_total, totals.discountTotal, '/discount_total');
  check(input.tax_total, totals.taxTotal, '/tax_total');
  check(input.total, totals.total, '/total');
  if (mismatches.length > 0) {
    const first = mismatches[0];
    throw new AppError('total-mismatch', `${first.pointer} differs: ${first.detail}.`, { errors: mismatches });
  }
  if (totals.total.isNegative()) {
    throw new AppError('non-negative-total', `The invoice total would be ${money(totals.total)}; an invoice total cannot be negative (issue a credit note instead).`, {
      errors: [{ pointer: '/lines', detail: 'lines sum to a negative total' }],
    });
  }

  const paid = new Dec(next.amount_paid).plus(next.amount_credited);
  return {
    ...next,
    lines,
    subtotal: money(totals.subtotal),
    discount_total: money(totals.discountTotal),
    tax_total: money(totals.taxTotal),
    total: money(totals.total),
    tax_breakdown: totals.taxBreakdown.map((row) => ({
      tax_rate: formatDecimal(row.rate),
      taxable_amount: money(row.taxableAmount),
      tax_amount: money(row.taxAmount),
    })),
    amount_paid: money(new Dec(next.amount_paid)),
    amount_credited: money(new Dec(next.amount_credited)),
    balance: money(totals.total.minus(paid)),
  };
}

type Figures = Pick<InvoiceTotals, 'subtotal' | 'discountTotal' | 'taxTotal' | 'total' | 'taxBreakdown'>;

/**
 * The invoice figures after a write, from the stored ones: minus the stored amounts of every
 * current line that is not kept untouched, plus the new amounts of the lines that were computed.
 * Breakdown rows follow the rates the final lines use (a rate no line uses any more disappears).
 */
function adjustTotals(base: Invoice, drafts: LineDraft[], amountsOf: Map<LineDraft, LineAmounts>): Figures {
  const kept = new Set<InvoiceLine>();
  for (const draft of drafts) if (draft.untouched) kept.add(draft.line);
  let subtotal = new Dec(base.subtotal);
  let discountTotal = new Dec(base.discount_total);
  let taxTotal = new Dec(base.tax_total);
  const rows = new Map<string, TaxBreakdownRow>();
  for (const row of base.tax_breakdown) {
    const rate = new Dec(row.tax_rate);
    rows.set(rate.toFixed(), { rate, taxableAmount: new Dec(row.taxable_amount), taxAmount: new Dec(row.tax_amount) });
  }
  const rowFor = (taxRate: string | null): TaxBreakdownRow => {
    const rate = taxRate === null ? new Dec(0) : new Dec(taxRate);
    const key = rate.toFixed();
    let row = rows.get(key);
    if (!row) {
      row = { rate, taxableAmount: new Dec(0), taxAmount: new Dec(0) };
      rows.set(key, row);
    }
    return row;
  };
  for (const line of base.lines) {
    if (kept.has(line)) continue;
    const net = new Dec(line.net_amount);
    const tax = new Dec(line.tax_amount);
    subtotal = subtotal.minus(net);
    discountTotal = discountTotal.minus(line.discount_amount);
    taxTotal = taxTotal.minus(tax);
    const row = rowFor(line.tax_rate);
    row.taxableAmount = row.taxableAmount.minus(net);
    row.taxAmount = row.taxAmount.minus(tax);
  }
  for (const draft of drafts) {
    const amounts = amountsOf.get(draft);
    if (!amounts) continue;
    subtotal = subtotal.plus(amounts.netAmount);
    discountTotal = discountTotal.plus(amounts.discountAmount);
    taxTotal = taxTotal.plus(amounts.taxAmount);
    const row = rowFor(draft.line.tax_rate);
    row.taxableAmount = row.taxableAmount.plus(amounts.netAmount);
    row.taxAmount = row.taxAmount.plus(amounts.taxAmount);
  }
  // Rows of the rates the final lines use; the key of a rate string is memoised (few distinct rates).
  const keyOf = new Map<string | null, string>();
  const used = new Set<string>();
  for (const { line } of drafts) {
    let key = keyOf.get(line.tax_rate);
    if (key === undefined) {
      key = (line.tax_rate === null ? new Dec(0) : new Dec(line.tax_rate)).toFixed();
      keyOf.set(line.tax_rate, key);
    }
    used.add(key);
  }
  const taxBreakdown = [...rows.entries()]
    .filter(([key]) => used.has(key))
    .map(([, row]) => row)
    .sort((a, b) => a.rate.comparedTo(b.rate));
  return { subtotal, discountTotal, taxTotal, total: subtotal.plus(taxTotal), taxBreakdown };
}
