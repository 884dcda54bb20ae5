/**
 * bench:list — does every invoice-list filter and sort stay flat from 10k to 1M invoices, and
 * does none of them scan the invoices table? PostgreSQL. See bench/README.md ("Invoice list").
 *
 * Seeds with bench/lib/seed.ts (one template invoice copied), then spreads the copies over
 * statuses, numbers, dates, currencies, totals, customers and texts with one UPDATE (a bench
 * shortcut: the app never writes like this). Each case runs through the real invoice service
 * with a logging Kysely, so the SQL explained is exactly the SQL the API runs.
 */
import { Kysely, PostgresDialect, type CompiledQuery } from 'kysely';
import pg from 'pg';
import { openDatabase } from '../src/db/database.js';
import type { Database } from '../src/db/schema.js';
import type { InvoiceListFilter } from '../src/modules/invoices/list-filter.js';
import { createInvoiceService } from '../src/modules/invoices/service.js';
import { createWriteKernel } from '../src/modules/invoices/versioning.js';
import { fixedClock } from '../src/shared/time.js';
import { benchDatabaseName, dropPostgresDatabase, freshDataDir, freshPostgresDatabase, intSetting, printTable, round, runMain, smoke, writeResults } from './lib/common.js';
import { createBenchTenant, seedInvoices, type BenchTenant } from './lib/seed.js';

const today = '2026-06-15';
const tag = 'lists';

/** Spreads seeded rows n = from..to over the values the filters look for (deterministic in n). */
async function diversify(url: string, tenantId: string, from: number, to: number) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const n = `cast(substr(id, 10) as bigint)`;
  const where = `tenant_id = $1 and id like 'inv_${tag}%' and ${n} between ${from} and ${to}`;
  await client.query(`
    update invoices set
      status = case when ${n} % 10 < 2 then 'draft' when ${n} % 10 < 7 then 'open' when ${n} % 10 < 9 then 'paid' else 'void' end,
      number = case when ${n} % 10 < 2 then null else 'INV-' || (2020 + ${n} % 7) || '-' || lpad(${n}::text, 8, '0') end,
      issue_date = case when ${n} % 10 < 2 then null else to_char(date '2020-01-01' + (${n} % 2500)::int, 'YYYY-MM-DD') end,
      due_date = case when ${n} % 10 < 2 then null else to_char(date '2020-01-31' + ((${n} % 2500) + (${n} % 3) * 1000)::int, 'YYYY-MM-DD') end,
      currency = (array['USD', 'EUR', 'GBP', 'USD', 'USD'])[${n} % 5 + 1],
      total = ((${n} * 7919) % 1000000) / 100.0,
      amount_paid = case when ${n} % 10 in (7, 8) then ((${n} * 7919) % 1000000) / 100.0 when ${n} % 100 = 3 then 1 else 0 end,
      balance = case when ${n} % 10 in (7, 8) then 0 when ${n} % 100 = 3 then ((${n} * 7919) % 1000000) / 100.0 - 1 else ((${n} * 7919) % 1000000) / 100.0 end,
      customer_id = 'cus_' || lpad((${n} % 5000)::text, 26, '0'),
      memo = 'Order ' || ${n} || ' ' || (array['consulting', 'hosting', 'licence', 'support', 'training', 'travel', 'audit', 'retainer'])[${n} % 8 + 1],
      bill_to = '{"name":"Customer ' || (${n} % 5000) || ' Ltd"}',
      updated_at = to_char(timestamp '2024-01-01' + ${n} * interval '30 seconds', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
    where ${where}`, [tenantId]);
  await client.query(
    `update invoice_lines set description = 'Part ' || cast(substr(invoice_id, 10) as bigint) || ' widget'
     where tenant_id = $1 and invoice_id like 'inv_${tag}%' and cast(substr(invoice_id, 10) as bigint) between ${from} and ${to}`,
    [tenantId],
  );
  await client.query('analyze invoices');
  await client.query('analyze invoice_lines');
  await client.end();
}

interface Case {
  name: string;
  query: string;
  filter: InvoiceListFilter;
  /** Read the second page (the cursor from the first), to explain the keyset condition. */
  secondPage?: boolean;
}

