import type { InvoiceService } from '../invoices/service.js';
import type { InvoiceListQuery } from '../invoices/schemas.js';
import type { JobServiceDeps } from './service.js';

/** Invoices fetched per matching page (the list's own maximum): memory stays bounded for any job size. */
export const matchPageSize = 100;

/**
 * A job's filter is matched through the invoice list use case itself (same filters, same
 * keyset paging), so job filters and list filters cannot drift apart.
 */
export function matchesFromInvoiceList(invoices: InvoiceService): JobServiceDeps['listMatches'] {
  return async (ctx, filter, cursor) => {
    const page = await invoices.list(ctx, { ...filter, limit: matchPageSize, cursor } as InvoiceListQuery);
    return { invoices: page.data, nextCursor: page.next_cursor };
  };
}
