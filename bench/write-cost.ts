/**
 * bench:write-cost — PostgreSQL's own CPU per step of a PATCH, measured on one backend.
 *
 * Real PATCHes (memo + 3 of 10 lines, If-Match) are sent through the app in process while the pg
 * driver is traced (as dry runs: written, then rolled back, so the statements replay as they ran); the captured statements (name, text, values) are then replayed on one
 * connection of their own, each transaction rolled back so it can repeat, in these shapes:
 *   lock-read  — BEGIN, the lock-read function, ROLLBACK
 *   patch      — BEGIN, lock-read, the write statement, ROLLBACK
 *   raw        — BEGIN, SELECT version FOR UPDATE, the raw minimal CTE (bench/lib/pgbench.ts), ROLLBACK
 *   empty      — BEGIN, SELECT 1, ROLLBACK (the cost of a transaction and its round trips)
 * interleaved in rounds. The backend's CPU (utime + stime from /proc/<pid>/stat) per transaction
 * is the figure; the client's wall time per transaction is printed beside it.
 * BENCH_ITERATIONS (2000) transactions per shape per round, BENCH_ROUNDS (3); BENCH_PRINT=1 prints the
 * captured write and lock-read statements, BENCH_EXPLAIN=1 their EXPLAIN (ANALYZE, BUFFERS) and raw's;
 * BENCH_WRITE_COST_SETUP runs one SQL text (an experiment's DDL) before the replay.
 */
import fs from 'node:fs';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { buildApp } from '../src/http/app.js';
import { benchDatabaseName, dropPostgresDatabase, freshDataDir, freshPostgresDatabase, intSetting, printTable, round, runMain } from './lib/common.js';
import { createBenchTenant, invoiceIdFor, lineIdFor, seedInvoices } from './lib/seed.js';

interface Captured {
  name?: string;
  text: string;
  values?: unknown[];
}

const ticksPerSecond = 100;
function backendCpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
}

