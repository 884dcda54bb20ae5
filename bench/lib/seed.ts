/**
 * Bulk seeding that produces rows exactly as Folio writes them.
 *
 * One template invoice is created through the real API (in-process, app.inject), so the
 * totals engine, the row mapping, the audit event and the outbox event are Folio's own.
 * The template's rows are then copied N times in SQL (generate_series on PostgreSQL, a
 * recursive CTE on SQLite), changing only the ids. Ids are deterministic so the load
 * generators can address invoices and lines without reading them first:
 *   invoice  inv_<tag:5><n:21 digits>
 *   line     lin_<tag:5><n:15 digits><position:6 digits>
 * Both are valid Folio ids (prefix + 26 characters of [0-9a-z]).
 */
import { sql, type RawBuilder } from 'kysely';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type DatabaseHandle, type Engine } from '../../src/db/database.js';
import { benchDatabaseName, freshDataDir, freshPostgresDatabase } from './common.js';
import { buildApp } from '../../src/http/app.js';
import { createApiKey } from '../../src/modules/tenants/service.js';

export const invoiceIdFor = (tag: string, n: number) => `inv_${checkTag(tag)}${String(n).padStart(21, '0')}`;
export const lineIdFor = (tag: string, n: number, position: number) =>
  `lin_${checkTag(tag)}${String(n).padStart(15, '0')}${String(position).padStart(6, '0')}`;

function checkTag(tag: string): string {
  if (!/^[0-9a-z]{5}$/.test(tag)) throw new Error(`seed tag must be 5 characters of [0-9a-z], got "${tag}"`);
  return tag;
}

export interface BenchTenant {
  tenantId: string;
  keyId: string;
  key: string;
}

export async function createBenchTenant(database: DatabaseHandle, tenantName = 'bench'): Promise<BenchTenant> {
  const created = await createApiKey(database.db, { tenantName, scopes: ['invoices:read', 'invoices:write'] });
  return { tenantId: created.tenantId, keyId: created.keyId, key: created.key };
}

/** The body of every seeded invoice: `lines` lines with a mix of tax rates and discounts. */
export function templateInvoiceBody(lines: number) {
  return {
    memo: 'Seeded by the benchmark',
    bill_to: { name: 'Bench Customer Ltd', email: 'ap@bench.example', address: { line1: '1 Bench Street', city: 'Leeds', country: 'GB' } },
    payment_terms: { net_days: 30 },
    metadata: { source: 'bench' },
    lines: Array.from({ length: lines }, (_, i) => ({
      description: `Item ${i + 1}`,
      quantity: String((i % 5) + 1),
      unit: 'pcs',
      unit_price: `${10 + (i % 17)}.${String((i * 7) % 100).padStart(2, '0')}`,
      tax_rate: i % 3 === 0 ? '10' : '20',
      ...(i % 4 === 0 ? { discount: { type: 'percent', value: '5' } } : {}),
    })),
  };
}

export interface SeedOptions {
  tenant: BenchTenant;
  /** 5 characters of [0-9a-z]; separates invoice sets (e.g. 10-line and 1,000-line invoices). */
  tag: string;
  /** Inclusive range of invoice numbers to create (lets a caller grow a set in steps). */
  from: number;
  to: number;
  linesPerInvoice: number;
  /** Invoices per INSERT … SELECT statement. */
  batchSize?: number;
  onProgress?: (done: number) => void;
}

const placeholderInvoice = '#'.repeat(21);
const placeholderLine = '#'.repeat(15);

/**
 * Creates invoices from..to (each with linesPerInvoice lines, its version-1 audit event and
 * its invoice.created outbox event). Returns how long it took.
 */
