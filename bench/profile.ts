/**
 * bench:profile — runs the update load against a server started with `node --cpu-prof` and
 * prints where the server's CPU time goes during the measured load (self time by area, top frames,
 * Folio's functions by total time); start-up and a 2 s warm-up are left out of the summary.
 * BENCH_PROFILE_LINES (10) lines per invoice, BENCH_PROFILE_CHANGED (3) lines changed per PATCH,
 * BENCH_CONNECTIONS (16), BENCH_ENGINE (postgres | sqlite).
 */
import path from 'node:path';
import { openDatabase } from '../src/db/database.js';
import { benchDatabaseName, cpuTimeMs, dropPostgresDatabase, freshDataDir, freshPostgresDatabase, intSetting, printTable, resultsDir, round, runMain, smoke, startFolio, writeResults } from './lib/common.js';
import { assertHealthy, runUpdates, type EtagMap, type InvoiceSet } from './lib/load.js';
import { summariseProfiles } from './lib/profile.js';
import { createBenchTenant, seedInvoices } from './lib/seed.js';
import { verifySeededInvoice } from './lib/verify.js';

runMain(async () => {
  const engine = process.env.BENCH_ENGINE === 'sqlite' ? 'sqlite' : 'postgres';
  const lines = intSetting('BENCH_PROFILE_LINES', 10, 10);
  const changed = intSetting('BENCH_PROFILE_CHANGED', lines >= 100 ? 1 : 3, 3);
  const invoices = intSetting('BENCH_INVOICES', lines >= 100 ? 200 : 10_000, 100);
  const connections = intSetting('BENCH_CONNECTIONS', lines >= 100 ? 1 : 16, 4);
  const durationSec = intSetting('BENCH_DURATION', 15, 1);
  const set: InvoiceSet = { tag: 'profl', count: invoices, linesPerInvoice: lines };
  const dbName = benchDatabaseName(smoke ? 'folio_bench_smoke_profile' : 'folio_bench_profile');

  const databaseUrl = engine === 'postgres' ? await freshPostgresDatabase(dbName) : undefined;
  const dataDir = freshDataDir('profile');
  const database = await openDatabase({ dataDir, databaseUrl });
  const tenant = await createBenchTenant(database);
  await seedInvoices(database, { tenant, tag: set.tag, from: 1, to: invoices, linesPerInvoice: lines });
  await database.close();

  const profileDir = path.join(resultsDir, 'profiles', `${engine}-${lines}-lines-${Date.now()}`);
  const server = await startFolio({ dataDir, databaseUrl, cpuProfileDir: profileDir });
  const listeningAt = performance.now();
  let loadStartedAfterMs = 0;
  const etags: EtagMap = new Map();
  let result: Awaited<ReturnType<typeof runUpdates>>;
  let serverCpuMsPerUpdate = 0;
  try {
    await verifySeededInvoice(server.url, tenant.key, set, etags);
    // Warm-up (JIT, pools, prepared statements); the summary leaves out everything before the measured load.
    await runUpdates({ url: server.url, key: tenant.key, set, connections, durationSec: 2, linesToChange: changed, headerField: lines < 100, etags });
    loadStartedAfterMs = server.startMs + (performance.now() - listeningAt);
    const cpuAtStartMs = cpuTimeMs(server.pid);
    result = await runUpdates({ url: server.url, key: tenant.key, set, connections, durationSec, linesToChange: changed, headerField: lines < 100, etags });
    assertHealthy('profiled update', result);
    serverCpuMsPerUpdate = round((cpuTimeMs(server.pid) - cpuAtStartMs) / Math.max(1, result.ok + result.preconditionFailed), 2);
  } finally {
    await server.stop();
  }
  const profile = summariseProfiles(profileDir, 30, loadStartedAfterMs);
  if (!profile) throw new Error(`no CPU profile written to ${profileDir}`);
  console.log(`${engine}, ${invoices} invoices × ${lines} lines, ${changed} changed, ${connections} connections: ${result.perSec}/s p50 ${result.p50Ms} ms p99 ${result.p99Ms} ms; server CPU ${serverCpuMsPerUpdate} ms per update (profiler on)`);
  printTable('Server CPU by area (self time, non-idle samples)', profile.byArea);
  printTable('Top frames (self time)', profile.top);
  printTable("Folio's functions by total time (self + callees)", profile.folioInclusive);
  writeResults(`profile-${engine}-${lines}-lines`, { engine, invoices, lines, changed, connections, durationSec, result, serverCpuMsPerUpdate, profile, profileDir: path.relative(resultsDir, profileDir) });
  if (databaseUrl && process.env.BENCH_KEEP_DB !== '1') await dropPostgresDatabase(dbName);
});
