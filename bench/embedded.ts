/**
 * bench:embedded — the update benchmark on the embedded default (a SQLite file with WAL and
 * synchronous=FULL; the issue said PGlite, the stack decision made SQLite the embedded engine),
 * the same transaction in raw SQL through better-sqlite3 for a ratio, and the cold start time
 * with N invoices in the file. See bench/README.md.
 */
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { openDatabase } from '../src/db/database.js';
import { freshDataDir, intSetting, listSetting, printTable, resultsDir, round, runMain, smoke, startFolio, writeResults } from './lib/common.js';
import { summariseProfiles } from './lib/profile.js';
import { runUpdateSeries, updateSeriesColumns, type InvoiceSet } from './lib/load.js';
import { createBenchTenant, invoiceIdFor, lineIdFor, seedInvoices } from './lib/seed.js';

runMain(async () => {
  const invoices = intSetting('BENCH_INVOICES', 100_000, 300);
  const durationSec = intSetting('BENCH_DURATION', 15, 2);
  const connectionsList = listSetting('BENCH_CONNECTIONS', [1, 4, 16, 32], [4]);
  const coldStarts = intSetting('BENCH_COLD_STARTS', 5, 1);
  const set: InvoiceSet = { tag: 'embed', count: invoices, linesPerInvoice: 10 };

  console.log(`bench:embedded — ${invoices} invoices × 10 lines in SQLite, ${durationSec} s per run, connections ${connectionsList.join(', ')}`);
  const dataDir = freshDataDir('embedded');
  const database = await openDatabase({ dataDir });
  const tenant = await createBenchTenant(database);
  // Baseline: the same start on the empty (migrated) file, to tell data-size cost from process start cost.
  const emptyStarts: number[] = [];
  for (let i = 0; i < Math.max(1, Math.min(coldStarts, 3)); i++) {
    const server = await startFolio({ dataDir });
    emptyStarts.push(round(server.startMs, 0));
    await server.stop();
  }
  const seeded = await seedInvoices(database, { tenant, tag: set.tag, from: 1, to: invoices, linesPerInvoice: 10 });
  await database.close();
  console.log(`seeded in ${round(seeded.seconds, 1)} s`);

  // Cold start: spawn → /health answers, and spawn → first GET of an invoice answers.
  const starts: { healthMs: number; firstGetMs: number }[] = [];
  for (let i = 0; i < coldStarts; i++) {
    const spawnedAt = performance.now();
    const server = await startFolio({ dataDir });
    const response = await fetch(`${server.url}/v1/invoices/${invoiceIdFor(set.tag, 1 + i)}`, { headers: { authorization: `Bearer ${tenant.key}` } });
    const firstGetMs = performance.now() - spawnedAt;
    await server.stop();
    if (response.status !== 200) throw new Error(`first GET after start: ${response.status}`);
    starts.push({ healthMs: round(server.startMs, 0), firstGetMs: round(firstGetMs, 0) });
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  // Where a start spends its time: one more start under the CPU profiler.
  const profileDir = path.join(resultsDir, 'profiles', `cold-start-${Date.now()}`);
  const profiled = await startFolio({ dataDir, cpuProfileDir: profileDir });
  await profiled.stop();
  const startProfile = summariseProfiles(profileDir, 15);
  const coldStart = {
    runs: starts,
    medianHealthMs: median(starts.map((s) => s.healthMs)),
    medianFirstGetMs: median(starts.map((s) => s.firstGetMs)),
    emptyDatabaseRunsMs: emptyStarts,
    medianEmptyDatabaseMs: median(emptyStarts),
    profile: startProfile,
  };
  console.log(`cold start (median of ${coldStarts}): /health ${coldStart.medianHealthMs} ms, first GET ${coldStart.medianFirstGetMs} ms; empty database ${coldStart.medianEmptyDatabaseMs} ms`);
  if (startProfile) printTable('Start-up CPU by area (self time)', startProfile.byArea);

  const server = await startFolio({ dataDir });
  let folio: Awaited<ReturnType<typeof runUpdateSeries>>;
  try {
    folio = await runUpdateSeries({ server, key: tenant.key, set, connectionsList, durationSec, warmUpSec: smoke ? 1 : 3, label: 'embedded' });
  } finally {
    await server.stop();
  }

  const raw = rawSqliteUpdates(path.join(dataDir, 'folio.sqlite'), tenant.tenantId, set, durationSec);
  console.log(`raw SQLite (one writer): ${raw.perSec}/s p50 ${raw.p50Ms} ms p99 ${raw.p99Ms} ms`);

  const rows = folio.map((result) => ({
    ...updateSeriesColumns(result),
    'raw upd/s (1 writer)': raw.perSec,
    'folio ÷ raw': round(result.perSec / raw.perSec, 2),
  }));
  printTable(`Embedded (SQLite, WAL, synchronous=FULL): PATCH 3 of 10 lines + memo (${invoices} invoices, ${durationSec} s per run)`, rows);
  printTable(`Cold start with ${invoices} invoices (target ≤ 2 s)`, starts.map((start, i) => ({ run: i + 1, 'spawn → /health ms': start.healthMs, 'spawn → first GET ms': start.firstGetMs })));
  writeResults('embedded', { engine: 'sqlite', invoices, durationSec, seedSeconds: round(seeded.seconds, 1), coldStart, folio, raw, table: rows });
});

/**
 * The same transaction as Folio's update, in raw SQL on the same file with the same settings
 * (WAL, synchronous=FULL, BEGIN IMMEDIATE). SQLite has one writer, so one loop is its limit.
 */
function rawSqliteUpdates(file: string, tenantId: string, set: InvoiceSet, durationSec: number) {
  const db = new SqliteDatabase(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  const lockInvoice = db.prepare('SELECT * FROM invoices WHERE tenant_id = ? AND id = ?');
  const readLines = db.prepare('SELECT * FROM invoice_lines WHERE tenant_id = ? AND invoice_id = ? ORDER BY position');
  const updateLine = db.prepare(
    'UPDATE invoice_lines SET quantity = ?, amount_before_discount = ?, net_amount = ?, tax_amount = ?, gross_amount = ? WHERE tenant_id = ? AND invoice_id = ? AND id = ?',
  );
  const updateInvoice = db.prepare('UPDATE invoices SET memo = ?, subtotal = ?, tax_total = ?, total = ?, balance = ?, version = version + 1, updated_at = ? WHERE tenant_id = ? AND id = ? AND version = ?');
  const insertAudit = db.prepare('INSERT INTO audit_events (tenant_id, invoice_id, version, action, actor_key_id, request_id, reason, changes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const insertEvent = db.prepare('INSERT INTO events (tenant_id, id, type, resource_type, resource_id, resource_version, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const latenciesMs: number[] = [];
  const endAt = performance.now() + durationSec * 1000;
  let sequence = 0;
  while (performance.now() < endAt) {
    const started = performance.now();
    sequence += 1;
    const n = 1 + Math.floor(Math.random() * set.count);
    const id = invoiceIdFor(set.tag, n);
    begin.run();
    const invoice = lockInvoice.get(tenantId, id) as { version: number };
    const lines = readLines.all(tenantId, id) as { id: string; unit_price: string; tax_rate: string | null }[];
    const changes: unknown[] = [];
    for (const position of [2, 5, 8]) {
      const line = lines[position - 1];
      const quantity = 1 + (sequence % 97);
      const net = (quantity * Number(line.unit_price)).toFixed(2); // raw-SQL stand-in; Folio uses exact decimals
      const tax = ((Number(net) * Number(line.tax_rate ?? 0)) / 100).toFixed(2);
      updateLine.run(String(quantity), net, net, tax, (Number(net) + Number(tax)).toFixed(2), tenantId, id, lineIdFor(set.tag, n, position));
      changes.push({ path: `/lines/${line.id}/quantity`, from: '1', to: String(quantity) });
    }
    const now = new Date().toISOString();
    updateInvoice.run(`raw ${sequence}`, '1.00', '0.20', '1.20', '1.20', now, tenantId, id, invoice.version);
    insertAudit.run(tenantId, id, invoice.version + 1, 'update', 'key_raw', 'req_raw', null, JSON.stringify(changes), now);
    insertEvent.run(tenantId, `evt_raw${String(sequence).padStart(22, '0')}`, 'invoice.updated', 'invoice', id, invoice.version + 1, JSON.stringify({ changes }), now);
    commit.run();
    latenciesMs.push(performance.now() - started);
  }
  db.close();
  latenciesMs.sort((a, b) => a - b);
  const percentile = (p: number) => round(latenciesMs[Math.min(latenciesMs.length - 1, Math.floor((p / 100) * latenciesMs.length))], 2);
  return { perSec: round(latenciesMs.length / durationSec, 1), transactions: latenciesMs.length, p50Ms: percentile(50), p99Ms: percentile(99) };
}
