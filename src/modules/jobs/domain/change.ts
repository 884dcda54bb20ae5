import { Dec } from '../../../shared/money.js';
import type { Invoice, InvoiceLine } from '../../invoices/domain/model.js';
import type { InvoiceWriteCommand, LineFields, LineOperationCommand } from '../../invoices/domain/write-command.js';

/**
 * A job's one change, as the domain reads it: the PATCH write body (header fields and line
 * operations) where a line operation may, instead of a line id, carry a selector (`match`) that
 * picks lines on each invoice. `expandChange` turns it into the concrete PATCH command for one
 * invoice; the invoice service applies that command exactly like a single PATCH.
 */
export interface JobChange extends Omit<InvoiceWriteCommand, 'line_operations' | 'lines' | 'reason'> {
  line_operations?: JobLineOperation[];
}

export type JobLineOperation = LineOperationCommand | SelectorLineOperation;

/** Every line that matches gets `set` (update) or is removed (remove). */
export interface SelectorLineOperation {
  op: 'update' | 'remove';
  match: LineSelector;
  set?: LineFields;
}

/** All given criteria must hold. Decimals compare by value ("24" matches "24.00"). */
export interface LineSelector {
  tax_rate?: string | number | null;
  tax_code?: string | null;
  description?: string;
  /** Case-insensitive substring of the description. */
  description_contains?: string;
  item_code?: string | null;
  account_code?: string | null;
}

export const isSelectorOperation = (operation: JobLineOperation): operation is SelectorLineOperation => 'match' in operation;

function sameDecimal(a: string | number | null | undefined, b: string | null): boolean {
  if (a === null || a === undefined || b === null) return (a ?? null) === b;
  return new Dec(a).eq(b);
}

export function lineMatches(line: InvoiceLine, selector: LineSelector): boolean {
  if ('tax_rate' in selector && !sameDecimal(selector.tax_rate, line.tax_rate)) return false;
  if ('tax_code' in selector && selector.tax_code !== line.tax_code) return false;
  if (selector.description !== undefined && selector.description !== line.description) return false;
  if (selector.description_contains !== undefined && !(line.description ?? '').toLowerCase().includes(selector.description_contains.toLowerCase())) return false;
  if ('item_code' in selector && selector.item_code !== line.item_code) return false;
  if ('account_code' in selector && selector.account_code !== line.account_code) return false;
  return true;
}

/** True when a selector names no criterion at all (it would match every line): refused at job creation. */
export const isEmptySelector = (selector: LineSelector) => Object.keys(selector).length === 0;

/**
 * The PATCH command for one invoice: header fields as given, explicit line operations as given,
 * and each selector operation replaced by one concrete operation per matching line (a line
 * matched by several selectors gets their `set`s merged, later wins; a removal wins over updates).
 */
export function expandChange(invoice: Pick<Invoice, 'lines'>, change: JobChange): InvoiceWriteCommand {
  const { line_operations: operations, ...header } = change;
  const command: InvoiceWriteCommand = { ...header };
  if (!operations) return command;
  const concrete: LineOperationCommand[] = [];
  const updates = new Map<string, LineFields>();
  const removals = new Set<string>();
  for (const operation of operations) {
    if (!isSelectorOperation(operation)) {
      concrete.push(operation);
      continue;
    }
    for (const line of invoice.lines) {
      if (!lineMatches(line, operation.match)) continue;
      if (operation.op === 'remove') removals.add(line.id);
      else updates.set(line.id, { ...updates.get(line.id), ...operation.set });
    }
  }
  for (const line of invoice.lines) {
    if (removals.has(line.id)) concrete.push({ op: 'remove', id: line.id });
    else if (updates.has(line.id)) concrete.push({ op: 'update', id: line.id, ...updates.get(line.id) });
  }
  if (concrete.length > 0) command.line_operations = concrete;
  return command;
}
