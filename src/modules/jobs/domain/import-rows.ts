import { isValidBusinessDate } from '../../../shared/time.js';

/**
 * The CSV mapping of `folio import invoices` and `folio export invoices` (docs/bulk-jobs.md):
 * one row per invoice line; consecutive rows with the same key (number, else reference) are one
 * invoice. Header columns repeat on every row of an invoice (the first row's win).
 */
export const headerColumns = ['number', 'reference', 'currency', 'issue_date', 'due_date', 'customer_id', 'purchase_order', 'memo'] as const;
export const lineColumns = ['line_description', 'line_quantity', 'line_unit', 'line_unit_price', 'line_tax_rate'] as const;
export const csvColumns = [...headerColumns, ...lineColumns] as const;

export type CsvRow = Partial<Record<(typeof csvColumns)[number], string>>;

/** One invoice as read from a file: the write body and where it came from. */
export interface ImportedInvoice {
  /** The number or reference that finds an existing invoice. */
  key: { number: string } | { reference: string };
  body: Record<string, unknown>;
  /** 1-based line of the file where this invoice's first row starts. */
  firstLine: number;
}

export class RowError extends Error {}

const decimalPattern = /^-?\d{1,15}(\.\d{1,10})?$/;

function text(row: CsvRow, column: keyof CsvRow): string | undefined {
  const value = row[column]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function decimal(row: CsvRow, column: keyof CsvRow): string | undefined {
  const value = text(row, column);
  if (value !== undefined && !decimalPattern.test(value)) throw new RowError(`${column} "${value.slice(0, 40)}" is not a decimal number`);
  return value;
}

function date(row: CsvRow, column: keyof CsvRow): string | undefined {
  const value = text(row, column);
  if (value !== undefined && !isValidBusinessDate(value)) throw new RowError(`${column} "${value.slice(0, 40)}" is not a date (YYYY-MM-DD)`);
  return value;
}

/** The key that groups rows into one invoice; a row without number and reference is malformed. */
export function rowKey(row: CsvRow): string {
  const number = text(row, 'number');
  const reference = text(row, 'reference');
  if (number === undefined && reference === undefined) throw new RowError('the row has neither number nor reference');
  return number !== undefined ? `n:${number}` : `r:${reference}`;
}

/** A CSV row's header fields as a write body (checked; throws RowError naming the column). */
export function headerFromRow(row: CsvRow): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const column of ['number', 'reference', 'customer_id', 'purchase_order', 'memo'] as const) {
    const value = text(row, column);
    if (value !== undefined) body[column] = value;
  }
  const currency = text(row, 'currency');
  if (currency !== undefined) {
    if (!/^[A-Z]{3}$/.test(currency)) throw new RowError(`currency "${currency.slice(0, 10)}" is not an ISO 4217 code`);
    body.currency = currency;
  }
  const issueDate = date(row, 'issue_date');
  if (issueDate !== undefined) body.issue_date = issueDate;
  const dueDate = date(row, 'due_date');
  if (dueDate !== undefined) body.due_date = dueDate;
  return body;
}

/** A CSV row's line (undefined when the row has no line columns). */
export function lineFromRow(row: CsvRow): Record<string, unknown> | undefined {
  const line: Record<string, unknown> = {};
  const description = text(row, 'line_description');
  if (description !== undefined) line.description = description;
  const quantity = decimal(row, 'line_quantity');
  if (quantity !== undefined) line.quantity = quantity;
  const unit = text(row, 'line_unit');
  if (unit !== undefined) line.unit = unit;
  const unitPrice = decimal(row, 'line_unit_price');
  if (unitPrice !== undefined) line.unit_price = unitPrice;
  const taxRate = decimal(row, 'line_tax_rate');
  if (taxRate !== undefined) line.tax_rate = taxRate;
  if (Object.keys(line).length === 0) return undefined;
  if (line.unit_price === undefined) throw new RowError('a line needs line_unit_price');
  return line;
}

/** A JSONL record: the API write body, with `number` or `reference` as its key. */
export function invoiceFromJson(record: unknown, lineNumber: number): ImportedInvoice {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) throw new RowError('not a JSON object');
  const body = record as Record<string, unknown>;
  const number = typeof body.number === 'string' && body.number !== '' ? body.number : undefined;
  const reference = typeof body.reference === 'string' && body.reference !== '' ? body.reference : undefined;
  if (number === undefined && reference === undefined) throw new RowError('the record has neither number nor reference');
  return { key: number !== undefined ? { number } : { reference: reference! }, body, firstLine: lineNumber };
}

/** An invoice's lines as CSV rows (export), one row with empty line columns when it has none. */
export function invoiceToRows(invoice: { number: string | null; reference: string | null; currency: string; issue_date: string | null; due_date: string | null; customer_id: string | null; purchase_order: string | null; memo: string | null; lines: { description: string | null; quantity: string; unit: string | null; unit_price: string; tax_rate: string | null }[] }): CsvRow[] {
  const header: CsvRow = {
    number: invoice.number ?? '',
    reference: invoice.reference ?? '',
    currency: invoice.currency,
    issue_date: invoice.issue_date ?? '',
    due_date: invoice.due_date ?? '',
    customer_id: invoice.customer_id ?? '',
    purchase_order: invoice.purchase_order ?? '',
    memo: invoice.memo ?? '',
  };
  if (invoice.lines.length === 0) return [header];
  return invoice.lines.map((line) => ({
    ...header,
    line_description: line.description ?? '',
    line_quantity: line.quantity,
    line_unit: line.unit ?? '',
    line_unit_price: line.unit_price,
    line_tax_rate: line.tax_rate ?? '',
  }));
}
