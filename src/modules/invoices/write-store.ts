import type { DbOrTx, Engine } from '../../db/database.js';
import { prepare, prepareVariants, run, runAndCommit, type PreparedStatement } from '../../db/prepared.js';
import type { InvoiceAttachmentsTable, InvoiceLinesTable, InvoicesTable } from '../../db/schema.js';
import type { Change } from './domain/diff.js';
import type { EditPolicy } from './domain/edit-rules.js';
import type { AttachmentMeta, Invoice } from './domain/model.js';
import { invoiceToRow, lineToRow, rowToInvoice } from './store.js';
import { plainTextHeaderFieldNames } from '../../shared/invoice-fields.js';

/**
 * The write kernel's SQL (src/modules/invoices/versioning.ts): the hot path of every change to an
 * invoice, as prepared statements built once at module load (src/db/prepared.ts). SQL only.
 *
 * PostgreSQL, one change = four statements in two round trips (1+2 and 3+4 share a socket write,
 * src/db/transaction.ts):
 *   1. BEGIN
 *   2. `lockRead`: the function `folio_invoice_lock_read` (migration 0015) locks the invoice row
 *      `FOR UPDATE`, then reads its lines, attachments, the tenant's edit policy and enabled webhook
 *      endpoints in a statement of its own, which STARTS AFTER the lock is granted (a VOLATILE
 *      PL/pgSQL function takes a new snapshot per statement). Why not one statement: a statement
 *      that waits for a row lock re-reads only the locked row; every other table it reads keeps the
 *      snapshot taken before the wait (READ COMMITTED), so a queued writer would see the lines and
 *      attachments the previous writer replaced (issue 13, item 1; test/reliability/locked-reads*.test.ts).
 *   3. `write`: one statement (data-modifying CTEs) writing the invoice row (only the changed
 *      columns travel; guarded by `version = old`), the audit event, the outbox event(s), and only
 *      those of the removed/changed/added lines and attachments, webhook deliveries and the
 *      Idempotency-Key's row that this version has (one named variant per set of parts)
 *      The statement checks its own outcome (`folio_assert_write`, migration 0016) and raises
 *      when it must not commit, so COMMIT need not wait for its answer.
 *   4. COMMIT (when the use case writes nothing after this version: `last`)
 * SQLite (in process, no round trips): the same logical steps, one cached statement each; the
 * write is a few statements (SQLite has no data-modifying CTEs), set-based over JSON arrays.
 */

/** Every column of the invoice row, in one order (the compiler checks none is missing). */
const invoiceColumns = [
  'tenant_id', 'id', 'number', ...plainTextHeaderFieldNames, 'status', 'currency', 'exchange_rate', 'issue_date', 'due_date',
  'payment_terms', 'memo', 'internal_note', 'metadata', 'custom_fields', 'external_refs', 'customer_id', 'bill_to', 'tax_mode',
  'rounding_mode', 'subtotal', 'discount_total', 'tax_total', 'total', 'tax_breakdown', 'amount_paid', 'amount_credited', 'balance',
  'line_count', 'version', 'created_at', 'updated_at', 'finalized_at', 'voided_at', 'revision_of', 'revised_by', 'guid', 'serial',
] as const satisfies readonly (keyof InvoicesTable)[];
const lineColumns = [
  'tenant_id', 'invoice_id', 'id', 'position', 'parent_line_id', 'description', 'quantity', 'unit', 'unit_price', 'discount_type',
  'discount_value', 'tax_rate', 'tax_code', 'account_code', 'item_code', 'tracking', 'amount_before_discount', 'discount_amount',
  'net_amount', 'tax_amount', 'gross_amount', 'guid',
] as const satisfies readonly (keyof InvoiceLinesTable)[];
const attachmentColumns = ['tenant_id', 'invoice_id', 'id', 'filename', 'content_type', 'size_bytes', 'sha256', 'created_at'] as const satisfies readonly (keyof InvoiceAttachmentsTable)[];
type AllListed<Table, Listed> = Exclude<keyof Table, Listed> extends never ? true : ['missing columns', Exclude<keyof Table, Listed>];
const columnsComplete: [AllListed<InvoicesTable, (typeof invoiceColumns)[number]>, AllListed<InvoiceLinesTable, (typeof lineColumns)[number]>, AllListed<InvoiceAttachmentsTable, (typeof attachmentColumns)[number]>] = [true, true, true];
void columnsComplete;

/** Columns a new version may change (the key and the creation time never change). */
const invoiceUpdatable = invoiceColumns.filter((column) => column !== 'tenant_id' && column !== 'id' && column !== 'created_at');
const lineUpdatable = lineColumns.filter((column) => column !== 'tenant_id' && column !== 'invoice_id' && column !== 'id');
const lineInserted = lineColumns.filter((column) => column !== 'tenant_id' && column !== 'invoice_id');
const attachmentInserted = attachmentColumns.filter((column) => column !== 'tenant_id' && column !== 'invoice_id');

const list = (columns: readonly string[], prefix = '') => columns.map((column) => `${prefix}${column}`).join(', ');

