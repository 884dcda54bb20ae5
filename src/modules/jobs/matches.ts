import { AppError } from '../../shared/errors.js';
import { invoiceListFilterFromQuery, type InvoiceListFilter } from '../invoices/list-filter.js';
import type { InvoiceListQuery } from '../invoices/schemas.js';
import type { InvoiceService } from '../invoices/service.js';
import type { JobFilter, JobServiceDeps } from './service.js';

/** Invoices fetched per matching page (the list's own maximum): memory stays bounded for any job size. */
export const matchPageSize = 100;

/**
 * A job's filter is the list query (the same names as GET /v1/invoices), read by the list's own
 * parser into its InvoiceListFilter, and matched through the invoice list use case (same filters,
 * same keyset paging, oldest first), so job filters and list filters cannot drift apart.
 */
export function jobListFilter(filter: JobFilter, cursor?: string): InvoiceListFilter {
  try {
    return invoiceListFilterFromQuery({ ...(filter as InvoiceListQuery), sort: 'created', limit: matchPageSize, cursor });
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

export function matchesFromInvoiceList(invoices: InvoiceService): JobServiceDeps['listMatches'] {
  return async (ctx, filter, cursor) => {
    const page = await invoices.list(ctx, jobListFilter(filter, cursor));
    return { invoices: page.data, nextCursor: page.next_cursor };
  };
}
