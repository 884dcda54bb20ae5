import { AppError } from '../../shared/errors.js';
import { Dec } from '../../shared/money.js';
import { isValidBusinessDate } from '../../shared/time.js';
import type { InvoiceStatus } from './domain/model.js';
import type { PaymentStatus } from './domain/payment-status.js';
import type { InvoiceListQuery } from './schemas.js';

/**
 * What a list of invoices may be narrowed and ordered by. Built from the HTTP query by
 * `invoiceListFilterFromQuery`, or directly by other callers (web app, bulk jobs): every field
 * is already parsed and checked, so the store only turns it into SQL.
 */
export interface InvoiceListFilter {
  status?: InvoiceStatus[];
  /** Derived as `payment_status` is shown (domain/payment-status.ts), on the service clock's today. */
  paymentStatus?: PaymentStatus[];
  customerId?: string;
  number?: string;
  numberPrefix?: string;
  reference?: string;
  /** Exact stable identifiers (lower-case guid; per-tenant serial). */
  guid?: string;
  serial?: number;
  currency?: string;
  /** Inclusive business-date bounds (YYYY-MM-DD). */
  issueDate?: DateRange;
  dueDate?: DateRange;
  /** RFC 3339 UTC with milliseconds (as stored); rows updated at or after it. */
  updatedSince?: string;
  /** Inclusive decimal bounds, compared exactly. */
  total?: { min?: string; max?: string };
  /** Case-insensitive text in the memo, a line description or the bill-to (customer) name. */
  text?: string;
  sort?: InvoiceSort;
  /** 1–100; 20 when absent. */
  limit?: number;
  /** A `next_cursor` from a previous page of the same filter and sort. */
  cursor?: string;
}

export interface DateRange {
  from?: string;
  to?: string;
}

/** `created` is the default order (by id, which starts with the creation time). */
export const invoiceSortFields = ['created', 'number', 'issue_date', 'due_date', 'total', 'updated_at'] as const;
export type InvoiceSortField = (typeof invoiceSortFields)[number];

export interface InvoiceSort {
  field: InvoiceSortField;
  descending: boolean;
}

export const defaultInvoiceSort: InvoiceSort = { field: 'created', descending: true };

/** Sort fields that may be null (drafts have no number or dates): their nulls come last in both directions. */
export const nullableSortFields: ReadonlySet<InvoiceSortField> = new Set(['number', 'issue_date', 'due_date']);

export const maxListLimit = 100;
export const maxTextQueryLength = 100;
export const minTextQueryLength = 3;

const invalidQuery = (parameter: string, detail: string) =>
  new AppError('validation-error', `The query parameter "${parameter}" is invalid: ${detail}.`, {
    errors: [{ pointer: `/query/${parameter}`, detail }],
  });

function dateBound(parameter: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!isValidBusinessDate(value)) throw invalidQuery(parameter, 'not a calendar date (YYYY-MM-DD)');
  return value;
}

function dateRange(name: string, from: string | undefined, to: string | undefined): DateRange | undefined {
  const range = { from: dateBound(`${name}_from`, from), to: dateBound(`${name}_to`, to) };
  if (range.from === undefined && range.to === undefined) return undefined;
  if (range.from !== undefined && range.to !== undefined && range.from > range.to) {
    throw invalidQuery(`${name}_to`, `before ${name}_from`);
  }
  return range;
}

function decimalBound(parameter: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed = new Dec(value);
    if (!parsed.isFinite()) throw new Error('not finite');
    return parsed.toFixed();
  } catch {
    throw invalidQuery(parameter, 'not a decimal number');
  }
}

const commaList = <T extends string>(value: string | undefined): T[] | undefined =>
  value === undefined ? undefined : [...new Set(value.split(','))] as T[];

function parseSort(value: string | undefined): InvoiceSort {
  if (value === undefined) return defaultInvoiceSort;
  const descending = value.startsWith('-');
  const field = (descending ? value.slice(1) : value) as InvoiceSortField;
  if (!invoiceSortFields.includes(field)) throw invalidQuery('sort', `one of ${invoiceSortFields.join(', ')}, with "-" for descending`);
  return { field, descending };
}