/**
 * SQLite: a JSON array of a table's rows ("[]" when none). PostgreSQL's read is in the function
 * `folio_invoice_lock_read` (migration 0015): the same keys, null when none, NUMERIC columns as text.
 */
function jsonRows(columns: readonly string[], from: string, orderBy: string): string {
  const pairs = columns.map((column) => `'${column}', r.${column}`).join(', ');
  return `(SELECT json_group_array(json_object(${pairs})) FROM (SELECT * FROM ${from} ORDER BY r.${orderBy}) AS r)`;
}

/**
 * A statement's named parameters: PostgreSQL numbers each name once (`$n`, reused); better-sqlite3
 * takes plain `?` in order of occurrence, so a name used twice is bound twice. `bind` builds the
 * value list from a record, in that order.
 */
function parameters<Name extends string>(engine: Engine, names: readonly Name[]) {
  const order: Name[] = engine === 'postgres' ? [...names] : [];
  const p = (name: Name): string => {
    if (engine === 'postgres') return `$${names.indexOf(name) + 1}`;
    order.push(name);
    return '?';
  };
  return { p, bind: (values: Record<Name, unknown>) => order.map((name) => values[name]) };
}

/** A prepared statement and how to bind its named parameters (both fixed at module load). */
interface BoundStatement<Name extends string> {
  statement: PreparedStatement;
  bind(values: Record<Name, unknown>): unknown[];
}

function bound<Name extends string>(name: string, engine: Engine, names: readonly Name[], build: (p: (name: Name) => string) => string): BoundStatement<Name> {
  const { p, bind } = parameters(engine, names);
  return { statement: prepare(engine === 'postgres' ? name : `${name}_sqlite`, build(p)), bind };
}

/** One bound statement per engine. */
function boundPair<Name extends string>(name: string, names: readonly Name[], build: (engine: Engine, p: (name: Name) => string) => string): Record<Engine, BoundStatement<Name>> {
  return {
    postgres: bound(name, 'postgres', names, (p) => build('postgres', p)),
    sqlite: bound(name, 'sqlite', names, (p) => build('sqlite', p)),
  };
}

const readParameters = ['tenant', 'invoice'] as const;
type ReadParameter = (typeof readParameters)[number];

/** SQLite's lock: its write transactions begin IMMEDIATE (one writer), so a plain read of the row. */
function lockSql(p: (name: ReadParameter) => string): string {
  return `SELECT ${list(invoiceColumns)} FROM invoices WHERE tenant_id = ${p('tenant')} AND id = ${p('invoice')}`;
}

/** The tenant's edit policy and enabled webhook endpoints ([id, event_types] pairs as JSON). */
function tenantFactsColumns(engine: Engine, p: (name: 'tenant') => string): string {
  const endpoints =
    engine === 'postgres'
      ? `(SELECT json_agg(json_build_array(e.id, e.event_types) ORDER BY e.id)::text FROM webhook_endpoints e WHERE e.tenant_id = ${p('tenant')} AND e.enabled = 1)`
      : `(SELECT json_group_array(json_array(e.id, e.event_types)) FROM webhook_endpoints e WHERE e.tenant_id = ${p('tenant')} AND e.enabled = 1)`;
  return `(SELECT t.edit_policy FROM tenants t WHERE t.id = ${p('tenant')}) AS edit_policy, ${endpoints} AS webhook_endpoints`;
}

/** SQLite's read (after its lock); PostgreSQL reads in `folio_invoice_lock_read`. */
function readSql(p: (name: ReadParameter) => string): string {
  const where = () => `WHERE r.tenant_id = ${p('tenant')} AND r.invoice_id = ${p('invoice')}`;
  const lines = jsonRows(lineColumns, `invoice_lines r ${where()}`, 'position');
  const attachments = jsonRows(attachmentColumns, `invoice_attachments r ${where()}`, 'id');
  return `SELECT ${lines} AS lines, ${attachments} AS attachments, ${tenantFactsColumns('sqlite', p)}`;
}

type WriteParameter =
  | 'expected_edit_policy' | 'expected_endpoints'
  | 'tenant' | 'invoice' | 'old_version' | 'header' | 'removed_lines' | 'changed_lines' | 'added_lines' | 'removed_attachments' | 'added_attachments'
  | 'version' | 'action' | 'actor_key_id' | 'request_id' | 'reason' | 'changes' | 'audit_at' | 'due_at' | 'event_ids' | 'event_types' | 'event_data'
  | 'delivery_ids' | 'delivery_endpoints' | 'delivery_events' | 'idempotency_key' | 'claim_token' | 'committed_resource'
  | 'idempotency_hash' | 'idempotency_method' | 'idempotency_path' | 'idempotency_created_at' | 'idempotency_expires_at';

/**
 * The write statement's parts a version may leave empty. A PATCH of a few lines and the memo has rows
 * for none of them, and a data-modifying CTE costs an executor node even when it writes nothing, so
 * the statement holds only the parts with rows: one variant per set of parts present (a bitmask in
 * this order), each a named prepared statement built on first use (`prepareVariants`).
 */
