import { AppError } from '../../shared/errors.js';
import { decodeListCursor, invoiceIdPattern, invoiceListFilterFromQuery, type InvoiceListFilter } from '../invoices/list-filter.js';
import type { InvoiceListQuery } from '../invoices/schemas.js';
import type { InvoiceService } from '../invoices/service.js';
import type { JobFilter, JobServiceDeps } from './service.js';

/** Invoice ids fetched per matching page: memory stays bounded for any job size. */
export const matchPageSize = 1000;

/**
 * A job's filter is the list query (the same names as GET /v1/invoices), read by the list's own
 * parser into its InvoiceListFilter, and matched by the list store's own conditions (oldest first,
 * keyset on the id), so job filters and list filters cannot drift apart. Only ids are read: a
 * page of whole invoices (lines and all) made matching a million invoices take hours.
 */
export function jobListFilter(filter: JobFilter): InvoiceListFilter {
  try {
    return invoiceListFilterFromQuery({ ...(filter as InvoiceListQuery), sort: 'created' });
  } catch (error) {
    // The list names query parameters (/query/x); a job names its body (/filter/x).
    if (error instanceof AppError && error.errors) {
      throw new AppError(error.problemType, error.message.replace('query parameter', 'filter field'), {
        errors: error.errors.map((fieldError) => ({ ...fieldError, pointer: fieldError.pointer.replace(/^\/query\//, '/filter/') })),
      });
    }
    throw error;
  }
}

/**
 * The saved matching cursor is the last matched id. A job saved mid-matching by a version that
 * paged whole invoices holds a list cursor (base64url JSON, `created` order) instead: its id is
 * where that job resumes.
 */
export function afterIdOf(cursor: string | undefined): string | undefined {
  if (cursor === undefined || invoiceIdPattern.test(cursor)) return cursor;
  return decodeListCursor(cursor, { field: 'created', descending: false })?.id;
}

export function matchesFromInvoiceList(invoices: InvoiceService): JobServiceDeps['listMatches'] {
  return async (ctx, filter, cursor) => {
    const ids = await invoices.listIds(ctx, jobListFilter(filter), afterIdOf(cursor), matchPageSize);
    return { ids, nextCursor: ids.length === matchPageSize ? ids[ids.length - 1] : null };
  };
}
