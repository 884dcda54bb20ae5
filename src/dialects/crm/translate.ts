import { blankPlainTextHeader } from '../../shared/invoice-fields.js';
import { AppError, type FieldError } from '../../shared/errors.js';
import { parseDecimalInput } from '../../shared/money.js';
import type { CustomFieldValue, Invoice, InvoiceLine } from '../../modules/invoices/domain/model.js';
import type { InvoiceWrite, LineOperation } from '../../modules/invoices/schemas.js';
import type { InvoiceKey } from '../../modules/invoices/domain/lookup.js';
import { FieldPaths } from '../field-paths.js';
import {
  udfDateFields,
  udfFloatFields,
  udfStringFields,
  type CrmInvoiceIdentifier,
  type CrmInvoiceCreateRequest,
  type CrmInvoiceItem,
} from './schemas.js';

/**
 * CRM.COM ⇄ Folio, pure (docs/dialects/crm.md has the table):
 *  - `invoiceIdentifierOf`: exactly one of id | number | reference_number;
 *  - `toWriteCommand`: an invoices/update request → the core's PATCH write (items → line operations);
 *  - `toCrmInvoice`: an invoice → CRM.COM's invoice object, narrowed by `fields_set`;
 *  - `toCrmError`: a core problem → CRM.COM's envelope with a 4xx status.
 */

export type InvoiceLookup = { key: InvoiceKey; field: keyof CrmInvoiceIdentifier };

const identifierFields = ['id', 'number', 'reference_number'] as const;

export function invoiceIdentifierOf(identifier: CrmInvoiceIdentifier | Record<string, unknown>): InvoiceLookup {
  const given = identifierFields.filter((field) => (identifier as Record<string, unknown>)[field] !== undefined);
  if (given.length !== 1) {
    throw new AppError('validation-error', `invoice_identifier must name exactly one of id, number or reference_number (${given.length === 0 ? 'none was given' : `got ${given.join(' and ')}`}).`, {
      errors: [{ pointer: '/invoice_identifier', detail: 'exactly one of id, number, reference_number' }],
    });
  }
  const field = given[0];
  const value = String((identifier as Record<string, unknown>)[field]);
  const key: InvoiceKey = field === 'id' ? { id: value } : field === 'number' ? { number: value } : { reference: value };
  return { key, field };
}

/** `invoice_identifier=number=INV-1` as CRM.COM's GET methods write it. */
export function invoiceIdentifierFromQuery(text: string): InvoiceLookup {
  const at = text.indexOf('=');
  const field = at > 0 ? text.slice(0, at) : '';
  if (!(identifierFields as readonly string[]).includes(field) || at === text.length - 1) {
    throw new AppError('validation-error', 'invoice_identifier must be written id=…, number=… or reference_number=….', {
      errors: [{ pointer: '/query/invoice_identifier', detail: 'id=…, number=… or reference_number=…' }],
    });
  }
  return invoiceIdentifierOf({ [field]: text.slice(at + 1) });
}

export interface CrmWrite {
  write: InvoiceWrite;
  paths: FieldPaths;
}

const present = <T>(value: T | null | undefined): value is T => value !== null && value !== undefined;
const dateOf = (value: string) => value.slice(0, 10);
const refuse = (pointer: string, detail: string) => new AppError('validation-error', `${pointer.slice(1).replace(/\//g, '.')}: ${detail}.`, { errors: [{ pointer, detail }] });

/** What the translation reads of the invoice it changes. */
export type ChangedInvoice = Pick<Invoice, 'lines' | 'metadata' | 'currency'>;

/** CRM.COM identifiers with no Folio counterpart, kept verbatim under `metadata.crm` and answered back. */
const keptIdentifiers = ['type_identifier', 'category_identifier', 'member_accounts_receivable_identifier'] as const;

function keptIdentifiersOf(request: CrmInvoiceCreateRequest, current: ChangedInvoice): Record<string, unknown> | undefined {
  const sent = Object.fromEntries(keptIdentifiers.filter((name) => request[name] !== undefined).map((name) => [name, request[name]]));
  if (Object.keys(sent).length === 0) return undefined;
  return { ...keptOf(current), ...sent };
}

const keptOf = (invoice: Pick<Invoice, 'metadata'>): Record<string, unknown> => {
  const kept = invoice.metadata.crm;
  return kept !== null && typeof kept === 'object' && !Array.isArray(kept) ? (kept as Record<string, unknown>) : {};
};

/**
 * invoices/create: the same fields as an update without the identifier; `intended_currency_identifier`
 * sets the new invoice's currency; items may only be added.
 */
