/**
 * bench:update — PATCH throughput and latency through HTTP on PostgreSQL, against the same
 * transaction as raw SQL (pgbench), at several connection counts. See bench/README.md.
 */
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../src/db/database.js';
import {
  benchDatabaseName,
  dropPostgresDatabase,
  freshDataDir,
  freshPostgresDatabase,
  intSetting,
  listSetting,
  printTable,
  resultsDir,
  round,
  runMain,
  smoke,
  startFolio,
  writeResults,
} from './lib/common.js';
import { runUpdateSeries, updateSeriesColumns, type InvoiceSet } from './lib/load.js';
import { findPgbench, runPgbench, updateScript, type PgbenchResult } from './lib/pgbench.js';
import { summariseProfiles } from './lib/profile.js';
import { createBenchTenant, seedInvoices } from './lib/seed.js';

runMain(async () => {
  const invoices = intSetting('BENCH_INVOICES', 100_000, 300);
  const durationSec = intSetting('BENCH_DURATION', 15, 2);
  const connectionsList = listSetting('BENCH_CONNECTIONS', [1, 4, 16, 32], [4]);
  const linesToChange = 3;
  const set: InvoiceSet = { tag: 'bench', count: invoices, linesPerInvoice: 10 };
  const dbName = benchDatabaseName(smoke ? 'folio_bench_smoke_update' : 'folio_bench_update');

  console.log(`bench:update — ${invoices} invoices × 10 lines on PostgreSQL, ${durationSec} s per run, connections ${connectionsList.join(', ')}`);
  const databaseUrl = await freshPostgresDatabase(dbName);
  const dataDir = freshDataDir('update');
  const database = await openDatabase({ dataDir, databaseUrl });
  const tenant = await createBenchTenant(database);
  const seeded = await seedInvoices(database, { tenant, tag: set.tag, from: 1, to: invoices, linesPerInvoice: 10 });
  await database.close();
  console.log(`seeded in ${round(seeded.seconds, 1)} s`);

  const profileDir = process.env.BENCH_CPU_PROF === '1' ? path.join(resultsDir, 'profiles', `update-${Date.now()}`) : undefined;
  const server = await startFolio({ dataDir, databaseUrl, cpuProfileDir: profileDir });
  let folio: Awaited<ReturnType<typeof runUpdateSeries>>;
  try {
    folio = await runUpdateSeries({ server, key: tenant.key, set, connectionsList, durationSec, warmUpSec: smoke ? 1 : 3, label: 'folio' });
  } finally {
    await server.stop();
  }

  const pgbench = findPgbench();
  const raw: PgbenchResult[] = [];
  if (!pgbench) {
    console.log('pgbench not found (PATH or /usr/lib/postgresql/*/bin): skipping the raw-SQL comparison. Install postgresql-client or set BENCH_PGBENCH.');
  } else {
    const script = updateScript(10, linesToChange);
    for (const clients of connectionsList) {
      const result = runPgbench({ pgbench, databaseUrl, script, clients, durationSec, variables: { tenant: tenant.tenantId, tag: set.tag, ninv: invoices } });
      raw.push(result);
      console.log(`raw    c=${clients}: ${result.perSec}/s p50 ${result.p50Ms} ms p99 ${result.p99Ms} ms`);
    }
  }

  const rows = folio.map((result, i) => ({
    ...updateSeriesColumns(result),
    'raw upd/s': raw[i]?.perSec ?? 'skipped',
    'raw p50 ms': raw[i]?.p50Ms ?? '-',
    'raw p99 ms': raw[i]?.p99Ms ?? '-',
    'folio ÷ raw': raw[i] ? round(result.perSec / raw[i].perSec, 2) : '-',
  }));
  printTable(`Update: PATCH 3 of 10 lines + memo with If-Match (${invoices} invoices, ${durationSec} s per run, ${os.cpus().length} cores shared by client, server and PostgreSQL)`, rows);
  const profile = profileDir ? summariseProfiles(profileDir, 25) : undefined;
  if (profile) {
    printTable('CPU profile of the server: self time by area (non-idle samples)', profile.byArea);
    printTable('CPU profile of the server: top frames by self time', profile.top);
  }
  writeResults('update', { invoices, linesPerInvoice: 10, linesChanged: linesToChange, durationSec, seedSeconds: round(seeded.seconds, 1), folio, raw, table: rows, profile });
  if (process.env.BENCH_KEEP_DB !== '1') await dropPostgresDatabase(dbName);
});
