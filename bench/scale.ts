/**
 * bench:scale — does an update cost the same at 10k and at 1M invoices, and does changing one
 * line of a 1,000-line invoice cost about what it costs on a 10-line invoice? Plus EXPLAIN
 * (ANALYZE) of the update's queries at both sizes. PostgreSQL. See bench/README.md.
 *
 * The machine is shared, so the compared runs are interleaved: two databases (10k, 1M), two
 * servers, and BENCH_SCALE_ROUNDS rounds of short slices A, B, A, B…; a ratio is taken of the
 * medians over rounds, so a burst of outside load hits both sides alike.
 */
import pg from 'pg';
import { openDatabase } from '../src/db/database.js';
import { benchDatabaseName, dropPostgresDatabase, freshDataDir, freshPostgresDatabase, intSetting, pgAdminUrl, printTable, round, runMain, smoke, startFolio, writeResults, type FolioServer } from './lib/common.js';
import { explainUpdateQueries, type ExplainedQuery } from './lib/explain.js';
import { assertHealthy, runUpdates, type EtagMap, type InvoiceSet, type LoadResult } from './lib/load.js';
import { createBenchTenant, invoiceIdFor, lineIdFor, seedInvoices, type BenchTenant } from './lib/seed.js';
import { verifySeededInvoice } from './lib/verify.js';