/** The HTTP query (already shape-checked by its schema) as a filter; value checks a pattern cannot make. */
export function invoiceListFilterFromQuery(query: InvoiceListQuery): InvoiceListFilter {
  const filter: InvoiceListFilter = {
    status: commaList<InvoiceStatus>(query.status),
    paymentStatus: commaList<PaymentStatus>(query.payment_status),
    customerId: query.customer_id,
    number: query.number,
    numberPrefix: query.number_prefix,
    reference: query.reference,
    guid: query.guid?.toLowerCase(),
    serial: query.serial,
    currency: query.currency,
    issueDate: dateRange('issue_date', query.issue_date_from, query.issue_date_to),
    dueDate: dateRange('due_date', query.due_date_from, query.due_date_to),
    updatedSince: query.updated_since === undefined ? undefined : new Date(query.updated_since).toISOString(),
    text: query.q?.trim(),
    sort: parseSort(query.sort),
    limit: query.limit,
    cursor: query.cursor,
  };
  const totalMin = decimalBound('total_min', query.total_min);
  const totalMax = decimalBound('total_max', query.total_max);
  if (totalMin !== undefined || totalMax !== undefined) {
    if (totalMin !== undefined && totalMax !== undefined && new Dec(totalMin).gt(totalMax)) throw invalidQuery('total_max', 'below total_min');
    filter.total = { min: totalMin, max: totalMax };
  }
  if (filter.text !== undefined && filter.text.length < minTextQueryLength) {
    throw invalidQuery('q', `at least ${minTextQueryLength} characters`);
  }
  return filter;
}

/** Position after the last row of a page: the sort it belongs to, that row's sort value (null in the nulls section) and id. */
export interface ListCursor {
  sort: string;
  value: string | null;
  id: string;
}

const sortName = (sort: InvoiceSort) => `${sort.descending ? '-' : ''}${sort.field}`;

/** Opaque to clients: base64url of JSON. */
export function encodeListCursor(sort: InvoiceSort, value: string | null, id: string): string {
  return Buffer.from(JSON.stringify([sortName(sort), value, id]), 'utf8').toString('base64url');
}

export const invoiceIdPattern = /^inv_[0-9a-z]{1,40}$/;

const badCursor = () => invalidQuery('cursor', 'not a cursor this API returned for this sort');

/** A cursor from another sort, or one edited by hand, is a 400 (not a silently wrong page). */
export function decodeListCursor(cursor: string | undefined, sort: InvoiceSort): ListCursor | undefined {
  if (cursor === undefined) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  // Cursors from before sorting existed (base64url of the last id) still page the default order.
  if (invoiceIdPattern.test(text) && sortName(sort) === sortName(defaultInvoiceSort)) return { sort: sortName(sort), value: '', id: text };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badCursor();
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw badCursor();
  const [name, value, id] = parsed as unknown[];
  if (name !== sortName(sort)) throw badCursor();
  if (typeof id !== 'string' || !invoiceIdPattern.test(id)) throw badCursor();
  if (value === null ? !nullableSortFields.has(sort.field) : !validSortValue(sort.field, value)) throw badCursor();
  return { sort: name, value: value as string | null, id };
}

function validSortValue(field: InvoiceSortField, value: unknown): boolean {
  if (typeof value !== 'string' || value.length > 64) return false;
  switch (field) {
    case 'created':
      return value === '';
    case 'issue_date':
    case 'due_date':
      return isValidBusinessDate(value);
    case 'updated_at':
      return !Number.isNaN(Date.parse(value)) && /^\d{4}-\d{2}-\d{2}T[0-9:.]+Z$/.test(value);
    case 'total':
      return /^-?\d+(\.\d+)?$/.test(value);
    case 'number':
      return value.length > 0;
  }
}
