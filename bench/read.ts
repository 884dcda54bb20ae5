/**
 * bench:read — GET an invoice with 10 lines through Folio (PostgreSQL by default, or the
 * embedded SQLite file with BENCH_ENGINE=sqlite) vs a minimal Fastify route on the same
 * machine answering the same JSON from memory. See bench/README.md.
 */
import path from 'node:path';
import Fastify from 'fastify';
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
  sampleRss,
  smoke,
  startFolio,
  writeResults,
} from './lib/common.js';
import { assertHealthy, runReads, type InvoiceSet, type LoadResult } from './lib/load.js';
import { summariseProfiles } from './lib/profile.js';
import { createBenchTenant, invoiceIdFor, seedInvoices } from './lib/seed.js';

runMain(async () => {
  const engine = process.env.BENCH_ENGINE === 'sqlite' ? 'sqlite' : 'postgres';
  const invoices = intSetting('BENCH_INVOICES', 10_000, 200);
  const durationSec = intSetting('BENCH_DURATION', 15, 2);
  const connectionsList = listSetting('BENCH_CONNECTIONS', [1, 16], [4]);
  const set: InvoiceSet = { tag: 'reads', count: invoices, linesPerInvoice: 10 };
  const dbName = benchDatabaseName(smoke ? 'folio_bench_smoke_read' : 'folio_bench_read');

  console.log(`bench:read — GET one of ${invoices} invoices × 10 lines (${engine}) vs the same JSON from memory; ${durationSec} s per run`);
  const databaseUrl = engine === 'postgres' ? await freshPostgresDatabase(dbName) : undefined;
  const dataDir = freshDataDir('read');
  const database = await openDatabase({ dataDir, databaseUrl });
  const tenant = await createBenchTenant(database);
  await seedInvoices(database, { tenant, tag: set.tag, from: 1, to: invoices, linesPerInvoice: 10 });
  await database.close();

  const profileDir = process.env.BENCH_CPU_PROF === '1' ? path.join(resultsDir, 'profiles', `read-${Date.now()}`) : undefined;
  const server = await startFolio({ dataDir, databaseUrl, cpuProfileDir: profileDir });
  // The in-memory route answers exactly what Folio answers for one seeded invoice.
  const sample = await fetch(`${server.url}/v1/invoices/${invoiceIdFor(set.tag, 1)}`, { headers: { authorization: `Bearer ${tenant.key}` } });
  if (sample.status !== 200) throw new Error(`GET seeded invoice: ${sample.status} ${await sample.text()}`);
  const body = await sample.json();
  const memory = Fastify({ logger: false });
  memory.get('/invoice', async () => body);
  const memoryUrl = await memory.listen({ port: 0, host: '127.0.0.1' });

  const rows: Record<string, unknown>[] = [];
  const results: { connections: number; folio: LoadResult & { rssMaxMb: number }; inMemory: LoadResult }[] = [];
  try {
    await runReads({ url: server.url, key: tenant.key, set, connections: 4, durationSec: smoke ? 1 : 3 });
    await runReads({ url: memoryUrl, path: '/invoice', connections: 4, durationSec: smoke ? 1 : 3 });
    for (const connections of connectionsList) {
      const rss = sampleRss(server.pid);
      const folio = await runReads({ url: server.url, key: tenant.key, set, connections, durationSec });
      const rssMaxMb = rss.stop().maxMb;
      assertHealthy(`folio GET at ${connections}`, folio);
      const inMemory = await runReads({ url: memoryUrl, path: '/invoice', connections, durationSec });
      assertHealthy(`in-memory GET at ${connections}`, inMemory);
      results.push({ connections, folio: { ...folio, rssMaxMb }, inMemory });
      rows.push({
        connections,
        'folio GET/s': folio.perSec,
        'folio p50 ms': folio.p50Ms,
        'folio p99 ms': folio.p99Ms,
        'in-memory GET/s': inMemory.perSec,
        'in-memory p50 ms': inMemory.p50Ms,
        'folio ÷ in-memory': round(folio.perSec / inMemory.perSec, 2),
        target: '≥ 0.5',
      });
    }
  } finally {
    await memory.close();
    await server.stop();
  }
  printTable(`Read: GET invoice with 10 lines (${engine}, ${invoices} invoices, ${durationSec} s per run; response ${JSON.stringify(body).length} bytes)`, rows);
  const profile = profileDir ? summariseProfiles(profileDir, 25) : undefined;
  if (profile) {
    printTable('CPU profile of the server: self time by area (non-idle samples)', profile.byArea);
    printTable('CPU profile of the server: top frames by self time', profile.top);
  }
  writeResults(engine === 'postgres' ? 'read' : 'read-sqlite', { engine, invoices, durationSec, responseBytes: JSON.stringify(body).length, results, table: rows, profile });
  if (databaseUrl && process.env.BENCH_KEEP_DB !== '1') await dropPostgresDatabase(dbName);
});
