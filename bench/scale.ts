/**
 * bench:scale — does an update cost the same at 10k and at 1M invoices, and does changing one
 * line of a 1,000-line invoice cost about what it costs on a 10-line invoice? Plus EXPLAIN
 * (ANALYZE) of the update's queries at both sizes. PostgreSQL. See bench/README.md.
 */
import { openDatabase } from '../src/db/database.js';
import { dropPostgresDatabase, freshDataDir, freshPostgresDatabase, intSetting, printTable, round, runMain, smoke, startFolio, writeResults } from './lib/common.js';
import { explainUpdateQueries, type ExplainedQuery } from './lib/explain.js';
import { assertHealthy, runUpdates, type EtagMap, type InvoiceSet, type LoadResult } from './lib/load.js';
import { createBenchTenant, invoiceIdFor, lineIdFor, seedInvoices, type BenchTenant } from './lib/seed.js';
import { verifySeededInvoice } from './lib/verify.js';

runMain(async () => {
  const smallCount = intSetting('BENCH_SCALE_SMALL', 10_000, 200);
  const largeCount = intSetting('BENCH_SCALE_LARGE', 1_000_000, 2_000);
  const bigInvoices = intSetting('BENCH_SCALE_BIG_INVOICES', 200, 4);
  const durationSec = intSetting('BENCH_DURATION', 15, 1);
  const connections = intSetting('BENCH_SCALE_CONNECTIONS', 1, 1);
  const dbName = smoke ? 'folio_bench_smoke_scale' : 'folio_bench_scale';
  const ten: InvoiceSet = { tag: 'scale', count: smallCount, linesPerInvoice: 10 };
  const big: InvoiceSet = { tag: 'large', count: bigInvoices, linesPerInvoice: 1000 };

  console.log(`bench:scale — ${smallCount} then ${largeCount} invoices × 10 lines, plus ${bigInvoices} invoices × 1,000 lines; ${durationSec} s per run at ${connections} connection(s)`);
  const databaseUrl = await freshPostgresDatabase(dbName);
  const dataDir = freshDataDir('scale');
  const database = await openDatabase({ dataDir, databaseUrl });
  const tenant: BenchTenant = await createBenchTenant(database);
  await seedInvoices(database, { tenant, tag: big.tag, from: 1, to: big.count, linesPerInvoice: 1000 });
  const seedSmall = await seedInvoices(database, { tenant, tag: ten.tag, from: 1, to: smallCount, linesPerInvoice: 10 });
  console.log(`seeded ${smallCount} in ${round(seedSmall.seconds, 1)} s`);

  const etags: EtagMap = new Map();
  const measure = async (url: string, set: InvoiceSet, linesToChange: number, headerField: boolean, label: string) => {
    const result = await runUpdates({ url, key: tenant.key, set, connections, durationSec, linesToChange, headerField, etags });
    assertHealthy(label, result);
    console.log(`${label}: mean ${round(result.meanMs)} ms p50 ${result.p50Ms} ms p99 ${result.p99Ms} ms (${result.perSec}/s)`);
    return result;
  };
  const explain = async (n: number) => ({
    tenLines: await explainUpdateQueries(databaseUrl, tenant.tenantId, invoiceIdFor(ten.tag, n), lineIdFor(ten.tag, n, 5)),
    thousandLines: await explainUpdateQueries(databaseUrl, tenant.tenantId, invoiceIdFor(big.tag, 1), lineIdFor(big.tag, 1, 500)),
  });

  // Small database: 3 lines + memo at 10k; 1 line of a 10-line vs of a 1,000-line invoice.
  let atSmall: LoadResult;
  let oneOfTen: LoadResult;
  let oneOfThousand: LoadResult;
  let server = await startFolio({ dataDir, databaseUrl });
  try {
    await verifySeededInvoice(server.url, tenant.key, ten, etags);
    await verifySeededInvoice(server.url, tenant.key, big, etags);
    await runUpdates({ url: server.url, key: tenant.key, set: ten, connections, durationSec: smoke ? 1 : 3, linesToChange: 3, headerField: true, etags });
    await runUpdates({ url: server.url, key: tenant.key, set: big, connections, durationSec: 1, linesToChange: 1, headerField: false, etags });
    atSmall = await measure(server.url, ten, 3, true, `update at ${smallCount}`);
    oneOfTen = await measure(server.url, ten, 1, false, '1 line of a 10-line invoice');
    oneOfThousand = await measure(server.url, big, 1, false, '1 line of a 1,000-line invoice');
  } finally {
    await server.stop();
  }
  const explainSmall = await explain(Math.ceil(smallCount / 2));

  // Grow to the large size, same tables, fresh server process.
  const seedLarge = await seedInvoices(database, {
    tenant,
    tag: ten.tag,
    from: smallCount + 1,
    to: largeCount,
    linesPerInvoice: 10,
    onProgress: (done) => {
      if (done % 100_000 < 10_000) console.log(`  … ${smallCount + done} invoices`);
    },
  });
  await database.close();
  console.log(`grew to ${largeCount} in ${round(seedLarge.seconds, 1)} s`);
  const large: InvoiceSet = { ...ten, count: largeCount };
  let atLarge: LoadResult;
  server = await startFolio({ dataDir, databaseUrl });
  try {
    await verifySeededInvoice(server.url, tenant.key, large, etags);
    await runUpdates({ url: server.url, key: tenant.key, set: large, connections, durationSec: smoke ? 1 : 3, linesToChange: 3, headerField: true, etags });
    atLarge = await measure(server.url, large, 3, true, `update at ${largeCount}`);
  } finally {
    await server.stop();
  }
  const explainLarge = await explain(largeCount - 7);

  const ratio = (a: number, b: number) => round(a / b, 2);
  const rows = [
    {
      comparison: `update (3 lines + memo) at ${largeCount} vs ${smallCount} invoices`,
      'mean ms': `${round(atLarge.meanMs)} vs ${round(atSmall.meanMs)}`,
      'p50 ms': `${atLarge.p50Ms} vs ${atSmall.p50Ms}`,
      'p99 ms': `${atLarge.p99Ms} vs ${atSmall.p99Ms}`,
      'ratio (mean)': ratio(atLarge.meanMs, atSmall.meanMs),
      target: '≤ 1.25',
    },
    {
      comparison: '1 line changed: 1,000-line vs 10-line invoice',
      'mean ms': `${round(oneOfThousand.meanMs)} vs ${round(oneOfTen.meanMs)}`,
      'p50 ms': `${oneOfThousand.p50Ms} vs ${oneOfTen.p50Ms}`,
      'p99 ms': `${oneOfThousand.p99Ms} vs ${oneOfTen.p99Ms}`,
      'ratio (mean)': ratio(oneOfThousand.meanMs, oneOfTen.meanMs),
      target: '≤ 3',
    },
  ];
  printTable(`Scale (${connections} connection(s), ${durationSec} s per run)`, rows);
  const planRows = (label: string, plans: ExplainedQuery[]) =>
    plans.map((query) => ({ size: label, query: query.name, 'full scan': query.fullScan ? 'YES' : 'no', plan: query.plan.split('\n')[0].trim() }));
  printTable('EXPLAIN (ANALYZE) of the update queries (first plan line)', [
    ...planRows(`${largeCount} inv, 10-line`, explainLarge.tenLines),
    ...planRows('1,000-line invoice', explainLarge.thousandLines),
  ]);
  const fullScans = [...explainSmall.tenLines, ...explainSmall.thousandLines, ...explainLarge.tenLines, ...explainLarge.thousandLines].filter((query) => query.fullScan);
  if (fullScans.length > 0) console.log(`WARNING: ${fullScans.length} plan(s) scan a whole table: ${fullScans.map((query) => query.name).join('; ')}`);
  writeResults('scale', {
    smallCount,
    largeCount,
    bigInvoices,
    connections,
    durationSec,
    seedSeconds: { small: round(seedSmall.seconds, 1), growToLarge: round(seedLarge.seconds, 1) },
    results: { atSmall, atLarge, oneOfTen, oneOfThousand },
    table: rows,
    explain: { small: explainSmall, large: explainLarge },
  });
  if (process.env.BENCH_KEEP_DB !== '1') await dropPostgresDatabase(dbName);
});
