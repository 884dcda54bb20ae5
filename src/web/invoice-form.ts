import type { Editability } from '../modules/invoices/domain/editability.js';
import type { Invoice } from '../modules/invoices/domain/model.js';
import type { InvoiceWrite, LineInput } from '../modules/invoices/schemas.js';
import { AppError } from '../shared/errors.js';

/**
 * The invoice editor's form, as strings exactly as the browser sends them. The page never
 * computes money: it turns the form into the API's write (InvoiceWrite) and lets the invoice
 * service check and compute it, for real or as a dry run.
 */
export const lineFormFields = ['id', 'parent_line_id', 'description', 'quantity', 'unit', 'unit_price', 'discount_type', 'discount_value', 'tax_rate'] as const;
export type LineFormField = (typeof lineFormFields)[number];
export type LineForm = Record<LineFormField, string>;

export const headerFormFields = ['customer_id', 'number', 'reference', 'purchase_order', 'currency', 'issue_date', 'due_date', 'net_days', 'memo', 'internal_note'] as const;
export type HeaderFormField = (typeof headerFormFields)[number];

export interface InvoiceForm {
  header: Record<HeaderFormField, string>;
  lines: LineForm[];
  /** The version the edit started from (If-Match on save). */
  version: string;
  reason: string;
}

/** The API field a form field writes (editability is per API field). */
const apiFieldOf: Record<HeaderFormField, string> = {
  customer_id: 'customer_id',
  number: 'number',
  reference: 'reference',
  purchase_order: 'purchase_order',
  currency: 'currency',
  issue_date: 'issue_date',
  due_date: 'due_date',
  net_days: 'payment_terms',
  memo: 'memo',
  internal_note: 'internal_note',
};
export const apiFieldOfHeader = (field: HeaderFormField) => apiFieldOf[field];

const maxFormLines = 1000;

export const blankLine = (): LineForm => ({ id: '', parent_line_id: '', description: '', quantity: '1', unit: '', unit_price: '0', discount_type: '', discount_value: '', tax_rate: '' });

export function formOf(invoice: Invoice): InvoiceForm {
  return {
    header: {
      customer_id: invoice.customer_id ?? '',
      number: invoice.number ?? '',
      reference: invoice.reference ?? '',
      purchase_order: invoice.purchase_order ?? '',
      currency: invoice.currency,
      issue_date: invoice.issue_date ?? '',
      due_date: invoice.due_date ?? '',
      net_days: invoice.payment_terms ? String(invoice.payment_terms.net_days) : '',
      memo: invoice.memo ?? '',
      internal_note: invoice.internal_note ?? '',
    },
    lines: invoice.lines.map((line) => ({
      id: line.id,
      parent_line_id: line.parent_line_id ?? '',
      description: line.description ?? '',
      quantity: line.quantity,
      unit: line.unit ?? '',
      unit_price: line.unit_price,
      discount_type: line.discount?.type ?? '',
      discount_value: line.discount?.value ?? '',
      tax_rate: line.tax_rate ?? '',
    })),
    version: String(invoice.version),
    reason: '',
  };
}

type FormBody = Record<string, string | string[] | undefined>;

const asList = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const asText = (value: string | string[] | undefined): string => (Array.isArray(value) ? value[0] ?? '' : value ?? '').slice(0, 5000);

/** Reads the editor's fields: header fields by name, line fields as parallel lists `line_<field>`. */
export function parseInvoiceForm(body: FormBody): InvoiceForm {
  const header = Object.fromEntries(headerFormFields.map((field) => [field, asText(body[field]).trim()])) as InvoiceForm['header'];
  const columns = Object.fromEntries(lineFormFields.map((field) => [field, asList(body[`line_${field}`])])) as Record<LineFormField, string[]>;
  const count = columns.description.length;
  if (count > maxFormLines) throw new AppError('validation-error', `An invoice holds at most ${maxFormLines} lines.`);
  if (lineFormFields.some((field) => columns[field].length !== count)) {
    throw new AppError('validation-error', 'The line editor sent an incomplete form; reload the page.');
  }
  const lines: LineForm[] = [];
  for (let index = 0; index < count; index++) {
    lines.push(Object.fromEntries(lineFormFields.map((field) => [field, columns[field][index].slice(0, 2000).trim()])) as LineForm);
  }
  return { header, lines, version: asText(body.version), reason: asText(body.reason).trim().slice(0, 500) };
}