const optionalParts = ['removed_lines', 'changed_lines', 'added_lines', 'removed_attachments', 'added_attachments', 'deliveries', 'idempotency_mark', 'idempotency_new'] as const;
type OptionalPart = (typeof optionalParts)[number];

/**
 * PostgreSQL parameters numbered in order of first use: a variant sends only the parameters its
 * parts use (PostgreSQL cannot type a parameter that no part references).
 */
function firstUseParameters<Name extends string>() {
  const order: Name[] = [];
  const p = (name: Name): string => {
    let index = order.indexOf(name);
    if (index < 0) index = order.push(name) - 1;
    return `$${index + 1}`;
  };
  return { p, bind: (values: Record<Name, unknown>) => order.map((name) => values[name]) };
}

/**
 * PostgreSQL: the whole version in one statement. Data-modifying CTEs all run (whether or not the
 * final SELECT reads them), against one snapshot and on disjoint rows, so their order does not
 * matter. The outbox takes no lock: each event row records its transaction id (a column default,
 * migration 0011) and the feed orders by it (src/modules/events/feed.ts). The Idempotency-Key: a key
 * claimed before the handler is marked (`idempotency_mark`, guarded by its claim token); a key new to
 * the request is inserted already committed (`idempotency_new`), and a concurrent request that wrote
 * the key first makes that insert do nothing — the caller then rolls the whole version back.
 */
function postgresWriteSql(kind: 'update' | 'insert', parts: ReadonlySet<OptionalPart>, p: (name: WriteParameter) => string, guardFacts = false): string {
  const tenant = `${p('tenant')}::text`;
  const invoice = `${p('invoice')}::text`;
  // A write whose base the kernel did not lock and read (versioning.ts, optimistic) also requires
  // the tenant's facts to be the ones its rules used: the same expressions as migration 0015's read,
  // so the same rows give the same text. Otherwise no row is updated, and the statement raises FLW01.
  const factsGuard = guardFacts
    ? ` AND (SELECT t.edit_policy FROM tenants AS t WHERE t.id = ${tenant}) IS NOT DISTINCT FROM ${p('expected_edit_policy')}::text
    AND (SELECT json_agg(json_build_array(e.id, e.event_types) ORDER BY e.id)::text FROM webhook_endpoints AS e WHERE e.tenant_id = ${tenant} AND e.enabled = 1) IS NOT DISTINCT FROM ${p('expected_endpoints')}::text`
    : '';
  const header =
    kind === 'update'
      ? // Columns absent from the header JSON keep their value: only the changed ones are sent.
        `UPDATE invoices AS i SET (${list(invoiceUpdatable)}) = (SELECT ${list(invoiceUpdatable, 'h.')} FROM jsonb_populate_record(i, ${p('header')}::jsonb) AS h)
    WHERE i.tenant_id = ${tenant} AND i.id = ${invoice} AND i.version = ${p('old_version')}::int${factsGuard} RETURNING 1`
      : `INSERT INTO invoices (${list(invoiceColumns)}) SELECT ${list(invoiceColumns, 'h.')} FROM jsonb_populate_record(NULL::invoices, ${p('header')}::jsonb) AS h RETURNING 1`;
  // Built only when present: each part's parameters are numbered only if the part is in the text.
  const optional: Record<OptionalPart, () => string> = {
    removed_lines: () => `DELETE FROM invoice_lines WHERE tenant_id = ${tenant} AND invoice_id = ${invoice} AND id = ANY(${p('removed_lines')}::text[])`,
    changed_lines: () => `UPDATE invoice_lines AS l SET (${list(lineUpdatable)}) = (${list(lineUpdatable, 'c.')})
    FROM jsonb_populate_recordset(NULL::invoice_lines, ${p('changed_lines')}::jsonb) AS c
    WHERE l.tenant_id = ${tenant} AND l.invoice_id = ${invoice} AND l.id = c.id`,
    added_lines: () => `INSERT INTO invoice_lines (tenant_id, invoice_id, ${list(lineInserted)})
    SELECT ${tenant}, ${invoice}, ${list(lineInserted, 'a.')} FROM jsonb_populate_recordset(NULL::invoice_lines, ${p('added_lines')}::jsonb) AS a`,
    removed_attachments: () => `DELETE FROM invoice_attachments WHERE tenant_id = ${tenant} AND invoice_id = ${invoice} AND id = ANY(${p('removed_attachments')}::text[])`,
    added_attachments: () => `INSERT INTO invoice_attachments (tenant_id, invoice_id, ${list(attachmentInserted)})
    SELECT ${tenant}, ${invoice}, ${list(attachmentInserted, 'a.')} FROM jsonb_populate_recordset(NULL::invoice_attachments, ${p('added_attachments')}::jsonb) AS a`,
    deliveries: () => `INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, event_id, status, attempts, next_attempt_at, created_at)
    SELECT ${tenant}, d.id, d.endpoint_id, d.event_id, 'pending', 0, ${p('due_at')}::text, ${p('due_at')}::text
    FROM unnest(${p('delivery_ids')}::text[], ${p('delivery_endpoints')}::text[], ${p('delivery_events')}::text[]) AS d(id, endpoint_id, event_id)`,
    idempotency_mark: () => `UPDATE idempotency_keys SET state = 'committed', committed_resource = ${p('committed_resource')}::text
    WHERE tenant_id = ${tenant} AND key = ${p('idempotency_key')}::text AND claim_token = ${p('claim_token')}::text RETURNING 1`,
    idempotency_new: () => `INSERT INTO idempotency_keys (${list(idempotencyInserted)})
    SELECT ${tenant}, ${p('idempotency_key')}::text, ${p('idempotency_hash')}::text, ${p('idempotency_method')}::text, ${p('idempotency_path')}::text, 'committed',
      ${p('claim_token')}::text, ${p('idempotency_created_at')}::text, ${p('committed_resource')}::text, ${p('idempotency_created_at')}::text, ${p('idempotency_expires_at')}::text
    ON CONFLICT (tenant_id, key) DO NOTHING RETURNING 1`,
  };
  const ctes = [
    `header AS (${header})`,
    `audit AS (INSERT INTO audit_events (tenant_id, invoice_id, version, action, actor_key_id, request_id, reason, changes, created_at)
    VALUES (${tenant}, ${invoice}, ${p('version')}::int, ${p('action')}::text, ${p('actor_key_id')}::text, ${p('request_id')}::text, ${p('reason')}::text, ${p('changes')}::text, ${p('audit_at')}::text))`,
    `outbox AS (INSERT INTO events (tenant_id, id, type, resource_type, resource_id, resource_version, data, created_at)
    SELECT ${tenant}, e.id, e.type, 'invoice', ${invoice}, ${p('version')}::int, e.data, ${p('audit_at')}::text
    FROM unnest(${p('event_ids')}::text[], ${p('event_types')}::text[], ${p('event_data')}::text[]) WITH ORDINALITY AS e(id, type, data, n)
    ORDER BY e.n)`,
    ...optionalParts.filter((part) => parts.has(part)).map((part) => `${part} AS (${optional[part]()})`),
  ];
  const idempotencyRows = parts.has('idempotency_mark') ? '(SELECT count(*) FROM idempotency_mark)' : parts.has('idempotency_new') ? '(SELECT count(*) FROM idempotency_new)' : '0';
  const idempotencyExpected = parts.has('idempotency_mark') || parts.has('idempotency_new');
  // The statement checks its own outcome (migration 0016): a version that must not commit aborts
  // the transaction here, so COMMIT can travel with this statement (src/db/transaction.ts).
  return `WITH ${ctes.join(',\n  ')}
SELECT (SELECT count(*) FROM header)::int AS header_rows, ${idempotencyRows}::int AS idempotency_rows,
  folio_assert_write((SELECT count(*) FROM header), ${idempotencyRows}, ${idempotencyExpected}) AS checked`;
}