export function toCreateCommand(request: CrmInvoiceCreateRequest): CrmWrite {
  (request.invoice_item_set ?? []).forEach((item, index) => {
    if (item.action.toLowerCase() !== 'add') throw refuse(`/invoice_item_set/${index}/action`, 'a new invoice has no items to update or remove; use add');
  });
  const currency = request.intended_currency_identifier?.code ?? request.intended_currency_identifier?.id;
  const { write, paths } = toWriteCommand({ ...request, intended_currency_identifier: undefined }, { lines: [], metadata: {}, currency: currency ?? '' });
  if (currency !== undefined) {
    write.currency = currency;
    paths.set('/currency', 'intended_currency_identifier.code');
  }
  return { write, paths };
}

export function toWriteCommand(request: CrmInvoiceCreateRequest, current: ChangedInvoice): CrmWrite {
  const paths = new FieldPaths();
  const write: InvoiceWrite = {};

  const kept = keptIdentifiersOf(request, current);
  if (kept) {
    write.metadata = { crm: kept };
    paths.set('/metadata/crm', 'type_identifier');
  }
  const currency = request.intended_currency_identifier;
  if (currency !== undefined) {
    const code = currency.code ?? currency.id;
    if (code !== current.currency) throw refuse('/intended_currency_identifier', `the invoice's currency is ${current.currency}`);
  }
  const receivable = request.accounts_receivable_identifier;
  if (receivable !== undefined) {
    if (receivable.id === undefined) throw refuse('/accounts_receivable_identifier', 'identify the accounts receivable by id (a Folio customer id)');
    write.customer_id = receivable.id;
    paths.set('/customer_id', 'accounts_receivable_identifier.id');
  }

  if (request.due_on !== undefined) {
    write.due_date = request.due_on === null ? null : dateOf(request.due_on);
    paths.set('/due_date', 'due_on');
  }
  if (request.notes !== undefined) {
    write.memo = request.notes;
    paths.set('/memo', 'notes');
  }
  if (request.back_office_code !== undefined) {
    write.external_refs = { back_office_code: request.back_office_code };
    paths.set('/external_refs/back_office_code', 'back_office_code');
  }

  const customFields = udfsOf(request, paths);
  if (customFields) write.custom_fields = customFields;

  const items = request.invoice_item_set ?? [];
  if (items.length > 0) write.line_operations = items.map((item, index) => lineOperationOf(item, index, current, paths));
  return { write, paths };
}

/** udf_string_N → a string custom field, udf_float_N → a number, udf_date_N → a date; null removes it. */
function udfsOf(request: CrmInvoiceCreateRequest, paths: FieldPaths): InvoiceWrite['custom_fields'] | undefined {
  const fields: Record<string, CustomFieldValue | null> = {};
  const typed = [
    [udfStringFields, 'string'],
    [udfFloatFields, 'number'],
    [udfDateFields, 'date'],
  ] as const;
  for (const [names, type] of typed) {
    for (const name of names) {
      const value = (request as Record<string, unknown>)[name] as string | number | null | undefined;
      if (value === undefined) continue;
      paths.set(`/custom_fields/${name}`, name);
      if (value === null) fields[name] = null;
      else if (type === 'date') fields[name] = { type, value: dateOf(String(value)) };
      else fields[name] = { type, value: String(value) } as CustomFieldValue;
    }
  }
  return Object.keys(fields).length > 0 ? (fields as InvoiceWrite['custom_fields']) : undefined;
}