const orNull = (value: string) => (value === '' ? null : value);

function lineWrite(line: LineForm): LineInput {
  return {
    ...(line.id ? { id: line.id } : {}),
    parent_line_id: orNull(line.parent_line_id),
    description: orNull(line.description),
    quantity: line.quantity,
    unit: orNull(line.unit),
    unit_price: line.unit_price,
    discount: line.discount_type === 'percent' || line.discount_type === 'amount' ? { type: line.discount_type, value: line.discount_value || '0' } : null,
    tax_rate: orNull(line.tax_rate),
  };
}

/**
 * The write the form asks for: every header field the state allows (the others are left out,
 * so a read-only field can never be the reason a save fails) and the lines as the full desired set.
 */
export function writeOfForm(form: InvoiceForm, editability?: Editability, current?: Invoice): InvoiceWrite {
  const editable = (field: string) => editability?.fields[field]?.editable !== false;
  const write: Record<string, unknown> = {};
  const { header } = form;
  const set = (field: HeaderFormField, value: unknown) => {
    if (editable(apiFieldOf[field])) write[apiFieldOf[field]] = value;
  };
  set('customer_id', orNull(header.customer_id));
  set('number', orNull(header.number));
  set('reference', orNull(header.reference));
  set('purchase_order', orNull(header.purchase_order));
  if (header.currency) set('currency', header.currency.toUpperCase());
  set('issue_date', orNull(header.issue_date));
  set('due_date', orNull(header.due_date));
  if (header.net_days !== '' && !/^\d{1,4}$/.test(header.net_days)) {
    throw new AppError('validation-error', 'Payment terms are a whole number of days.', { errors: [{ pointer: '/payment_terms/net_days', detail: 'not a whole number' }] });
  }
  set('net_days', header.net_days === '' ? null : { net_days: Number(header.net_days) });
  set('memo', orNull(header.memo));
  set('internal_note', orNull(header.internal_note));
  if (editable('lines')) {
    const operations = current ? lineOperationsOf(form.lines, current) : null;
    if (operations) {
      if (operations.length > 0) write.line_operations = operations;
    } else write.lines = form.lines.map(lineWrite);
  }
  if (form.reason) write.reason = form.reason;
  return write as InvoiceWrite;
}

/**
 * The form's lines as operations on the current lines: only what differs is sent, so the
 * service keeps every untouched line as it is (a one-line edit of a 200-line invoice computes
 * one line). Null when the lines were reordered: then the full set is sent instead.
 */
export function lineOperationsOf(lines: LineForm[], current: Invoice): NonNullable<InvoiceWrite['line_operations']> | null {
  const currentForms = new Map(formOf(current).lines.map((line) => [line.id, line]));
  const kept = lines.filter((line) => line.id && currentForms.has(line.id)).map((line) => line.id);
  const currentOrder = current.lines.map((line) => line.id).filter((id) => kept.includes(id));
  if (kept.join() !== currentOrder.join()) return null;
  const formIds = new Set(kept);
  const operations: NonNullable<InvoiceWrite['line_operations']> = current.lines
    .filter((line) => !formIds.has(line.id))
    .map((line) => ({ op: 'remove' as const, id: line.id }));
  lines.forEach((line, index) => {
    const before = line.id ? currentForms.get(line.id) : undefined;
    if (!before) {
      const { id: _id, ...fields } = lineWrite(line);
      operations.push({ op: 'add', position: index + 1, ...fields });
    } else if (lineFormFields.some((field) => line[field] !== before[field])) {
      operations.push({ op: 'update', ...lineWrite(line) });
    }
  });
  return operations;
}