runMain(async () => {
  const iterations = intSetting('BENCH_ITERATIONS', 2000, 200);
  const rounds = intSetting('BENCH_ROUNDS', 3, 1);
  const dbName = benchDatabaseName('folio_bench_write_cost');
  const databaseUrl = await freshPostgresDatabase(dbName);
  const dataDir = freshDataDir('write-cost');
  const tag = 'wcost';
  const invoices = 200;
  try {
    const config = loadConfig({ NODE_ENV: 'production', FOLIO_DATA_DIR: dataDir, DATABASE_URL: databaseUrl, FOLIO_RATE_LIMIT_PER_MINUTE: '0', FOLIO_LOG_LEVEL: 'silent' });
    const database = await openDatabase({ dataDir, databaseUrl, poolSize: 2 });
    const tenant = await createBenchTenant(database);
    await seedInvoices(database, { tenant, tag, from: 1, to: invoices, linesPerInvoice: 10 });
    const app = await buildApp({ config, database });
    await app.ready();

    // Capture the statements of PATCHes to 20 invoices (warm first: statements prepared, key cached).
    const original = pg.Client.prototype.query;
    let captured: Captured[] | null = null;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const config = args[0] as string | { text: string; name?: string; values?: unknown[] };
      if (captured) captured.push(typeof config === 'string' ? { text: config } : { name: config.name, text: config.text, values: config.values ?? (args[1] as unknown[]) });
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
    const patches: Captured[][] = [];
    for (let n = 1; n <= 21; n++) {
      const id = invoiceIdFor(tag, n);
      const got = await app.inject({ method: 'GET', url: `/v1/invoices/${id}`, headers: { authorization: `Bearer ${tenant.key}` } });
      const version = (got.json() as { version: number }).version;
      captured = n > 1 ? [] : null;
      const lineOperations = [2, 5, 8].map((position, index) => ({ op: 'update', id: lineIdFor(tag, n, position), quantity: String(7 + index) }));
      const reply = await app.inject({
        method: 'PATCH',
        url: `/v1/invoices/${id}?dry_run=true`,
        headers: { authorization: `Bearer ${tenant.key}`, 'content-type': 'application/json', 'if-match': `"${version}"` },
        payload: { memo: `write cost ${n}`, line_operations: lineOperations },
      });
      if (reply.statusCode !== 200) throw new Error(`PATCH ${id}: ${reply.statusCode} ${reply.body}`);
      if (captured) patches.push(captured);
      captured = null;
    }
    pg.Client.prototype.query = original;
    await app.close();
    await database.close();

    const lockRead = patches.map((statements) => statements.find((s) => s.name === 'folio_invoice_lock_read'));
    const writes = patches.map((statements) => statements.find((s) => s.name?.startsWith('folio_invoice_update_version')));
    if (lockRead.some((s) => !s) || writes.some((s) => !s)) throw new Error(`unexpected statements: ${patches[0].map((s) => s.name ?? s.text.slice(0, 40)).join(' | ')}`);
    console.log(`captured ${patches.length} PATCHes: ${patches[0].map((s) => s.name ?? s.text.slice(0, 20)).join(' → ')}`);

    if (process.env.BENCH_PRINT === '1') {
      console.log(writes[0]?.text);
      console.log(JSON.stringify(writes[0]?.values, null, 1));
      console.log(lockRead[0]?.text);
    }
    const client = new pg.Client({ connectionString: databaseUrl });
    client.on('error', () => {});
    await client.connect();
    const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    // An experiment's DDL (e.g. a column's compression), applied before the replay.
    if (process.env.BENCH_WRITE_COST_SETUP) await client.query(process.env.BENCH_WRITE_COST_SETUP);
    await client.query('ANALYZE');
    const tenantId = tenant.tenantId;
    const rawCte = `WITH changed(id, quantity) AS (VALUES ($3::text, $6::numeric), ($4::text, $6::numeric), ($5::text, $6::numeric)),
lines AS (
  UPDATE invoice_lines l SET quantity = c.quantity, amount_before_discount = round(c.quantity * l.unit_price, 2), discount_amount = 0,
    net_amount = round(c.quantity * l.unit_price, 2), tax_amount = round(c.quantity * l.unit_price * coalesce(l.tax_rate, 0) / 100, 2),
    gross_amount = round(c.quantity * l.unit_price, 2) + round(c.quantity * l.unit_price * coalesce(l.tax_rate, 0) / 100, 2)
  FROM changed c JOIN invoice_lines old ON old.tenant_id = $1 AND old.invoice_id = $2 AND old.id = c.id
  WHERE l.tenant_id = $1 AND l.invoice_id = $2 AND l.id = c.id
  RETURNING l.net_amount - old.net_amount AS d_net, l.tax_amount - old.tax_amount AS d_tax, l.gross_amount - old.gross_amount AS d_gross
),
header AS (
  UPDATE invoices SET memo = 'raw update', subtotal = subtotal + d.net, tax_total = tax_total + d.tax, total = total + d.gross,
    balance = balance + d.gross, version = version + 1, updated_at = now()::text
  FROM (SELECT coalesce(sum(d_net), 0) AS net, coalesce(sum(d_tax), 0) AS tax, coalesce(sum(d_gross), 0) AS gross FROM lines) d
  WHERE tenant_id = $1 AND id = $2 RETURNING version
),
audit AS (
  INSERT INTO audit_events (tenant_id, invoice_id, version, action, actor_key_id, request_id, reason, changes, created_at)
  SELECT $1, $2, version, 'update', 'key_raw', 'req_raw', NULL, '[{"path":"/memo","from":"a","to":"b"}]', now()::text FROM header
)
INSERT INTO events (tenant_id, id, type, resource_type, resource_id, resource_version, data, created_at)
  SELECT $1, 'evt_' || substr(md5(random()::text), 1, 26), 'invoice.updated', 'invoice', $2, version, '{"changes":[]}', now()::text FROM header`;

    if (process.env.BENCH_EXPLAIN === '1') {
      for (let i = 0; i < 5; i++) {
        await client.query('BEGIN');
        await client.query({ text: (lockRead[i] as Captured).text, values: (lockRead[i] as Captured).values });
        const plan = await client.query({ text: `EXPLAIN (ANALYZE, BUFFERS) ${(writes[i] as Captured).text}`, values: (writes[i] as Captured).values });
        await client.query('ROLLBACK');
        if (i === 4) console.log(plan.rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n'));
        const n = 100 + i;
        await client.query('BEGIN');
        await client.query({ text: 'SELECT version FROM invoices WHERE tenant_id = $1 AND id = $2 FOR UPDATE', values: [tenantId, invoiceIdFor(tag, n)] });
        const rawPlan = await client.query({ text: `EXPLAIN (ANALYZE, BUFFERS) ${rawCte}`, values: [tenantId, invoiceIdFor(tag, n), lineIdFor(tag, n, 2), lineIdFor(tag, n, 5), lineIdFor(tag, n, 8), '7'] });
        await client.query('ROLLBACK');
        if (i === 4) console.log(rawPlan.rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n'));
      }
    }
    const run = (s: Captured) => client.query({ name: s.name, text: s.text, values: s.values });
    const shapes: Record<string, (i: number) => Promise<unknown>> = {
      empty: async () => {
        await client.query('BEGIN');
        await client.query({ name: 'one', text: 'SELECT 1' });
        await client.query('ROLLBACK');
      },
      'lock-read': async (i) => {
        await client.query('BEGIN');
        await run(lockRead[i % lockRead.length] as Captured);
        await client.query('ROLLBACK');
      },
      patch: async (i) => {
        await client.query('BEGIN');
        await run(lockRead[i % lockRead.length] as Captured);
        await run(writes[i % writes.length] as Captured);
        await client.query('ROLLBACK');
      },
      raw: async (i) => {
        const n = (i % 20) + 100;
        await client.query('BEGIN');
        await client.query({ name: 'raw_lock', text: 'SELECT version FROM invoices WHERE tenant_id = $1 AND id = $2 FOR UPDATE', values: [tenantId, invoiceIdFor(tag, n)] });
        await client.query({ name: 'raw_cte', text: rawCte, values: [tenantId, invoiceIdFor(tag, n), lineIdFor(tag, n, 2), lineIdFor(tag, n, 5), lineIdFor(tag, n, 8), '7'] });
        await client.query('ROLLBACK');
      },
    };
    const results: Record<string, { cpu: number[]; wall: number[] }> = {};
    for (const name of Object.keys(shapes)) results[name] = { cpu: [], wall: [] };
    for (let warm = 0; warm < 200; warm++) for (const shape of Object.values(shapes)) await shape(warm);
    for (let r = 0; r < rounds; r++) {
      for (const [name, shape] of Object.entries(shapes)) {
        const cpuStart = backendCpuMs(pid);
        const wallStart = performance.now();
        for (let i = 0; i < iterations; i++) await shape(i);
        results[name].wall.push((performance.now() - wallStart) / iterations);
        results[name].cpu.push((backendCpuMs(pid) - cpuStart) / iterations);
      }
    }
    // How often the server planned each prepared statement: custom plans are planned on every execution.
    const plans = await client.query<{ name: string; generic_plans: string; custom_plans: string }>('SELECT name, generic_plans, custom_plans FROM pg_prepared_statements ORDER BY name');
    await client.end();
    printTable('Prepared statements on the replay connection (pg_prepared_statements)', plans.rows.map((row) => ({ name: row.name, 'generic plans': row.generic_plans, 'custom plans': row.custom_plans })));
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    printTable(`PostgreSQL backend CPU per transaction (medians of ${rounds} rounds × ${iterations}; rolled back)`, Object.entries(results).map(([shape, r]) => ({ shape, 'backend CPU ms': round(median(r.cpu), 3), 'client wall ms': round(median(r.wall), 3) })));
  } catch (error) {
    console.error(error);
    throw error;
  } finally {
    await dropPostgresDatabase(dbName);
  }
});