function lineOperationOf(item: CrmInvoiceItem, index: number, current: ChangedInvoice, paths: FieldPaths): LineOperation {
  const name = `invoice_item_set[${index}]`;
  const at = `/line_operations/${index}`;
  const action = item.action.toLowerCase() as 'add' | 'update' | 'remove';
  paths
    .set(at, name)
    .set(`${at}/id`, `${name}.invoice_item_identifier.id`)
    .set(`${at}/quantity`, `${name}.quantity`)
    .set(`${at}/unit_price`, `${name}.${present(item.sub_total) ? 'sub_total' : 'cost'}`)
    .set(`${at}/item_code`, `${name}.product_identifier.code`)
    .set(`${at}/description`, `${name}.product_identifier.name`)
    .set(`${at}/discount`, `${name}.${present(item.discount_amount) ? 'discount_amount' : 'discount_percentage'}`);

  if (action === 'add') {
    if (item.invoice_item_identifier !== undefined) throw refuse(`/invoice_item_set/${index}/invoice_item_identifier`, 'an added item gets its id from Folio; omit invoice_item_identifier');
    if (item.product_identifier === undefined) throw refuse(`/invoice_item_set/${index}/product_identifier`, 'is mandatory on add');
    if (!present(item.quantity)) throw refuse(`/invoice_item_set/${index}/quantity`, 'is mandatory on add');
  } else if (item.invoice_item_identifier === undefined) {
    throw refuse(`/invoice_item_set/${index}/invoice_item_identifier`, `is mandatory on ${action}`);
  }
  const id = item.invoice_item_identifier?.id;
  if (action === 'remove') return { op: 'remove', id };

  const operation: LineOperation = action === 'add' ? { op: 'add' } : { op: 'update', id };
  if (present(item.quantity)) operation.quantity = item.quantity;
  const product = item.product_identifier;
  if (product) {
    const code = product.code ?? product.id;
    if (code !== undefined) operation.item_code = code;
    if (product.name !== undefined) operation.description = product.name;
  }
  if (present(item.cost) && present(item.sub_total)) throw refuse(`/invoice_item_set/${index}/sub_total`, 'cannot be given together with cost');
  if (present(item.cost)) operation.unit_price = item.cost;
  else if (present(item.sub_total)) {
    const existing = current.lines.find((line) => line.id === id);
    operation.unit_price = unitPriceFromSubTotal(item.sub_total, item.quantity ?? existing?.quantity ?? '1', index);
  } else if (action === 'add') throw refuse(`/invoice_item_set/${index}/cost`, 'give cost or sub_total on add');
  if (present(item.discount_percentage) && present(item.discount_amount)) {
    throw refuse(`/invoice_item_set/${index}/discount_amount`, 'cannot be given together with discount_percentage');
  }
  if (present(item.discount_percentage)) operation.discount = { type: 'percent', value: item.discount_percentage };
  if (present(item.discount_amount)) operation.discount = { type: 'amount', value: item.discount_amount };
  return operation;
}

/** sub_total is the item's amount before tax: the unit price is sub_total / quantity, when that is exact. */
function unitPriceFromSubTotal(subTotal: string | number, quantity: string | number, index: number): string {
  const total = parseDecimalInput(subTotal);
  const count = parseDecimalInput(quantity);
  const pointer = `/invoice_item_set/${index}/sub_total`;
  if ('error' in total) throw refuse(pointer, total.error);
  if ('error' in count || count.isZero()) throw refuse(pointer, 'needs a quantity other than 0');
  const price = total.div(count);
  if (price.decimalPlaces() > 10) throw refuse(pointer, `${total.toFixed()} / ${count.toFixed()} is not an exact unit price; send cost instead`);
  return price.toFixed();
}

// ---------- invoice → CRM.COM ----------

/** Folio status → CRM.COM life cycle state (REJECTED has no Folio counterpart and is never answered). */
export const lifeCycleStates: Record<Invoice['status'], string> = { draft: 'DRAFT', open: 'POSTED', paid: 'POSTED', void: 'CANCELLED' };

const number = (value: string) => Number(value);
const customValue = (invoice: Invoice, name: string, type: CustomFieldValue['type']) => {
  const field = invoice.custom_fields[name];
  if (!field || field.type !== type) return null;
  return type === 'number' ? Number(field.value) : field.value;
};

function itemOf(line: InvoiceLine) {
  return {
    id: line.id,
    product: { code: line.item_code, name: line.description },
    quantity: number(line.quantity),
    cost: number(line.unit_price),
    discount_percentage: line.discount?.type === 'percent' ? number(line.discount.value) : null,
    discount_amount: number(line.discount_amount),
    sub_total: number(line.net_amount),
    net_amount: number(line.net_amount),
    tax_amount: number(line.tax_amount),
    vat_amount: number(line.tax_amount),
    total_amount: number(line.gross_amount),
  };
}

/** Every field of CRM.COM's invoice object, in its order (fields_set picks among these). */
function crmInvoiceFields(invoice: Invoice): Record<string, unknown> {
  return {
    id: invoice.id,
    number: invoice.number,
    reference_number: invoice.reference,
    life_cycle_state: lifeCycleStates[invoice.status],
    discount_amount: number(invoice.discount_total),
    vat_amount: number(invoice.tax_total),
    tax_amount: number(invoice.tax_total),
    net_amount: number(invoice.subtotal),
    total_amount: number(invoice.total),
    outstanding_amount: number(invoice.balance),
    unsettled_amount: number(invoice.balance),
    issued_on: invoice.issue_date,
    posted_on: invoice.finalized_at === null ? null : invoice.finalized_at.slice(0, 10),
    due_on: invoice.due_date,
    notes: invoice.memo,
    back_office_code: invoice.external_refs.back_office_code ?? null,
    ...Object.fromEntries(udfStringFields.map((name) => [name, customValue(invoice, name, 'string')])),
    ...Object.fromEntries(udfFloatFields.map((name) => [name, customValue(invoice, name, 'number')])),
    ...Object.fromEntries(udfDateFields.map((name) => [name, customValue(invoice, name, 'date')])),
    accounts_receivable: invoice.customer_id === null ? null : { id: invoice.customer_id, name: invoice.bill_to?.name ?? null },
    member_account: keptOf(invoice).member_accounts_receivable_identifier ?? null,
    type: keptOf(invoice).type_identifier ?? null,
    category: keptOf(invoice).category_identifier ?? null,
    rejection_reason: null,
    accounting_period_information: null,
    currency_rate_period: null,
    currency: invoice.currency,
    log_information: { created_date: invoice.created_at, updated_date: invoice.updated_at },
    invoice_item_set: invoice.lines.map(itemOf),
  };
}