/**
 * The write statement of one kind, in the variant holding exactly the parts present (bit i =
 * optionalParts[i]); for updates, the bit after them adds the tenant-facts guard (`guardedFacts`).
 */
function writeVariants(kind: 'update' | 'insert') {
  const bits = optionalParts.length + (kind === 'update' ? 1 : 0);
  return prepareVariants(`folio_invoice_${kind}_version`, bits, (variant) => {
    const parts = new Set(optionalParts.filter((_, bit) => (variant & (1 << bit)) !== 0));
    const { p, bind } = firstUseParameters<WriteParameter>();
    return { sql: postgresWriteSql(kind, parts, p, (variant & guardedFacts) !== 0), bind };
  });
}
const guardedFacts = 1 << optionalParts.length;

/** The bitmask of the optional parts that have rows in this version. */
function presentParts(present: Record<OptionalPart, boolean>): number {
  return optionalParts.reduce((mask, part, bit) => (present[part] ? mask | (1 << bit) : mask), 0);
}

/** The columns a key claimed inside its write's transaction is inserted with. */
const idempotencyInserted = ['tenant_id', 'key', 'request_hash', 'method', 'path', 'state', 'claim_token', 'locked_until', 'committed_resource', 'created_at', 'expires_at'] as const;

/** SQLite: `json_extract` of each listed column from the JSON text `source`. */
const fromJson = (columns: readonly string[], source: string) => columns.map((column) => `json_extract(${source}, '$.${column}')`).join(', ');

/**
 * SQLite rewrites an index on UPDATE when one of its columns is in the SET list, whatever the values,
 * so the header UPDATE names an indexed column only when it changed: `invoices` has 15 indexes and a
 * PATCH of lines and the memo changes 2 of them (`updated_at`, `total`); setting every column made each
 * write rewrite all 15 (≈ 0.25 ms more per transaction, and more WAL pages to sync and checkpoint).
 * The columns some index of `invoices` reads (in its key, expression or WHERE), keys aside;
 * test/unit/sqlite-header-update.test.ts checks this list against the migrated schema. A column
 * missing here is still written correctly (with the unindexed ones, always SET), only slower.
 */