export interface Reapplied {
  form: InvoiceForm;
  /** Edits that could not be kept (their line was removed by the other save). */
  dropped: string[];
}

/**
 * Re-applies the user's edits (`mine`, made on `base`) on top of the newer version `theirs`:
 * a field the user changed takes the user's value, every other field keeps the newer one.
 * Lines match by id; lines the user added are appended; a line the user removed stays removed.
 */
export function reapplyEdits(base: InvoiceForm, mine: InvoiceForm, theirs: InvoiceForm): Reapplied {
  const header = { ...theirs.header };
  for (const field of headerFormFields) if (mine.header[field] !== base.header[field]) header[field] = mine.header[field];

  const baseLines = new Map(base.lines.map((line) => [line.id, line]));
  const myLines = new Map(mine.lines.filter((line) => line.id).map((line) => [line.id, line]));
  const dropped: string[] = [];
  const lines: LineForm[] = [];
  for (const their of theirs.lines) {
    const baseLine = baseLines.get(their.id);
    const myLine = myLines.get(their.id);
    if (baseLine && !myLine) continue; // the user removed it
    if (!baseLine || !myLine) {
      lines.push(their);
      continue;
    }
    const merged = { ...their };
    for (const field of lineFormFields) if (myLine[field] !== baseLine[field]) merged[field] = myLine[field];
    lines.push(merged);
  }
  const theirIds = new Set(theirs.lines.map((line) => line.id));
  for (const [id, myLine] of myLines) {
    const baseLine = baseLines.get(id);
    if (!theirIds.has(id) && baseLine && lineFormFields.some((field) => myLine[field] !== baseLine[field])) {
      dropped.push(`your edit of '${myLine.description || 'a line'}' (that line was removed in the meantime)`);
    }
  }
  lines.push(...mine.lines.filter((line) => !line.id));
  return { form: { header, lines: keepMyOrder(base, mine, lines), version: theirs.version, reason: mine.reason }, dropped };
}

/**
 * When the user reordered the lines, the merged lines they kept follow the user's order; lines
 * only the other save added follow them, then the user's new lines. Otherwise the merge's order
 * (the newer version's) stands.
 */
function keepMyOrder(base: InvoiceForm, mine: InvoiceForm, merged: LineForm[]): LineForm[] {
  const baseOrder = base.lines.map((line) => line.id);
  const myOrder = mine.lines.filter((line) => line.id && baseOrder.includes(line.id)).map((line) => line.id);
  if (myOrder.join() === baseOrder.filter((id) => myOrder.includes(id)).join()) return merged;
  const rank = new Map(myOrder.map((id, index) => [id, index]));
  const mineKept = merged.filter((line) => rank.has(line.id)).sort((a, b) => (rank.get(a.id) ?? 0) - (rank.get(b.id) ?? 0));
  const theirsAdded = merged.filter((line) => line.id && !rank.has(line.id));
  return [...mineKept, ...theirsAdded, ...merged.filter((line) => !line.id)];
}

/** Editor operations that change the form without saving (they work with JavaScript off). */
export function applyFormOperation(form: InvoiceForm, operation: string): InvoiceForm {
  const lines = [...form.lines];
  const [name, rawIndex] = operation.split(':');
  const index = Number(rawIndex);
  if (name === 'add') lines.push(blankLine());
  else if (Number.isInteger(index) && index >= 0 && index < lines.length) {
    if (name === 'remove') lines.splice(index, 1);
    if (name === 'up' && index > 0) [lines[index - 1], lines[index]] = [lines[index], lines[index - 1]];
    if (name === 'down' && index < lines.length - 1) [lines[index + 1], lines[index]] = [lines[index], lines[index + 1]];
  }
  return { ...form, lines };
}