export const crmInvoiceFieldNames = Object.keys(crmInvoiceFields({
  id: '', object: 'invoice', number: null, ...blankPlainTextHeader(), status: 'draft', currency: 'EUR', exchange_rate: null,
  issue_date: null, due_date: null, payment_terms: null, memo: null, internal_note: null, metadata: {}, custom_fields: {}, external_refs: {},
  guid: '', serial: 0, customer_id: null, bill_to: null, tax_mode: 'exclusive', rounding_mode: 'half_up', lines: [], attachments: [], subtotal: '0',
  discount_total: '0', tax_total: '0', total: '0', tax_breakdown: [], amount_paid: '0', amount_credited: '0', balance: '0', version: 1,
  created_at: '', updated_at: '', finalized_at: null, voided_at: null, revision_of: null, revised_by: null,
}));

/** `fields_set: "id,notes"` → ["id", "notes"]; an unknown name is a 400 (checked before anything is written). */
export function parseFieldsSet(raw: string | null | undefined, pointer = '/fields_set'): string[] | null {
  if (raw === undefined || raw === null) return null;
  const names = raw.split(',').map((name) => name.trim()).filter((name) => name.length > 0);
  if (names.length === 0) return null;
  const unknown = names.filter((name) => !crmInvoiceFieldNames.includes(name));
  if (unknown.length > 0) throw refuse(pointer, `unknown field(s) ${unknown.map((name) => `"${name}"`).join(', ')}`);
  return names;
}

export function toCrmInvoice(invoice: Invoice, fields: string[] | null): Record<string, unknown> {
  const all = crmInvoiceFields(invoice);
  if (!fields) return all;
  return Object.fromEntries(fields.map((name) => [name, all[name]]));
}

export const crmSuccess = (data: Record<string, unknown>) => ({ status: { code: 'OK', message: '', description: '' }, data });

// ---------- core problem → CRM.COM ----------

const crmCodes: Record<string, string> = {
  unauthorized: 'INVALID_TOKEN',
  forbidden: 'INSUFFICIENT_PRIVILEGES',
  'not-found': 'INVOICE_NOT_FOUND',
  'validation-error': 'INVALID_PARAMETERS',
  'malformed-request': 'INVALID_REQUEST',
  'invalid-reference': 'INVALID_IDENTIFIER',
  'total-mismatch': 'AMOUNTS_MISMATCH',
  'status-precondition': 'INVOICE_NOT_IN_DRAFT_STATE',
};

export interface CrmError {
  status: number;
  body: { status: { code: string; message: string; description: string }; data: null };
}

/** A refusal keeps its 4xx status (never 200 with an error inside) and names CRM.COM's fields. */
export function toCrmError(error: AppError, paths: FieldPaths = new FieldPaths()): CrmError {
  const fieldErrors = paths.rewriteErrors(error.errors);
  const code = (error.extensions.crm_code as string | undefined) ?? crmCodes[error.problemType] ?? error.problemType.toUpperCase().replace(/-/g, '_');
  if (error.problemType === 'status-precondition') {
    const state = lifeCycleStates[error.extensions.status_now as Invoice['status']] ?? String(error.extensions.status_now);
    const description = `Only invoices in DRAFT life cycle state can be updated; this invoice is ${state}. Nothing was changed.`;
    return { status: error.status, body: { status: { code, message: error.toProblem().title, description }, data: null } };
  }
  const details = fieldErrors.map((fieldError: FieldError & { field: string }) => `${fieldError.field.replace(/^\//, '').replace(/\//g, '.')}: ${fieldError.detail}`);
  const message = paths.rewriteText(error.message);
  const fieldsNamed = fieldErrors.every((fieldError) => message.includes(fieldError.field.replace(/^\//, '').replace(/\//g, '.')));
  const description = fieldsNamed ? message : [message, ...details.map((detail) => `${detail}.`)].join(' ');
  return { status: error.status, body: { status: { code, message: error.toProblem().title, description }, data: null } };
}