export const sqliteIndexedInvoiceColumns = [
  'number', 'reference', 'status', 'guid', 'serial', 'customer_id', 'updated_at', 'issue_date', 'due_date', 'currency', 'total', 'amount_paid', 'amount_credited',
] as const satisfies readonly (typeof invoiceUpdatable)[number][];
const sqliteIndexed = new Set<string>(sqliteIndexedInvoiceColumns);
const sqliteUnindexedUpdatable = invoiceUpdatable.filter((column) => !sqliteIndexed.has(column));

/**
 * SQLite's header UPDATE for a version whose changed indexed columns are the bits of `variant`
 * (in `sqliteIndexedInvoiceColumns` order; at most 2^13 texts, each built once). Every unindexed
 * column is SET to the new row's value (the row was read in this transaction, so an unchanged one
 * keeps its value); an indexed one only when it changed. Plain parameters, no JSON: extracting ~30
 * columns from a JSON text cost ≈ 5 times the UPDATE itself.
 * [unindexed values…, changed indexed values…, tenant, id, old version]
 */
const sqliteUpdateHeader = prepareVariants('folio_write_update_header_sqlite', sqliteIndexedInvoiceColumns.length, (variant) => {
  const indexed = sqliteIndexedInvoiceColumns.filter((_, bit) => (variant & (1 << bit)) !== 0);
  const sets = [...sqliteUnindexedUpdatable, ...indexed].map((column) => `${column} = ?`).join(', ');
  return { sql: `UPDATE invoices SET ${sets} WHERE tenant_id = ? AND id = ? AND version = ?`, indexed };
});

/** The variant of `sqliteUpdateHeader` for a header of changed columns. */
export function sqliteHeaderVariant(changed: object): number {
  let variant = 0;
  sqliteIndexedInvoiceColumns.forEach((column, bit) => {
    if (Object.hasOwn(changed, column)) variant |= 1 << bit;
  });
  return variant;
}

/** SQLite's write: plain `?` parameters, in the order written in each text. */
const sqliteWrite = {
  /** [header] */
  insertHeader: `INSERT INTO invoices (${list(invoiceColumns)}) SELECT ${fromJson(invoiceColumns, 'h.j')} FROM (SELECT ? AS j) AS h`,
  /** [tenant, invoice, ids JSON] */
  removeLines: 'DELETE FROM invoice_lines WHERE tenant_id = ? AND invoice_id = ? AND id IN (SELECT value FROM json_each(?))',
  /**
   * [each of lineUpdatable, tenant, invoice, id]: run once per changed line, by primary key (a join
   * with json_each scanned the invoice's lines once per changed line, and extracting from JSON cost more than the UPDATE).
   */
  changeLine: `UPDATE invoice_lines SET ${lineUpdatable.map((column) => `${column} = ?`).join(', ')} WHERE tenant_id = ? AND invoice_id = ? AND id = ?`,
  /** [tenant, invoice, rows JSON] */
  addLines: `INSERT INTO invoice_lines (tenant_id, invoice_id, ${list(lineInserted)}) SELECT ?, ?, ${fromJson(lineInserted, 'j.value')} FROM json_each(?) AS j`,
  /** [tenant, invoice, ids JSON] */
  removeAttachments: 'DELETE FROM invoice_attachments WHERE tenant_id = ? AND invoice_id = ? AND id IN (SELECT value FROM json_each(?))',
  /** [tenant, invoice, rows JSON] */
  addAttachments: `INSERT INTO invoice_attachments (tenant_id, invoice_id, ${list(attachmentInserted)}) SELECT ?, ?, ${fromJson(attachmentInserted, 'j.value')} FROM json_each(?) AS j`,
  audit: 'INSERT INTO audit_events (tenant_id, invoice_id, version, action, actor_key_id, request_id, reason, changes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  event: "INSERT INTO events (tenant_id, id, type, resource_type, resource_id, resource_version, data, created_at) VALUES (?, ?, ?, 'invoice', ?, ?, ?, ?)",
  /** [tenant, due at, due at, rows JSON ([id, endpoint, event] each)] */
  deliveries: `INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, event_id, status, attempts, next_attempt_at, created_at)
    SELECT ?, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'), 'pending', 0, ?, ? FROM json_each(?) AS j`,
  /** [resource, tenant, key, claim token] */
  markIdempotent: "UPDATE idempotency_keys SET state = 'committed', committed_resource = ? WHERE tenant_id = ? AND key = ? AND claim_token = ?",
  /** [tenant, key, hash, method, path, claim token, created at, resource, created at, expires at] */
  insertIdempotent: `INSERT INTO idempotency_keys (${list(idempotencyInserted)}) VALUES (?, ?, ?, ?, ?, 'committed', ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, key) DO NOTHING`,
};

/**
 * PostgreSQL: lock and read in one round trip, through the function of migration 0015 (it locks,
 * then reads in a statement of its own, after the lock is granted). The invoice comes back as one
 * composite column; its fields are listed here so the driver parses every column as a plain SELECT's.
 */
