import { sql, type Expression, type ExpressionBuilder, type RawBuilder, type SqlBool } from 'kysely';
import type { DbOrTx, Engine } from '../../db/database.js';
import type { Database, InvoicesTable } from '../../db/schema.js';
import type { PaymentStatus } from './domain/payment-status.js';
import { nullableSortFields, type InvoiceListFilter, type InvoiceSort, type InvoiceSortField, type ListCursor } from './list-filter.js';

/**
 * SQL only: the invoice list query. Every filter and every sort is served by an index of
 * 0010_list_indexes (EXPLAIN per filter in bench/README.md). Pagination is keyset, on
 * (sort value, id); the rows whose sort value is null (drafts have no number or dates) come
 * after all others in both directions, read as a second section ordered by id.
 */

type Eb = ExpressionBuilder<Database, 'invoices'>;

/**
 * Amounts are NUMERIC in PostgreSQL and TEXT in SQLite (no float affinity ever touches a stored
 * value). SQLite orders and range-scans them through an index on CAST(total AS REAL), and
 * removes the rows a double cannot tell apart from a bound with the exact `decimal_cmp`
 * (src/db/database.ts), so filters are exact on both engines.
 */
function amount(engine: Engine, column: 'total' | 'balance'): RawBuilder<unknown> {
  return engine === 'postgres' ? sql.ref(column) : sql`cast(${sql.ref(column)} as real)`;
}

function amountParameter(engine: Engine, value: string): RawBuilder<unknown> {
  return engine === 'postgres' ? sql`${value}::numeric` : sql`cast(${value} as real)`;
}

function amountBound(engine: Engine, column: 'total', operator: '>=' | '<=', value: string): RawBuilder<SqlBool> {
  if (engine === 'postgres') return sql<SqlBool>`${sql.ref(column)} ${sql.raw(operator)} ${value}::numeric`;
  const exact = operator === '>=' ? sql`decimal_cmp(${sql.ref(column)}, ${value}) >= 0` : sql`decimal_cmp(${sql.ref(column)}, ${value}) <= 0`;
  return sql<SqlBool>`(${amount(engine, column)} ${sql.raw(operator)} ${amountParameter(engine, value)} and ${exact})`;
}

/** The sort key as SQL. Numbers compare byte-wise on both engines (PostgreSQL: COLLATE "C", as indexed). */
function sortExpression(engine: Engine, field: InvoiceSortField): RawBuilder<unknown> {
  switch (field) {
    case 'created':
      return sql.ref('id');
    case 'number':
      return engine === 'postgres' ? sql`(number collate "C")` : sql.ref('number');
    case 'total':
      return amount(engine, 'total');
    default:
      return sql.ref(field);
  }
}

function sortParameter(engine: Engine, field: InvoiceSortField, value: string): RawBuilder<unknown> {
  if (field === 'total') return amountParameter(engine, value);
  if (field === 'number' && engine === 'postgres') return sql`(${value} collate "C")`;
  return sql`${value}`;
}

/** The row's sort value as it goes into the next cursor. */
export function sortValueOf(row: InvoicesTable, field: InvoiceSortField): string | null {
  if (field === 'created') return '';
  const value = row[field];
  return value === null ? null : String(value);
}

