import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Decimal } from 'decimal.js';
import { sql } from 'kysely';
import type { Db } from '../../src/db/database.js';
import { engine, type TestApp } from './harness.js';

/**
 * Shared pieces of the reliability and security suites: the test profile (fast in CI,
 * long on demand), the figures file, a real listening server, and a dump of one tenant's
 * rows to prove that a refused request changed nothing.
 */
export const profile: 'fast' | 'long' = process.env.FOLIO_TEST_PROFILE === 'long' ? 'long' : 'fast';

/** A count for the current profile. */
export const scaled = (fast: number, long: number) => (profile === 'long' ? long : fast);

/**
 * Appends one line of figures (what was tried, what was lost) to FOLIO_TEST_FIGURES_FILE,
 * which scripts/run-tests.mjs sums up and prints at the end of a run.
 */
export function recordFigures(suite: string, figures: Record<string, number>): void {
  const file = process.env.FOLIO_TEST_FIGURES_FILE;
  if (!file) return;
  fs.appendFileSync(file, JSON.stringify({ suite, engine, profile, ...figures }) + '\n');
}

/** Counts of answers by status class, for the figures. */
export class AnswerTally {
  tried = 0;
  serverErrors = 0;
  readonly samples: string[] = [];
  see(status: number, what: string) {
    this.tried += 1;
    if (status >= 500) {
      this.serverErrors += 1;
      if (this.samples.length < 10) this.samples.push(what);
    }
  }
}

export interface HttpReply {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/** Makes the test app listen on a free port, so concurrent clients really are concurrent. */
export async function listen(t: TestApp): Promise<string> {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.server.address() as AddressInfo;
  return `http://127.0.0.1:${address.port}`;
}

/** A small fetch client over a real socket. */
export function httpClient(baseUrl: string, key: string) {
  return async function request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpReply> {
    const response = await fetch(baseUrl + path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return { status: response.status, headers: response.headers, text, body: type.includes('json') && text ? JSON.parse(text) : text };
  };
}

/** Tables whose rows may legitimately change on a refused request (none today). */
const tablesIgnoredInDumps = new Set<string>(['schema_migrations']);

const tenantTablesCache = new WeakMap<Db, Promise<string[]>>();

/** Every table that has a tenant_id column, found from the catalog once per database (so new tables are covered). */
function tenantTables(db: Db): Promise<string[]> {
  let tables = tenantTablesCache.get(db);
  if (!tables) {
    tables = findTenantTables(db);
    tenantTablesCache.set(db, tables);
  }
  return tables;
}

async function findTenantTables(db: Db): Promise<string[]> {
  if (engine === 'postgres') {
    const result = await sql<{ table_name: string }>`
      SELECT table_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND column_name = 'tenant_id' ORDER BY table_name`.execute(db);
    return result.rows.map((row) => row.table_name).filter((name) => !tablesIgnoredInDumps.has(name));
  }
  const tables = await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`.execute(db);
  const withTenant: string[] = [];
  for (const { name } of tables.rows) {
    if (tablesIgnoredInDumps.has(name)) continue;
    const columns = await sql<{ name: string }>`SELECT name FROM pragma_table_info(${name})`.execute(db);
    if (columns.rows.some((column) => column.name === 'tenant_id')) withTenant.push(name);
  }
  return withTenant;
}

/** All rows of one tenant (every table keyed by tenant_id), in a stable order, as one string. */
export async function dumpTenant(db: Db, tenantId: string): Promise<string> {
  const parts: string[] = [];
  for (const table of await tenantTables(db)) {
    const result = await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(table)} WHERE tenant_id = ${tenantId}`.execute(db);
    const rows = result.rows.map((row) => JSON.stringify(row)).sort();
    parts.push(`${table}:${rows.length}\n${rows.join('\n')}`);
  }
  return parts.join('\n');
}

export async function tenantIdOf(db: Db, name: string): Promise<string> {
  return (await db.selectFrom('tenants').select('id').where('name', '=', name).executeTakeFirstOrThrow()).id;
}

/** Checks the invariants of one stored invoice: versions 1..n each with one audit row and one event, totals = sum of lines. */
export async function checkInvoiceIntegrity(db: Db, tenantId: string, invoiceId: string): Promise<string[]> {
  const problems: string[] = [];
  const invoice = await db.selectFrom('invoices').selectAll().where('tenant_id', '=', tenantId).where('id', '=', invoiceId).executeTakeFirst();
  if (!invoice) return [`invoice ${invoiceId} missing`];
  const audit = await db.selectFrom('audit_events').select('version').where('tenant_id', '=', tenantId).where('invoice_id', '=', invoiceId).orderBy('version').execute();
  const expected = Array.from({ length: invoice.version }, (_, index) => index + 1);
  const auditVersions = audit.map((row) => Number(row.version));
  if (JSON.stringify(auditVersions) !== JSON.stringify(expected)) {
    problems.push(`${invoiceId}: audit versions [${auditVersions.join(',')}] for version ${invoice.version}`);
  }
  const events = await db
    .selectFrom('events')
    .select('resource_version')
    .where('tenant_id', '=', tenantId)
    .where('resource_id', '=', invoiceId)
    .orderBy('seq')
    .execute();
  const eventVersions = events.map((row) => Number(row.resource_version));
  if (JSON.stringify(eventVersions) !== JSON.stringify(expected)) {
    problems.push(`${invoiceId}: event versions [${eventVersions.join(',')}] for version ${invoice.version}`);
  }
  const lines = await db.selectFrom('invoice_lines').selectAll().where('tenant_id', '=', tenantId).where('invoice_id', '=', invoiceId).execute();
  if (lines.length !== Number(invoice.line_count)) problems.push(`${invoiceId}: line_count ${invoice.line_count} but ${lines.length} lines`);
  const sum = (field: 'net_amount' | 'tax_amount' | 'gross_amount') => lines.reduce((acc, line) => acc.plus(String(line[field])), new Decimal(0));
  if (!sum('net_amount').eq(String(invoice.subtotal))) problems.push(`${invoiceId}: subtotal ${invoice.subtotal} ≠ Σ net ${sum('net_amount')}`);
  if (!sum('tax_amount').eq(String(invoice.tax_total))) problems.push(`${invoiceId}: tax_total ${invoice.tax_total} ≠ Σ tax ${sum('tax_amount')}`);
  if (!sum('gross_amount').eq(String(invoice.total))) problems.push(`${invoiceId}: total ${invoice.total} ≠ Σ gross ${sum('gross_amount')}`);
  return problems;
}
