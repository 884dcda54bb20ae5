import { mergeMetadata } from '../metadata.js';
import { customFieldTypeError } from '../custom-fields.js';
import { formatDecimal, isCurrencyCode } from '../../../../shared/money.js';
import { addDays, isValidBusinessDate } from '../../../../shared/time.js';
import type { BillTo, CustomFieldValue, Invoice } from '../model.js';
import type { InvoiceWriteCommand } from '../write-command.js';
import { plainTextHeaderFieldNames } from '../../../../shared/invoice-fields.js';
import { reservedKeys, type Collector } from './field-errors.js';

/**
 * Step 1 of a write: the header fields (everything but lines and figures) merged into the
 * current invoice. Plain fields: absent = unchanged (PATCH) or reset (PUT); null = cleared.
 * Maps merge key by key; (re)linking a customer refreshes the bill-to snapshot; the due date
 * follows the payment terms. Field errors go to `errors` (the caller throws them together).
 */
export function mergeHeader(current: Invoice, input: InvoiceWriteCommand, replaceAll: boolean, linkedCustomer: BillTo | undefined, errors: Collector): Invoice {
  const next: Invoice = { ...current };
  const pick = <K extends keyof Invoice>(key: K, value: Invoice[K] | undefined, reset: Invoice[K]) => {
    if (value !== undefined) next[key] = value;
    else if (replaceAll) next[key] = reset;
  };
  pick('number', emptyToNull(input.number), null);
  for (const field of plainTextHeaderFieldNames) pick(field, input[field], null);
  pick('memo', input.memo, null);
  pick('internal_note', input.internal_note, null);
  pick('issue_date', input.issue_date, null);
  pick('due_date', input.due_date, null);
  pick('payment_terms', input.payment_terms, null);
  pick('tax_mode', input.tax_mode, 'exclusive');
  pick('rounding_mode', input.rounding_mode, 'half_up');

  if (input.currency !== undefined) {
    if (!isCurrencyCode(input.currency)) errors.add('/currency', `"${input.currency}" is not an ISO 4217 currency code`);
    else next.currency = input.currency;
  }
  if (input.exchange_rate !== undefined || replaceAll) {
    if (input.exchange_rate === null || input.exchange_rate === undefined) next.exchange_rate = null;
    else {
      const rate = errors.decimal(input.exchange_rate, '/exchange_rate', { maxIntegerDigits: 12, maxFractionDigits: 10 });
      if (rate?.lte(0)) errors.add('/exchange_rate', 'must be greater than 0');
      else if (rate) next.exchange_rate = formatDecimal(rate);
    }
  }
  for (const field of ['issue_date', 'due_date'] as const) {
    const value = input[field];
    if (typeof value === 'string' && !isValidBusinessDate(value)) errors.add(`/${field}`, 'is not a real calendar date between 1900 and 2999');
  }

  next.metadata = mergeMetadata(current.metadata, input.metadata, replaceAll, errors.errors);
  next.external_refs = mergeMap(current.external_refs, input.external_refs, replaceAll, '/external_refs', errors, 20);
  next.custom_fields = mergeCustomFields(current.custom_fields, input.custom_fields, replaceAll, errors);

  // Customer link: (re)linking refreshes the snapshot; bill_to fields sent alongside win.
  if (input.customer_id !== undefined) next.customer_id = input.customer_id;
  else if (replaceAll) next.customer_id = null;
  let billTo: BillTo | null = replaceAll ? null : current.bill_to;
  if (linkedCustomer) billTo = { ...linkedCustomer };
  if (input.bill_to === null) billTo = null;
  else if (input.bill_to !== undefined) billTo = { ...(billTo ?? {}), ...input.bill_to };
  next.bill_to = billTo;

  const datesReadable = errors.errors.every((error) => error.pointer !== '/issue_date' && error.pointer !== '/due_date');
  // Due date follows the payment terms unless the client sets it in this same write.
  const termsOrIssueChanged = input.payment_terms !== undefined || input.issue_date !== undefined;
  if (datesReadable && input.due_date === undefined && termsOrIssueChanged && next.payment_terms && next.issue_date) {
    next.due_date = addDays(next.issue_date, next.payment_terms.net_days);
  }
  if (datesReadable && next.issue_date && next.due_date && next.due_date < next.issue_date) {
    errors.add('/due_date', `must not be before issue_date (${next.issue_date})`);
  }
  return next;
}

function emptyToNull(value: string | null | undefined): string | null | undefined {
  return value === '' ? null : value;
}

function mergeMap(
  current: Record<string, string>,
  patch: Record<string, string | null> | null | undefined,
  replaceAll: boolean,
  pointer: string,
  errors: Collector,
  maxKeys: number,
): Record<string, string> {
  if (patch === undefined) return replaceAll ? {} : current;
  if (patch === null) return {};
  const result: Record<string, string> = replaceAll ? {} : { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (reservedKeys.has(key)) errors.add(`${pointer}/${key}`, 'reserved key');
    else if (value === null) delete result[key];
    else result[key] = value;
  }
  if (Object.keys(result).length > maxKeys) errors.add(pointer, `at most ${maxKeys} keys`);
  return result;
}

function mergeCustomFields(
  current: Record<string, CustomFieldValue>,
  patch: InvoiceWriteCommand['custom_fields'],
  replaceAll: boolean,
  errors: Collector,
): Record<string, CustomFieldValue> {
  if (patch === undefined) return replaceAll ? {} : current;
  if (patch === null) return {};
  const result: Record<string, CustomFieldValue> = replaceAll ? {} : { ...current };
  for (const [key, field] of Object.entries(patch)) {
    const pointer = `/custom_fields/${key}`;
    const typeError = field === null ? undefined : customFieldTypeError(key, field.type, pointer);
    if (reservedKeys.has(key)) errors.add(pointer, 'reserved key');
    else if (field === null) delete result[key];
    else if (typeError) errors.errors.push(typeError);
    else if (field.type === 'number') {
      const value = errors.decimal(field.value, `${pointer}/value`, { maxIntegerDigits: 15, maxFractionDigits: 10 });
      if (value) result[key] = { type: 'number', value: formatDecimal(value) };
    } else if (field.type === 'date') {
      if (!isValidBusinessDate(field.value)) errors.add(`${pointer}/value`, 'is not a real calendar date');
      else result[key] = { type: 'date', value: field.value };
    } else result[key] = { type: 'string', value: field.value };
  }
  if (Object.keys(result).length > 50) errors.add('/custom_fields', 'at most 50 custom fields');
  return result;
}