/** The smallest string greater than every string starting with `prefix` (code-point order), or undefined. */
export function prefixUpperBound(prefix: string): string | undefined {
  const codePoints = [...prefix];
  while (codePoints.length > 0) {
    const last = codePoints.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      const next = last === 0xd7ff ? 0xe000 : last + 1; // skip the surrogate range
      return codePoints.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (character) => `\\${character}`);

function paymentStatusCondition(engine: Engine, status: PaymentStatus, today: string): RawBuilder<SqlBool> {
  const total = amount(engine, 'total');
  const balance = amount(engine, 'balance');
  // As derivePaymentStatus (domain/payment-status.ts); balance = total − paid − credited.
  const paid = sql`(status = 'paid' or (${total} > 0 and ${balance} <= 0))`;
  const notPaid = sql`(status <> 'paid' and (${total} <= 0 or ${balance} > 0))`;
  const overdue = sql`(status = 'open' and due_date < ${today})`;
  const notOverdue = sql`(status <> 'open' or due_date is null or due_date >= ${today})`;
  const settledSome = engine === 'postgres' ? sql`(amount_paid > 0 or amount_credited > 0)` : sql`(cast(amount_paid as real) > 0 or cast(amount_credited as real) > 0)`;
  switch (status) {
    case 'paid':
      return sql<SqlBool>`${paid}`;
    case 'overdue':
      return sql<SqlBool>`(${overdue} and ${notPaid})`;
    case 'partially_paid':
      // Its `status <> 'paid'` and settledSome are the predicate of the partial index invoices_partially_settled.
      return sql<SqlBool>`(${notPaid} and ${notOverdue} and ${settledSome})`;
    case 'unpaid':
      return sql<SqlBool>`(${notPaid} and ${notOverdue} and not ${settledSome})`;
  }
}

/**
 * Text anywhere in memo, bill-to name or a line description. PostgreSQL: ILIKE served by trigram
 * indexes, the three sources unioned into one id set; SQLite: LIKE (ASCII case-insensitive) over the tenant's rows.
 */
function textCondition(engine: Engine, tenantId: string, text: string): RawBuilder<SqlBool> {
  const pattern = `%${escapeLike(text)}%`;
  if (engine === 'postgres') {
    return sql<SqlBool>`id in (
      select i.id from invoices i where i.tenant_id = ${tenantId} and (i.memo ilike ${pattern} or ((i.bill_to::jsonb) ->> 'name') ilike ${pattern})
      union
      select l.invoice_id from invoice_lines l where l.tenant_id = ${tenantId} and l.description ilike ${pattern})`;
  }
  return sql<SqlBool>`(memo like ${pattern} escape '\\' or json_extract(bill_to, '$.name') like ${pattern} escape '\\'
    or id in (select l.invoice_id from invoice_lines l where l.tenant_id = ${tenantId} and l.description like ${pattern} escape '\\'))`;
}

function filterConditions(eb: Eb, engine: Engine, tenantId: string, filter: InvoiceListFilter, today: string): Expression<SqlBool>[] {
  const conditions: Expression<SqlBool>[] = [eb('tenant_id', '=', tenantId)];
  if (filter.status?.length) conditions.push(eb('status', 'in', filter.status));
  if (filter.paymentStatus?.length) conditions.push(eb.or(filter.paymentStatus.map((status) => paymentStatusCondition(engine, status, today))));
  if (filter.customerId !== undefined) conditions.push(eb('customer_id', '=', filter.customerId));
  if (filter.number !== undefined) conditions.push(eb('number', '=', filter.number));
  if (filter.numberPrefix !== undefined) {
    const number = sortExpression(engine, 'number');
    conditions.push(sql<SqlBool>`${number} >= ${sortParameter(engine, 'number', filter.numberPrefix)}`);
    const upper = prefixUpperBound(filter.numberPrefix);
    if (upper !== undefined) conditions.push(sql<SqlBool>`${number} < ${sortParameter(engine, 'number', upper)}`);
  }
  if (filter.reference !== undefined) conditions.push(eb('reference', '=', filter.reference));
  if (filter.guid !== undefined) conditions.push(eb('guid', '=', filter.guid));
  if (filter.serial !== undefined) conditions.push(eb('serial', '=', filter.serial));
  if (filter.currency !== undefined) conditions.push(eb('currency', '=', filter.currency));
  if (filter.issueDate?.from !== undefined) conditions.push(eb('issue_date', '>=', filter.issueDate.from));
  if (filter.issueDate?.to !== undefined) conditions.push(eb('issue_date', '<=', filter.issueDate.to));
  if (filter.dueDate?.from !== undefined) conditions.push(eb('due_date', '>=', filter.dueDate.from));
  if (filter.dueDate?.to !== undefined) conditions.push(eb('due_date', '<=', filter.dueDate.to));
  if (filter.updatedSince !== undefined) conditions.push(eb('updated_at', '>=', filter.updatedSince));
  if (filter.total?.min !== undefined) conditions.push(amountBound(engine, 'total', '>=', filter.total.min));
  if (filter.total?.max !== undefined) conditions.push(amountBound(engine, 'total', '<=', filter.total.max));
  if (filter.text !== undefined) conditions.push(textCondition(engine, tenantId, filter.text));
  return conditions;
}

export interface ListRowsOptions {
  sort: InvoiceSort;
  after: ListCursor | undefined;
  /** Rows to fetch (the caller asks one more than a page, to know whether there is a next one). */
  limit: number;
  /** Today's business date, for the overdue payment status. */
  today: string;
}

/** One page of invoice rows (header only) in sort order, starting after the cursor. */
export async function listInvoiceRows(db: DbOrTx, engine: Engine, tenantId: string, filter: InvoiceListFilter, options: ListRowsOptions): Promise<InvoicesTable[]> {
  const { sort, after, limit, today } = options;
  const direction = sort.descending ? sql.raw('desc') : sql.raw('asc');
  const beyond = sql.raw(sort.descending ? '<' : '>');
  const key = sortExpression(engine, sort.field);
  const base = () => db.selectFrom('invoices').selectAll().where((eb) => eb.and(filterConditions(eb, engine, tenantId, filter, today)));

  const rows: InvoicesTable[] = [];
  const inNullSection = after !== undefined && after.value === null;
  if (!inNullSection) {
    let query = base();
    if (nullableSortFields.has(sort.field)) query = query.where(sql<SqlBool>`${key} is not null`);
    if (after !== undefined && sort.field === 'created') query = query.where(sql<SqlBool>`id ${beyond} ${after.id}`);
    else if (after?.value != null) {
      query = query.where(sql<SqlBool>`(${key}, id) ${beyond} (${sortParameter(engine, sort.field, after.value)}, ${after.id})`);
    }
    if (sort.field !== 'created') query = query.orderBy(sql`${key} ${direction}`);
    rows.push(...(await query.orderBy(sql`id ${direction}`).limit(limit).execute()));
  }
  if (rows.length < limit && nullableSortFields.has(sort.field)) {
    let query = base().where(sql<SqlBool>`${key} is null`);
    if (inNullSection) query = query.where(sql<SqlBool>`id ${beyond} ${after.id}`);
    rows.push(...(await query.orderBy(sql`id ${direction}`).limit(limit - rows.length).execute()));
  }
  return rows;
}

/**
 * Ids only, oldest first (id order, as the list's `created` sort), after `afterId`: the same
 * filter conditions as listInvoiceRows without reading whole rows, for callers that walk every
 * match (bulk jobs over a million invoices).
 */
export async function listInvoiceIds(
  db: DbOrTx,
  engine: Engine,
  tenantId: string,
  filter: InvoiceListFilter,
  options: { afterId: string | undefined; limit: number; today: string },
): Promise<string[]> {
  let query = db.selectFrom('invoices').select('id').where((eb) => eb.and(filterConditions(eb, engine, tenantId, filter, options.today)));
  if (options.afterId !== undefined) query = query.where('id', '>', options.afterId);
  const rows = await query.orderBy('id', 'asc').limit(options.limit).execute();
  return rows.map((row) => row.id);
}
