import type { PlainTextHeader } from '../../../shared/invoice-fields.js';
import type { BillTo, PaymentTerms, WritableHeaderField } from './model.js';

/**
 * One client write to an invoice (create, PATCH or PUT), as the domain reads it: what
 * applyInvoiceWrite takes and what the invoice service's create/update accept. The native API
 * builds it from the request body (schemas.ts checks at compile time that its body type fits,
 * field for field); seed dialects, the web app and bulk jobs build it from their own inputs.
 *
 * Meaning of a field: absent = unchanged on PATCH, reset on PUT; null = cleared. Shapes and
 * limits (lengths, counts, patterns) are enforced where the input is parsed (the TypeBox
 * schema for the API); the domain re-checks every rule that money and dates depend on.
 */
/** `reference`, `purchase_order`, … (plain text, null clears): src/shared/invoice-fields.ts. */
export interface InvoiceWriteCommand extends Partial<PlainTextHeader> {
  number?: string | null;
  /** ISO 4217 code. */
  currency?: string;
  exchange_rate?: DecimalInput | null;
  /** YYYY-MM-DD. */
  issue_date?: string | null;
  due_date?: string | null;
  payment_terms?: PaymentTerms | null;
  memo?: string | null;
  internal_note?: string | null;
  /** Any JSON per key, merged at the top level (null removes a key); null clears the map (metadata.ts). */
  metadata?: Record<string, unknown> | null;
  custom_fields?: Record<string, CustomFieldInput | null> | null;
  external_refs?: StringMapPatch | null;
  customer_id?: string | null;
  /** Merged over the snapshot (or the linked customer's); null clears it. */
  bill_to?: BillTo | null;
  tax_mode?: 'exclusive' | 'inclusive';
  rounding_mode?: 'half_up' | 'half_even' | 'half_down' | 'up' | 'down';
  /** The full desired set of lines (with id: that line updated; without: added). */
  lines?: LineWriteCommand[];
  /** Or edits against the current lines. Never both. */
  line_operations?: LineOperationCommand[];
  /** Figures the client computed: cross-checked (422 total-mismatch), never trusted. */
  subtotal?: DecimalInput;
  discount_total?: DecimalInput;
  tax_total?: DecimalInput;
  total?: DecimalInput;
  /** Why the change was made; kept in the history. */
  reason?: string;
}

/** create: on a blank invoice; patch: absent fields unchanged; put: absent fields reset. */
export type WriteMode = 'create' | 'patch' | 'put';

/** A decimal as a string ("12.50") or a number read exactly (never as a float). */
export type DecimalInput = string | number;

export type StringMapPatch = Record<string, string | null>;

export type CustomFieldInput =
  | { type: 'string'; value: string }
  | { type: 'number'; value: DecimalInput }
  | { type: 'date'; value: string };

/** The fields a line write may set; the amounts are computed, the *_amount fields only cross-checked. */
export interface LineFields {
  parent_line_id?: string | null;
  /** A request-local name another line of the same request can give as its `parent_ref`. */
  ref?: string;
  /** Groups this line under the line of this request whose `ref` it names (a new parent has no id yet). */
  parent_ref?: string;
  description?: string | null;
  quantity?: DecimalInput;
  unit?: string | null;
  unit_price?: DecimalInput;
  discount?: { type: 'percent' | 'amount'; value: DecimalInput } | null;
  tax_rate?: DecimalInput | null;
  tax_code?: string | null;
  account_code?: string | null;
  item_code?: string | null;
  tracking?: Record<string, string> | null;
  net_amount?: DecimalInput;
  tax_amount?: DecimalInput;
  gross_amount?: DecimalInput;
  total_amount?: DecimalInput;
}

export interface LineWriteCommand extends LineFields {
  id?: string;
}

export interface LineOperationCommand extends LineFields {
  op: 'add' | 'update' | 'remove';
  id?: string;
  /** 1-based place in the line list. */
  position?: number;
}

/** `Assert<Fits<A, B>>` is a compile error unless A fits B. */
export type Assert<T extends true> = T;

/**
 * Compile-time guard that an input type (e.g. a route's body schema) and a command type have
 * the same fields and that the input fits the command: `true` or a type error naming the gap.
 */
export type Fits<Input extends Command, Command> = [Exclude<keyof Input, keyof Command>, Exclude<keyof Command, keyof Input>] extends [never, never]
  ? true
  : { missingFromCommand: Exclude<keyof Input, keyof Command>; missingFromInput: Exclude<keyof Command, keyof Input> };

/** The command's header fields are exactly model.ts's writableHeaderFields (editability lists those). */
type CommandHeaderField = Exclude<keyof InvoiceWriteCommand, 'lines' | 'line_operations' | 'subtotal' | 'discount_total' | 'tax_total' | 'total' | 'reason'>;
export type HeaderFieldsListed = Assert<Fits<Record<CommandHeaderField, true>, Record<WritableHeaderField, true>>>;