const cases = (count: number): Case[] => {
  const mid = Math.floor(count / 2);
  return [
    { name: 'no filter (newest first)', query: '', filter: {} },
    { name: 'status', query: 'status=open', filter: { status: ['open'] } },
    { name: 'status (two)', query: 'status=draft,void', filter: { status: ['draft', 'void'] } },
    { name: 'payment_status overdue', query: 'payment_status=overdue', filter: { paymentStatus: ['overdue'] } },
    { name: 'payment_status partially_paid', query: 'payment_status=partially_paid', filter: { paymentStatus: ['partially_paid'] } },
    { name: 'payment_status paid', query: 'payment_status=paid', filter: { paymentStatus: ['paid'] } },
    { name: 'payment_status unpaid', query: 'payment_status=unpaid', filter: { paymentStatus: ['unpaid'] } },
    { name: 'customer_id', query: 'customer_id=cus_…0042', filter: { customerId: `cus_${'42'.padStart(26, '0')}` } },
    { name: 'issue_date range (a month)', query: 'issue_date_from=2022-03-01&issue_date_to=2022-03-31', filter: { issueDate: { from: '2022-03-01', to: '2022-03-31' } } },
    { name: 'due_date range (a week)', query: 'due_date_from=2023-05-01&due_date_to=2023-05-07', filter: { dueDate: { from: '2023-05-01', to: '2023-05-07' } } },
    { name: 'updated_since (newest 1%)', query: 'updated_since=…', filter: { updatedSince: new Date(Date.UTC(2024, 0, 1) + Math.floor(count * 0.99) * 30_000).toISOString() } },
    { name: 'currency', query: 'currency=GBP', filter: { currency: 'GBP' } },
    { name: 'total range', query: 'total_min=5000&total_max=5010', filter: { total: { min: '5000', max: '5010' } } },
    { name: 'number_prefix', query: `number_prefix=INV-2023-${String(mid).padStart(8, '0').slice(0, 6)}`, filter: { numberPrefix: `INV-2023-${String(mid).padStart(8, '0').slice(0, 6)}` } },
    { name: 'q (memo / bill-to name)', query: `q=Order ${mid} `, filter: { text: `Order ${mid} ` } },
    { name: 'q (line description)', query: `q=Part ${mid} widget`, filter: { text: `Part ${mid} widget` } },
    { name: 'sort=number, page 2', query: 'sort=number', filter: { sort: { field: 'number', descending: false } }, secondPage: true },
    { name: 'sort=-total, page 2', query: 'sort=-total', filter: { sort: { field: 'total', descending: true } }, secondPage: true },
    { name: 'sort=issue_date, page 2', query: 'sort=issue_date', filter: { sort: { field: 'issue_date', descending: false } }, secondPage: true },
    { name: 'sort=-due_date, page 2', query: 'sort=-due_date', filter: { sort: { field: 'due_date', descending: true } }, secondPage: true },
    { name: 'sort=-updated_at, page 2', query: 'sort=-updated_at', filter: { sort: { field: 'updated_at', descending: true } }, secondPage: true },
    { name: 'status + sort=-total, page 2', query: 'status=open&sort=-total', filter: { status: ['open'], sort: { field: 'total', descending: true } }, secondPage: true },
  ];
};

interface CaseResult {
  name: string;
  query: string;
  rows: number;
  medianMs: number;
  seqScanOnInvoices: boolean;
  plan: string;
}

/** One database of the comparison: its own pool and invoice service, with the SQL it runs captured on demand. */
function openRunner(url: string, tenant: BenchTenant) {
  const captured: CompiledQuery[] = [];
  let capturing = false;
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    log: (event) => {
      if (capturing && event.level === 'query') captured.push(event.query);
    },
  });
  const kernel = createWriteKernel({ db, engine: 'postgres', clock: fixedClock(`${today}T12:00:00Z`) });
  const invoices = createInvoiceService({ db, engine: 'postgres', kernel, maxLinesPerInvoice: 1000 });
  const ctx = { auth: { tenantId: tenant.tenantId, keyId: tenant.keyId, scopes: new Set(['invoices:read'] as const) }, requestId: 'bench' };
  return {
    /** The filter of a case, with the cursor of its first page when the case reads the second. */
    async prepare(item: Case): Promise<InvoiceListFilter> {
      const filter: InvoiceListFilter = { ...item.filter, limit: 20 };
      if (item.secondPage) filter.cursor = (await invoices.list(ctx, filter)).next_cursor ?? undefined;
      return filter;
    },
    async timeOnce(filter: InvoiceListFilter): Promise<{ ms: number; rows: number }> {
      const started = performance.now();
      const rows = (await invoices.list(ctx, filter)).data.length;
      return { ms: performance.now() - started, rows };
    },
    /** EXPLAIN ANALYZE of the invoice query the service runs (the page's lines are key lookups, explained by bench:scale). */
    async explain(filter: InvoiceListFilter): Promise<string> {
      captured.length = 0;
      capturing = true;
      await invoices.list(ctx, filter);
      capturing = false;
      const plans: string[] = [];
      for (const query of captured.filter((q) => q.sql.startsWith('select * from "invoices"'))) {
        const explained = await pool.query(`explain (analyze, costs off, timing off, summary off) ${query.sql}`, query.parameters as unknown[]);
        plans.push(explained.rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n'));
      }
      return plans.join('\n-- then (the nulls section) --\n');
    },
    close: () => db.destroy(),
  };
}