export async function seedInvoices(database: DatabaseHandle, options: SeedOptions): Promise<{ seconds: number }> {
  const started = performance.now();
  const { db, engine } = database;
  const { tenant, tag } = options;
  checkTag(tag);

  // 1. The template, written by Folio itself.
  const config = loadConfig({ NODE_ENV: 'test', FOLIO_LOG_LEVEL: 'silent', FOLIO_RATE_LIMIT_PER_MINUTE: '0', FOLIO_DATA_DIR: '/nonexistent' });
  const app = await buildApp({ config, database });
  let template: { id: string; lines: { id: string; position: number }[] };
  try {
    const reply = await app.inject({
      method: 'POST',
      url: '/v1/invoices',
      headers: { authorization: `Bearer ${tenant.key}`, 'content-type': 'application/json' },
      payload: JSON.stringify(templateInvoiceBody(options.linesPerInvoice)),
    });
    if (reply.statusCode !== 201) throw new Error(`template invoice: ${reply.statusCode} ${reply.body.slice(0, 500)}`);
    template = JSON.parse(reply.body);
  } finally {
    await app.close();
  }

  // 2. Its audit and outbox rows, with ids turned into placeholders the SQL fills in.
  const audit = await db.selectFrom('audit_events').selectAll().where('tenant_id', '=', tenant.tenantId).where('invoice_id', '=', template.id).executeTakeFirstOrThrow();
  const event = await db.selectFrom('events').selectAll().where('tenant_id', '=', tenant.tenantId).where('resource_id', '=', template.id).executeTakeFirstOrThrow();
  const withPlaceholders = (text: string) => {
    let out = text.split(template.id).join(`inv_${tag}${placeholderInvoice}`);
    for (const line of template.lines) {
      out = out.split(line.id).join(`lin_${tag}${placeholderLine}${String(line.position).padStart(6, '0')}`);
    }
    return out;
  };
  const auditChanges = withPlaceholders(audit.changes);
  const eventData = withPlaceholders(event.data);

  const invoiceColumns = Object.keys(await db.selectFrom('invoices').selectAll().where('tenant_id', '=', tenant.tenantId).where('id', '=', template.id).executeTakeFirstOrThrow());
  const lineColumns = Object.keys(
    await db.selectFrom('invoice_lines').selectAll().where('tenant_id', '=', tenant.tenantId).where('invoice_id', '=', template.id).limit(1).executeTakeFirstOrThrow(),
  );
  const auditColumns = Object.keys(audit);
  const eventColumns = Object.keys(event).filter((column) => column !== 'seq');

  const pad = (expression: string, width: number) => (engine === 'postgres' ? `lpad((${expression})::text, ${width}, '0')` : `printf('%0${width}d', ${expression})`);
  const invoiceIdSql = sql.raw(`'inv_${tag}' || ${pad('g.n', 21)}`);
  const fill = (text: string) =>
    sql`replace(replace(CAST(${text} AS TEXT), ${sql.raw(`'${placeholderInvoice}', ${pad('g.n', 21)}), '${placeholderLine}', ${pad('g.n', 15)})`)}`;
  const numbers = (from: number, to: number) =>
    sql.raw(
      engine === 'postgres'
        ? `WITH g(n) AS (SELECT generate_series(${from}, ${to}))`
        : `WITH RECURSIVE g(n) AS (SELECT ${from} UNION ALL SELECT n + 1 FROM g WHERE n < ${to})`,
    );
  /** `INSERT INTO table (columns) SELECT <columns of the template row, some replaced> FROM g CROSS JOIN table t WHERE …` */
  const copy = (table: string, columns: string[], overrides: Record<string, RawBuilder<unknown>>, where: RawBuilder<unknown>, from: number, to: number) => {
    const selectList = sql.join(columns.map((column) => overrides[column] ?? sql.raw(`t.${column}`)));
    // Ordered like the app writes them (one invoice with all its lines at a time), so rows of one
    // invoice share pages as they would after a real create; unordered, the planner interleaves
    // invoices and a 1,000-line invoice ends up on 1,000 pages.
    const order = table === 'invoice_lines' ? 'g.n, t.position' : 'g.n';
    return sql`${numbers(from, to)} INSERT INTO ${sql.raw(table)} (${sql.raw(columns.join(', '))}) SELECT ${selectList} FROM g CROSS JOIN ${sql.raw(table)} t WHERE t.tenant_id = ${tenant.tenantId} AND ${where} ORDER BY ${sql.raw(order)}`;
  };

  // Every invoice and line gets its own random UUID; serials continue the tenant's (and the counter follows).
  const uuidSql = sql.raw(
    engine === 'postgres'
      ? 'gen_random_uuid()::text'
      : "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))",
  );
  const copyBatch = async (executor: typeof db, from: number, to: number) => {
    const highest = await executor.selectFrom('invoices').select((eb) => eb.fn.max('serial').as('serial')).where('tenant_id', '=', tenant.tenantId).executeTakeFirst();
    const serialSql = sql.raw(`g.n + ${Number(highest?.serial ?? 0) - from + 1}`);
    await copy('invoices', invoiceColumns, { id: invoiceIdSql, guid: uuidSql, serial: serialSql }, sql`t.id = ${template.id}`, from, to).execute(executor);
    await sql`UPDATE number_sequences SET last_value = ${Number(highest?.serial ?? 0) + to - from + 1} WHERE tenant_id = ${tenant.tenantId} AND name = 'invoice_serial'`.execute(executor);
    await copy(
      'invoice_lines',
      lineColumns,
      { invoice_id: invoiceIdSql, id: sql.raw(`'lin_${tag}' || ${pad('g.n', 15)} || ${pad('t.position', 6)}`), guid: uuidSql },
      sql`t.invoice_id = ${template.id}`,
      from,
      to,
    ).execute(executor);
    await copy('audit_events', auditColumns, { invoice_id: invoiceIdSql, changes: fill(auditChanges) }, sql`t.invoice_id = ${template.id} AND t.version = 1`, from, to).execute(executor);
    await copy(
      'events',
      eventColumns,
      { id: sql.raw(`'evt_${tag}' || ${pad('g.n', 21)}`), resource_id: invoiceIdSql, data: fill(eventData) },
      sql`t.id = ${event.id}`,
      from,
      to,
    ).execute(executor);
  };

  const batchSize = options.batchSize ?? Math.max(1, Math.floor(100_000 / Math.max(options.linesPerInvoice, 10)));
  if (engine === 'sqlite') {
    // One transaction for the whole set: one fsync instead of one per batch.
    await db.transaction().execute(async (tx) => {
      for (let start = options.from; start <= options.to; start += batchSize) {
        await copyBatch(tx as unknown as typeof db, start, Math.min(options.to, start + batchSize - 1));
        options.onProgress?.(Math.min(options.to, start + batchSize - 1) - options.from + 1);
      }
    });
  } else {
    // Lines are copied with their invoices in one transaction, so the foreign key holds by
    // construction; its per-row check is skipped where allowed (superuser), because on fresh,
    // never-analysed tables PostgreSQL may check each line with a sequential scan of invoices,
    // which makes seeding quadratic. The constraint itself stays in force for the app.
    const superuser = await sql<{ rolsuper: boolean }>`SELECT rolsuper FROM pg_roles WHERE rolname = current_user`.execute(db);
    const skipForeignKeyChecks = superuser.rows[0]?.rolsuper === true;
    for (let start = options.from; start <= options.to; start += batchSize) {
      await db.transaction().execute(async (tx) => {
        if (skipForeignKeyChecks) await sql`SET LOCAL session_replication_role = replica`.execute(tx);
        await copyBatch(tx as unknown as typeof db, start, Math.min(options.to, start + batchSize - 1));
      });
      options.onProgress?.(Math.min(options.to, start + batchSize - 1) - options.from + 1);
    }
    await sql`ANALYZE`.execute(db);
  }
  return { seconds: (performance.now() - started) / 1000 };
}

export type { Engine };

/**
 * A fresh PostgreSQL database of its own (unique name) with one bench tenant and `invoices` seeded
 * invoices of 10 lines tagged `tag`: the setup of the side-by-side PATCH/GET benches.
 */
export async function seededPostgresBench(options: { baseName: string; tag: string; invoices: number }) {
  const dbName = benchDatabaseName(options.baseName);
  const databaseUrl = await freshPostgresDatabase(dbName);
  const database = await openDatabase({ dataDir: freshDataDir(options.baseName), databaseUrl });
  const tenant = await createBenchTenant(database);
  await seedInvoices(database, { tenant, tag: options.tag, from: 1, to: options.invoices, linesPerInvoice: 10 });
  await database.close();
  return { dbName, databaseUrl, tenant, set: { tag: options.tag, count: options.invoices, linesPerInvoice: 10 } };
}