function lockReadSql(p: (name: ReadParameter) => string): string {
  return `SELECT ${invoiceColumns.map((column) => `(f.invoice_row).${column}`).join(', ')},
  f.lines_json AS lines, f.attachments_json AS attachments, f.tenant_edit_policy AS edit_policy, f.endpoints_json AS webhook_endpoints
  FROM folio_invoice_lock_read(${p('tenant')}::text, ${p('invoice')}::text) AS f`;
}

const statements = {
  lockRead: bound('folio_invoice_lock_read', 'postgres', readParameters, lockReadSql),
  /** SQLite: two in-process statements (the write transaction began IMMEDIATE: nothing can change between them). */
  lock: bound('folio_invoice_lock', 'sqlite', readParameters, lockSql),
  read: bound('folio_invoice_write_read', 'sqlite', readParameters, readSql),
  /** The invoice-less read (a create locks no invoice): policy and endpoints only. */
  tenantFacts: boundPair('folio_tenant_write_facts', ['tenant'] as const, (engine, p) => `SELECT NULL AS lines, NULL AS attachments, ${tenantFactsColumns(engine, p)}`),
  updateVersion: writeVariants('update'),
  insertVersion: writeVariants('insert'),
  sqlite: Object.fromEntries(Object.entries(sqliteWrite).map(([name, text]) => [name, prepare(`folio_write_${name}_sqlite`, text)])) as Record<keyof typeof sqliteWrite, PreparedStatement>,
};

/** What a write's rules and its outbox need from the tenant, read in the write's transaction. */
export interface TenantWriteFacts {
  editPolicy: EditPolicy;
  /** The tenant's enabled endpoints: [id, event_types JSON]. */
  webhookEndpoints: [string, string][];
  /** Both as the read returned them (text or null), for a write that checks they are still current (`expectedFacts`). */
  read: { editPolicy: string | null; endpoints: string | null };
}

interface ReadRow {
  lines: string | null;
  attachments: string | null;
  edit_policy: string | null;
  webhook_endpoints: string | null;
}

/**
 * JSON text for a json/jsonb parameter. JSON.stringify escapes a lone surrogate (`\ud800`) and
 * PostgreSQL's JSON parser refuses it; pg turns one in a plain string parameter into U+FFFD, so the
 * same is done here (on both engines, which then store what they stored before). Surrogate pairs are
 * written raw by JSON.stringify, so every `\udXXX` escape it writes is a lone one.
 */
