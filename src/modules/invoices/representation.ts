import type { Representation } from '../../core/representation.js';
import { InvoiceSchema } from './schemas.js';

/**
 * Invoice resources in JSON or XML, with ?fields=. Any route answering with one invoice opts in
 * with `config: { …, representation: invoiceRepresentation }`; a list route ({ data: [...] })
 * with `invoiceListRepresentation`.
 */
export const invoiceRepresentation: Representation = { schema: InvoiceSchema, xmlRoot: 'invoice' };
export const invoiceListRepresentation: Representation = { schema: InvoiceSchema, xmlRoot: 'invoice', listXmlRoot: 'invoice_list' };