type Runner = ReturnType<typeof openRunner>;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * Every case on both databases, interleaved request by request (small, large, small, …), so a
 * moment of load on the shared machine hits both sides alike and the ratio stays meaningful.
 */
async function runCasesSideBySide(small: Runner, large: Runner, casesOf: (count: number) => Case[], counts: [number, number], rounds: number) {
  const results: { small: CaseResult; large: CaseResult }[] = [];
  const [smallCases, largeCases] = [casesOf(counts[0]), casesOf(counts[1])];
  for (let index = 0; index < smallCases.length; index++) {
    const sides = [
      { runner: small, item: smallCases[index] },
      { runner: large, item: largeCases[index] },
    ];
    const filters = await Promise.all(sides.map((side) => side.runner.prepare(side.item)));
    const timesMs: number[][] = [[], []];
    const rows = [0, 0];
    for (let round = 0; round < rounds; round++) {
      for (let side = 0; side < 2; side++) {
        const timed = await sides[side].runner.timeOnce(filters[side]);
        timesMs[side].push(timed.ms);
        rows[side] = timed.rows;
      }
    }
    const [smallResult, largeResult] = await Promise.all(
      sides.map(async (side, at) => {
        const plan = await side.runner.explain(filters[at]);
        return { name: side.item.name, query: side.item.query, rows: rows[at], medianMs: round(median(timesMs[at])), seqScanOnInvoices: /Seq Scan on invoices\b/.test(plan), plan };
      }),
    );
    results.push({ small: smallResult, large: largeResult });
  }
  return results;
}

runMain(async () => {
  const smallCount = intSetting('BENCH_LIST_SMALL', 10_000, 500);
  const largeCount = intSetting('BENCH_LIST_LARGE', 1_000_000, 5_000);
  const rounds = intSetting('BENCH_LIST_ROUNDS', 31, 3);
  // Two databases, one per size, named after this process (the machine is shared).
  const names = [smallCount, largeCount].map((count) => benchDatabaseName(`folio_bench_${smoke ? 'smoke_' : ''}list_${count}`));
  const closers: (() => Promise<void>)[] = [];
  try {
    const runners: Runner[] = [];
    for (const [at, count] of [smallCount, largeCount].entries()) {
      const url = await freshPostgresDatabase(names[at]);
      const database = await openDatabase({ dataDir: freshDataDir(`list-${count}`), databaseUrl: url });
      closers.push(() => database.close());
      const tenant = await createBenchTenant(database);
      const started = performance.now();
      await seedInvoices(database, { tenant, tag, from: 1, to: count, linesPerInvoice: 1, onProgress: (done) => process.stdout.write(`\rseeded ${done}`) });
      await diversify(url, tenant.tenantId, 1, count);
      console.log(`\n${count} invoices ready in ${round((performance.now() - started) / 1000, 1)} s`);
      const runner = openRunner(url, tenant);
      closers.push(() => runner.close());
      runners.push(runner);
    }
    const results = await runCasesSideBySide(runners[0], runners[1], cases, [smallCount, largeCount], rounds);
    const rows = results.map(({ small, large }) => ({
      case: small.name,
      rows: `${small.rows} / ${large.rows}`,
      [`${smallCount} ms`]: small.medianMs,
      [`${largeCount} ms`]: large.medianMs,
      ratio: round(large.medianMs / small.medianMs),
      'seq scan': small.seqScanOnInvoices || large.seqScanOnInvoices ? 'YES' : 'no',
    }));
    printTable(`invoice list: median of ${rounds} service calls each (page of 20, with lines), ${smallCount} vs ${largeCount} invoices, interleaved`, rows);
    for (const { large } of results) console.log(`\n### ${large.name} (${large.query})\n${large.plan}`);
    for (const { small } of results) if (small.seqScanOnInvoices) console.log(`\n### at ${smallCount}: ${small.name} (${small.query})\n${small.plan}`);
    console.log(`\nwrote ${writeResults(smoke ? 'list-smoke' : 'list', { smallCount, largeCount, rounds, today, rows, plans: Object.fromEntries(results.map(({ large }) => [large.name, large.plan])) })}`);
    if (results.some(({ large }) => large.seqScanOnInvoices)) process.exitCode = 1;
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  } finally {
    // Only after every pool of this run is closed: a forced drop terminates open connections.
    for (const close of closers.reverse()) await close().catch(() => {});
    for (const name of names) await dropPostgresDatabase(name);
  }
});