const loneSurrogateEscape = /(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g;
function jsonParameter(value: unknown): string {
  const text = JSON.stringify(value);
  return text.includes('\\ud') ? text.replace(loneSurrogateEscape, '$1\\ufffd') : text;
}

const parseRows = <T>(text: string | null): T[] => (text === null ? [] : (JSON.parse(text) as T[]));

function factsOf(row: ReadRow | undefined): TenantWriteFacts {
  return {
    editPolicy: (row?.edit_policy ?? 'until_paid') as EditPolicy,
    webhookEndpoints: parseRows<[string, string]>(row?.webhook_endpoints ?? null),
    read: { editPolicy: row?.edit_policy ?? null, endpoints: row?.webhook_endpoints ?? null },
  };
}

export interface NewVersionRow {
  tenantId: string;
  /** null for an invoice that did not exist. */
  before: Invoice | null;
  after: Invoice;
  audit: { action: string; actorKeyId: string | null; requestId: string | null; reason: string | null; changes: Change[] };
  events: { id: string; type: string; data: string }[];
  deliveries: { id: string; endpointId: string; eventId: string }[];
  /** `insert`: a key new to this request, whose row this write inserts (see IdempotencyClaim). */
  idempotency: { key: string; claimToken: string; resource: string; insert?: { hash: string; method: string; path: string; createdAt: string; expiresAt: string } } | null;
  /** When the webhook deliveries become due (wall time; the events themselves carry after.updated_at). */
  deliveriesDueAt: string;
  /**
   * An update whose base was not locked and read in this transaction: the tenant facts its rules
   * used, which must still be current (else nothing is written: FLW01 on PostgreSQL, checked first on SQLite).
   */
  expectedFacts?: TenantWriteFacts['read'];
}

export interface WrittenVersion {
  /** False when the invoice's version was not the one locked (a caller that forgot to lock). */
  headerWritten: boolean;
  /** False when the request's Idempotency-Key claim was taken over (lease lost). */
  idempotencyOwned: boolean;
}

/** Columns whose value differs between two rows (the key columns never do). */
function changedColumns(before: InvoicesTable, after: InvoicesTable): Partial<InvoicesTable> {
  const changed: Record<string, unknown> = {};
  for (const column of invoiceUpdatable) if (before[column] !== after[column]) changed[column] = after[column];
  return changed as Partial<InvoicesTable>;
}

/** The lines to delete, rewrite and insert; a write keeps untouched lines as the same objects. */
function lineChanges(tenantId: string, before: Invoice | null, after: Invoice) {
  const beforeLines = new Map((before?.lines ?? []).map((line) => [line.id, line]));
  const afterIds = new Set(after.lines.map((line) => line.id));
  const removed = (before?.lines ?? []).filter((line) => !afterIds.has(line.id)).map((line) => line.id);
  const changed: InvoiceLinesTable[] = [];
  const added: InvoiceLinesTable[] = [];
  for (const line of after.lines) {
    const previous = beforeLines.get(line.id);
    if (!previous) added.push(lineToRow(tenantId, after.id, line));
    else if (previous !== line && JSON.stringify(previous) !== JSON.stringify(line)) changed.push(lineToRow(tenantId, after.id, line));
  }
  return { removed, changed, added };
}

function attachmentChanges(tenantId: string, before: AttachmentMeta[], after: Invoice) {
  const beforeIds = new Set(before.map((attachment) => attachment.id));
  const afterIds = new Set(after.attachments.map((attachment) => attachment.id));
  return {
    removed: before.filter((attachment) => !afterIds.has(attachment.id)).map((attachment) => attachment.id),
    added: after.attachments.filter((attachment) => !beforeIds.has(attachment.id)).map((attachment): InvoiceAttachmentsTable => ({ tenant_id: tenantId, invoice_id: after.id, ...attachment })),
  };
}

export const invoiceWriteStore = {
  /**
   * Locks the invoice row, then reads (in a statement started after the lock is granted) its lines
   * and attachments and the tenant's write facts. Undefined for an unknown invoice.
   */
  async lockAndRead(tx: DbOrTx, engine: Engine, tenantId: string, invoiceId: string): Promise<{ invoice: Invoice; facts: TenantWriteFacts } | undefined> {
    const key = { tenant: tenantId, invoice: invoiceId };
    let row: InvoicesTable | undefined;
    let read: ReadRow;
    if (engine === 'postgres') {
      const both = (await run<InvoicesTable & ReadRow>(tx, statements.lockRead.statement, statements.lockRead.bind(key))).rows[0];
      if (!both) return undefined;
      row = read = both;
    } else {
      row = (await run<InvoicesTable>(tx, statements.lock.statement, statements.lock.bind(key))).rows[0];
      if (!row) return undefined;
      read = (await run<ReadRow>(tx, statements.read.statement, statements.read.bind(key))).rows[0];
    }
    const invoice = rowToInvoice(row, parseRows<InvoiceLinesTable>(read.lines), parseRows<InvoiceAttachmentsTable>(read.attachments));
    return { invoice, facts: factsOf(read) };
  },

  /** The tenant's write facts when no invoice is locked (a create). */
  async tenantFacts(tx: DbOrTx, engine: Engine, tenantId: string): Promise<TenantWriteFacts> {
    const reader = statements.tenantFacts[engine];
    return factsOf((await run<ReadRow>(tx, reader.statement, reader.bind({ tenant: tenantId }))).rows[0]);
  },

  /**
   * Writes one version: one statement on PostgreSQL, a few cached ones on SQLite. `last`: nothing
   * follows in this transaction, so on PostgreSQL COMMIT goes out with the statement (and the
   * transaction has ended when this returns, committed unless it throws or reports a refusal).
   */
  async writeVersion(tx: DbOrTx, engine: Engine, version: NewVersionRow, options: { last?: boolean } = {}): Promise<WrittenVersion> {
    const { tenantId, before, after } = version;
    const afterRow = invoiceToRow(tenantId, after);
    const header = before ? changedColumns(invoiceToRow(tenantId, before), afterRow) : afterRow;
    const lines = lineChanges(tenantId, before, after);
    const attachments = attachmentChanges(tenantId, before?.attachments ?? [], after);
    if (engine === 'sqlite') return writeVersionSqlite(tx, version, afterRow, header, lines, attachments);
    const values: Record<WriteParameter, unknown> = {
      expected_edit_policy: version.expectedFacts?.editPolicy ?? null,
      expected_endpoints: version.expectedFacts?.endpoints ?? null,
      tenant: tenantId,
      invoice: after.id,
      old_version: before?.version ?? null,
      header: jsonParameter(header),
      removed_lines: lines.removed,
      changed_lines: jsonParameter(lines.changed),
      added_lines: jsonParameter(lines.added),
      removed_attachments: attachments.removed,
      added_attachments: jsonParameter(attachments.added),
      version: after.version,
      action: version.audit.action,
      actor_key_id: version.audit.actorKeyId,
      request_id: version.audit.requestId,
      reason: version.audit.reason,
      changes: JSON.stringify(version.audit.changes),
      audit_at: after.updated_at,
      due_at: version.deliveriesDueAt,
      event_ids: version.events.map((event) => event.id),
      event_types: version.events.map((event) => event.type),
      event_data: version.events.map((event) => event.data),
      delivery_ids: version.deliveries.map((delivery) => delivery.id),
      delivery_endpoints: version.deliveries.map((delivery) => delivery.endpointId),
      delivery_events: version.deliveries.map((delivery) => delivery.eventId),
      idempotency_key: version.idempotency?.key ?? null,
      claim_token: version.idempotency?.claimToken ?? null,
      committed_resource: version.idempotency?.resource ?? null,
      idempotency_hash: version.idempotency?.insert?.hash ?? null,
      idempotency_method: version.idempotency?.insert?.method ?? null,
      idempotency_path: version.idempotency?.insert?.path ?? null,
      idempotency_created_at: version.idempotency?.insert?.createdAt ?? null,
      idempotency_expires_at: version.idempotency?.insert?.expiresAt ?? null,
    };
    const idempotency = version.idempotency;
    const variant = presentParts({
      removed_lines: lines.removed.length > 0,
      changed_lines: lines.changed.length > 0,
      added_lines: lines.added.length > 0,
      removed_attachments: attachments.removed.length > 0,
      added_attachments: attachments.added.length > 0,
      deliveries: version.deliveries.length > 0,
      idempotency_mark: idempotency !== null && idempotency.insert === undefined,
      idempotency_new: idempotency?.insert !== undefined,
    });
    const write = before ? statements.updateVersion(version.expectedFacts ? variant | guardedFacts : variant) : statements.insertVersion(variant);
    try {
      const result = await (options.last ? runAndCommit : run)<{ header_rows: number; idempotency_rows: number }>(tx, write, write.bind(values));
      const row = result.rows[0];
      return { headerWritten: row.header_rows === 1, idempotencyOwned: version.idempotency === null || row.idempotency_rows === 1 };
    } catch (error) {
      // The statement's own check (migration 0016) aborted the transaction: nothing was written.
      const code = (error as { code?: string }).code;
      if (code === 'FLW01') return { headerWritten: false, idempotencyOwned: false };
      if (code === 'FLW02') return { headerWritten: true, idempotencyOwned: false };
      throw error;
    }
  },
};

async function writeVersionSqlite(
  tx: DbOrTx,
  version: NewVersionRow,
  afterRow: InvoicesTable,
  header: Partial<InvoicesTable>,
  lines: ReturnType<typeof lineChanges>,
  attachments: ReturnType<typeof attachmentChanges>,
): Promise<WrittenVersion> {
  const sqlite = statements.sqlite;
  const { tenantId, before, after } = version;
  const key = [tenantId, after.id] as const;
  let headerWritten = true;
  if (before && version.expectedFacts) {
    // A base not read in this transaction (versioning.ts, optimistic): the tenant's facts must still
    // be the ones the rules used. The transaction began IMMEDIATE, so nothing changes them before COMMIT.
    const facts = (await run<ReadRow>(tx, statements.tenantFacts.sqlite.statement, statements.tenantFacts.sqlite.bind({ tenant: tenantId }))).rows[0];
    if ((facts?.edit_policy ?? null) !== version.expectedFacts.editPolicy || (facts?.webhook_endpoints ?? null) !== version.expectedFacts.endpoints) {
      return { headerWritten: false, idempotencyOwned: false };
    }
  }
  if (before) {
    const update = sqliteUpdateHeader(sqliteHeaderVariant(header));
    const parameters = [...sqliteUnindexedUpdatable, ...update.indexed].map((column) => afterRow[column]);
    const result = await run(tx, update, [...parameters, tenantId, after.id, before.version]);
    headerWritten = Number(result.numAffectedRows) === 1;
    if (!headerWritten) return { headerWritten, idempotencyOwned: false };
  } else {
    await run(tx, sqlite.insertHeader, [jsonParameter(header)]);
  }
  if (lines.removed.length > 0) await run(tx, sqlite.removeLines, [...key, JSON.stringify(lines.removed)]);
  for (const line of lines.changed) await run(tx, sqlite.changeLine, [...lineUpdatable.map((column) => line[column]), ...key, line.id]);
  if (lines.added.length > 0) await run(tx, sqlite.addLines, [...key, jsonParameter(lines.added)]);
  if (attachments.removed.length > 0) await run(tx, sqlite.removeAttachments, [...key, JSON.stringify(attachments.removed)]);
  if (attachments.added.length > 0) await run(tx, sqlite.addAttachments, [...key, jsonParameter(attachments.added)]);
  const audit = version.audit;
  await run(tx, sqlite.audit, [...key, after.version, audit.action, audit.actorKeyId, audit.requestId, audit.reason, JSON.stringify(audit.changes), after.updated_at]);
  for (const event of version.events) await run(tx, sqlite.event, [tenantId, event.id, event.type, after.id, after.version, event.data, after.updated_at]);
  if (version.deliveries.length > 0) {
    const rows = version.deliveries.map((delivery) => [delivery.id, delivery.endpointId, delivery.eventId]);
    await run(tx, sqlite.deliveries, [tenantId, version.deliveriesDueAt, version.deliveriesDueAt, JSON.stringify(rows)]);
  }
  let idempotencyOwned = true;
  if (version.idempotency) {
    const { key: idempotencyKey, claimToken, resource, insert } = version.idempotency;
    const result = insert
      ? await run(tx, sqlite.insertIdempotent, [tenantId, idempotencyKey, insert.hash, insert.method, insert.path, claimToken, insert.createdAt, resource, insert.createdAt, insert.expiresAt])
      : await run(tx, sqlite.markIdempotent, [resource, tenantId, idempotencyKey, claimToken]);
    idempotencyOwned = Number(result.numAffectedRows) === 1;
  }
  return { headerWritten, idempotencyOwned };
}
