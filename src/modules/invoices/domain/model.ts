import type { RoundingMode } from '../../../shared/money.js';
import type { TaxMode } from './totals.js';
import type { Metadata } from './metadata.js';
import { plainTextHeaderFieldNames, type PlainTextHeader } from '../../../shared/invoice-fields.js';

/**
 * The invoice as Folio keeps it. Field names are the API's (snake_case) on purpose: the
 * domain state, the response body, the audit diff paths and the history replay all speak
 * the same names, with no mapping layer in between.
 */
export type InvoiceStatus = 'draft' | 'open' | 'paid' | 'void';

export type DiscountValue = { type: 'percent' | 'amount'; value: string };

export interface Address {
  line1?: string | null;
  line2?: string | null;
  city?: string | null;
  region?: string | null;
  postal_code?: string | null;
  country?: string | null;
}

/** The bill-to party as it stands on this invoice (a snapshot, not a live link). */
export interface BillTo {
  name?: string | null;
  email?: string | null;
  phone?: string | null;
  tax_id?: string | null;
  address?: Address | null;
  language?: string | null;
}

export type CustomFieldValue =
  | { type: 'string'; value: string }
  | { type: 'number'; value: string }
  | { type: 'date'; value: string };

export interface PaymentTerms {
  net_days: number;
}

export interface InvoiceLine {
  id: string;
  /** Stable UUID of the line (dialects that key lines by UUID use it). */
  guid: string;
  position: number;
  parent_line_id: string | null;
  description: string | null;
  quantity: string;
  unit: string | null;
  unit_price: string;
  discount: DiscountValue | null;
  tax_rate: string | null;
  tax_code: string | null;
  account_code: string | null;
  item_code: string | null;
  tracking: Record<string, string> | null;
  // Computed by the totals engine, never taken from the client.
  amount_before_discount: string;
  discount_amount: string;
  net_amount: string;
  tax_amount: string;
  gross_amount: string;
}

export interface TaxBreakdownEntry {
  tax_rate: string;
  taxable_amount: string;
  tax_amount: string;
}

/** A file attached to an invoice (metadata; the bytes live in the blob store under sha256). */
export interface AttachmentMeta {
  id: string;
  filename: string;
  /** Decided by sniffing the bytes, never taken from the client. */
  content_type: string;
  size_bytes: number;
  sha256: string;
  created_at: string;
}

/** `reference`, `purchase_order`, … (the plain text header fields): src/shared/invoice-fields.ts. */
export interface Invoice extends PlainTextHeader {
  id: string;
  /** Stable UUID (Stax and Midnight key invoices by it); never changes. */
  guid: string;
  /** Per-tenant integer 1, 2, 3… in creation order (Procountor's and Midnight's integer ids); never changes. */
  serial: number;
  object: 'invoice';
  number: string | null;
  status: InvoiceStatus;
  currency: string;
  exchange_rate: string | null;
  issue_date: string | null;
  due_date: string | null;
  payment_terms: PaymentTerms | null;
  memo: string | null;
  internal_note: string | null;
  /** Arbitrary JSON per key, bounded (domain/metadata.ts). */
  metadata: Metadata;
  custom_fields: Record<string, CustomFieldValue>;
  external_refs: Record<string, string>;
  customer_id: string | null;
  bill_to: BillTo | null;
  tax_mode: TaxMode;
  rounding_mode: RoundingMode;
  lines: InvoiceLine[];
  attachments: AttachmentMeta[];
  subtotal: string;
  discount_total: string;
  tax_total: string;
  total: string;
  tax_breakdown: TaxBreakdownEntry[];
  amount_paid: string;
  amount_credited: string;
  balance: string;
  version: number;
  created_at: string;
  updated_at: string;
  finalized_at: string | null;
  voided_at: string | null;
  /** The invoice this draft corrects (set by POST /revise). */
  revision_of: string | null;
  /** The draft that corrects this invoice; the revision voids this one when finalized. */
  revised_by: string | null;
}

/** Header fields a client may write (create, PATCH, PUT). */
export const writableHeaderFields = [
  'number',
  ...plainTextHeaderFieldNames,
  'currency',
  'exchange_rate',
  'issue_date',
  'due_date',
  'payment_terms',
  'memo',
  'internal_note',
  'metadata',
  'custom_fields',
  'external_refs',
  'customer_id',
  'bill_to',
  'tax_mode',
  'rounding_mode',
] as const;
export type WritableHeaderField = (typeof writableHeaderFields)[number];

/** Line fields a client may write. */
export const writableLineFields = [
  'parent_line_id',
  'description',
  'quantity',
  'unit',
  'unit_price',
  'discount',
  'tax_rate',
  'tax_code',
  'account_code',
  'item_code',
  'tracking',
] as const;