runMain(async () => {
  const smallCount = intSetting('BENCH_SCALE_SMALL', 10_000, 200);
  const largeCount = intSetting('BENCH_SCALE_LARGE', 1_000_000, 2_000);
  const bigInvoices = intSetting('BENCH_SCALE_BIG_INVOICES', 200, 4);
  const sliceSec = intSetting('BENCH_DURATION', 5, 1);
  const rounds = intSetting('BENCH_SCALE_ROUNDS', 6, 1);
  const connections = intSetting('BENCH_SCALE_CONNECTIONS', 1, 1);
  const prefix = smoke ? 'folio_bench_smoke_scale' : 'folio_bench_scale';
  const ten: InvoiceSet = { tag: 'scale', count: smallCount, linesPerInvoice: 10 };
  const large: InvoiceSet = { ...ten, count: largeCount };
  const big: InvoiceSet = { tag: 'large', count: bigInvoices, linesPerInvoice: 1000 };

  console.log(`bench:scale — ${smallCount} vs ${largeCount} invoices × 10 lines, and ${bigInvoices} invoices × 1,000 lines; ${rounds} rounds of ${sliceSec} s slices at ${connections} connection(s)`);

  // Small database: 10k ten-line invoices and the 1,000-line invoices.
  const smallName = benchDatabaseName(`${prefix}_small`);
  const smallUrl = await freshPostgresDatabase(smallName);
  const smallDir = freshDataDir('scale-small');
  const smallDb = await openDatabase({ dataDir: smallDir, databaseUrl: smallUrl });
  const smallTenant = await createBenchTenant(smallDb);
  await seedInvoices(smallDb, { tenant: smallTenant, tag: big.tag, from: 1, to: big.count, linesPerInvoice: 1000 });
  const seedSmall = await seedInvoices(smallDb, { tenant: smallTenant, tag: ten.tag, from: 1, to: smallCount, linesPerInvoice: 10 });
  await smallDb.close();

  // Large database: 1M ten-line invoices. BENCH_SCALE_REUSE=1 keeps a previous run's database if it is complete.
  // A fixed name only when asked to keep and reuse it (BENCH_SCALE_REUSE=1); otherwise unique to this run.
  const largeName = process.env.BENCH_SCALE_REUSE === '1' ? `${prefix}_large` : benchDatabaseName(`${prefix}_large`);
  const largeDir = freshDataDir('scale-large');
  const largeUrl = await reusableLargeDatabase(largeName, largeCount);
  const largeDb = await openDatabase({ dataDir: largeDir, databaseUrl: largeUrl.url });
  const largeTenant = await createBenchTenant(largeDb);
  let seedLargeSeconds = 0;
  if (!largeUrl.reused) {
    const seeded = await seedInvoices(largeDb, {
      tenant: largeTenant,
      tag: ten.tag,
      from: 1,
      to: largeCount,
      linesPerInvoice: 10,
      onProgress: (done) => {
        if (done % 100_000 < 10_000) console.log(`  … ${done} invoices`);
      },
    });
    seedLargeSeconds = seeded.seconds;
    console.log(`seeded ${largeCount} in ${round(seeded.seconds, 1)} s`);
  } else {
    console.log(`reusing ${largeName} (${largeCount} invoices)`);
  }
  await largeDb.close();

  const smallServer = await startFolio({ dataDir: smallDir, databaseUrl: smallUrl });
  const largeServer = await startFolio({ dataDir: largeDir, databaseUrl: largeUrl.url });
  const smallEtags: EtagMap = new Map();
  const largeEtags: EtagMap = new Map();
  const slices: Record<'atSmall' | 'atLarge' | 'oneOfTen' | 'oneOfThousand', LoadResult[]> = { atSmall: [], atLarge: [], oneOfTen: [], oneOfThousand: [] };
  const run = async (server: FolioServer, tenant: BenchTenant, set: InvoiceSet, etags: EtagMap, linesToChange: number, headerField: boolean, durationSec: number) => {
    const result = await runUpdates({ url: server.url, key: tenant.key, set, connections, durationSec, linesToChange, headerField, etags });
    assertHealthy(`scale ${set.tag} ${set.count}`, result);
    return result;
  };
  try {
    await verifySeededInvoice(smallServer.url, smallTenant.key, ten, smallEtags);
    await verifySeededInvoice(smallServer.url, smallTenant.key, big, smallEtags);
    await verifySeededInvoice(largeServer.url, largeTenant.key, large, largeEtags);
    // Warm-up, not measured (2 s even in the smoke run: a cold server on a loaded machine may not answer within 1 s).
    await run(smallServer, smallTenant, ten, smallEtags, 3, true, smoke ? 2 : 3);
    await run(largeServer, largeTenant, large, largeEtags, 3, true, smoke ? 2 : 3);
    await run(smallServer, smallTenant, big, smallEtags, 1, false, 1);
    for (let r = 1; r <= rounds; r++) {
      slices.atSmall.push(await run(smallServer, smallTenant, ten, smallEtags, 3, true, sliceSec));
      slices.atLarge.push(await run(largeServer, largeTenant, large, largeEtags, 3, true, sliceSec));
      slices.oneOfTen.push(await run(smallServer, smallTenant, ten, smallEtags, 1, false, sliceSec));
      slices.oneOfThousand.push(await run(smallServer, smallTenant, big, smallEtags, 1, false, sliceSec));
      const last = (name: keyof typeof slices) => `${round(slices[name].at(-1)!.meanMs, 1)}`;
      console.log(`round ${r}: mean ms 10k ${last('atSmall')} | 1M ${last('atLarge')} | 1 of 10 lines ${last('oneOfTen')} | 1 of 1,000 lines ${last('oneOfThousand')}`);
    }
  } finally {
    await smallServer.stop();
    await largeServer.stop();
  }

  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  };
  const stat = (name: keyof typeof slices) => ({
    meanMs: round(median(slices[name].map((slice) => slice.meanMs)), 2),
    p50Ms: median(slices[name].map((slice) => slice.p50Ms)),
    p99Ms: median(slices[name].map((slice) => slice.p99Ms)),
  });
  const atSmall = stat('atSmall');
  const atLarge = stat('atLarge');
  const oneOfTen = stat('oneOfTen');
  const oneOfThousand = stat('oneOfThousand');
  const rows = [
    {
      comparison: `update (3 lines + memo) at ${largeCount} vs ${smallCount} invoices`,
      'mean ms': `${atLarge.meanMs} vs ${atSmall.meanMs}`,
      'p50 ms': `${atLarge.p50Ms} vs ${atSmall.p50Ms}`,
      'p99 ms': `${atLarge.p99Ms} vs ${atSmall.p99Ms}`,
      'ratio (mean)': round(atLarge.meanMs / atSmall.meanMs, 2),
      'ratio (p50)': round(atLarge.p50Ms / atSmall.p50Ms, 2),
      target: '≤ 1.25',
    },
    {
      comparison: '1 line changed: 1,000-line vs 10-line invoice',
      'mean ms': `${oneOfThousand.meanMs} vs ${oneOfTen.meanMs}`,
      'p50 ms': `${oneOfThousand.p50Ms} vs ${oneOfTen.p50Ms}`,
      'p99 ms': `${oneOfThousand.p99Ms} vs ${oneOfTen.p99Ms}`,
      'ratio (mean)': round(oneOfThousand.meanMs / oneOfTen.meanMs, 2),
      'ratio (p50)': round(oneOfThousand.p50Ms / oneOfTen.p50Ms, 2),
      target: '≤ 3',
    },
  ];
  printTable(`Scale (${connections} connection(s); medians over ${rounds} interleaved rounds of ${sliceSec} s)`, rows);

  const explainSmall = {
    tenLines: await explainUpdateQueries(smallUrl, smallTenant.tenantId, invoiceIdFor(ten.tag, Math.ceil(smallCount / 2)), lineIdFor(ten.tag, Math.ceil(smallCount / 2), 5)),
    thousandLines: await explainUpdateQueries(smallUrl, smallTenant.tenantId, invoiceIdFor(big.tag, 1), lineIdFor(big.tag, 1, 500)),
  };
  const explainLarge = { tenLines: await explainUpdateQueries(largeUrl.url, largeTenant.tenantId, invoiceIdFor(ten.tag, largeCount - 7), lineIdFor(ten.tag, largeCount - 7, 5)) };
  const planRows = (label: string, plans: ExplainedQuery[]) =>
    plans.map((query) => ({ size: label, query: query.name, 'full scan': query.fullScan ? 'YES' : 'no', plan: query.plan.split('\n')[0].trim() }));
  printTable('EXPLAIN (ANALYZE) of the update queries (first plan line)', [
    ...planRows(`${largeCount} invoices`, explainLarge.tenLines),
    ...planRows('1,000-line invoice', explainSmall.thousandLines),
  ]);
  const fullScans = [...explainSmall.tenLines, ...explainSmall.thousandLines, ...explainLarge.tenLines].filter((query) => query.fullScan);
  if (fullScans.length > 0) console.log(`WARNING: ${fullScans.length} plan(s) scan a whole table: ${fullScans.map((query) => query.name).join('; ')}`);
  writeResults('scale', {
    smallCount,
    largeCount,
    bigInvoices,
    connections,
    rounds,
    sliceSec,
    seedSeconds: { small: round(seedSmall.seconds, 1), large: round(seedLargeSeconds, 1), largeReused: largeUrl.reused },
    medians: { atSmall, atLarge, oneOfTen, oneOfThousand },
    slices,
    table: rows,
    explain: { small: explainSmall, large: explainLarge },
  });
  if (process.env.BENCH_KEEP_DB !== '1') {
    await dropPostgresDatabase(smallName);
    if (process.env.BENCH_SCALE_REUSE !== '1') await dropPostgresDatabase(largeName);
  }
});

/** With BENCH_SCALE_REUSE=1, an existing database holding `count` seeded invoices is kept (seeding 1M takes minutes). */
async function reusableLargeDatabase(name: string, count: number): Promise<{ url: string; reused: boolean }> {
  const url = new URL(pgAdminUrl);
  url.pathname = `/${name}`;
  if (process.env.BENCH_SCALE_REUSE === '1') {
    const client = new pg.Client({ connectionString: url.toString() });
    try {
      await client.connect();
      const result = await client.query(`SELECT count(*)::int AS n FROM invoices WHERE id LIKE 'inv_scale%'`);
      if (result.rows[0].n === count) return { url: url.toString(), reused: true };
    } catch {
      // no such database yet
    } finally {
      await client.end().catch(() => {});
    }
  }
  return { url: await freshPostgresDatabase(name, { keep: process.env.BENCH_SCALE_REUSE === '1' }), reused: false };
}
