/**
 * bench:issue18 — the whole table of issue 18 ("Update path at the database's pace") in one run:
 *
 * 1. PostgreSQL: PATCH through Folio vs the minimal durable transaction as raw SQL (pgbench -M
 *    prepared: BEGIN; SELECT … FOR UPDATE; one write CTE; COMMIT) and vs today's raw script
 *    (bench:update's), at 1/16/32 connections, for one tenant and the same load over 16 tenants;
 *    and vs "raw over HTTP": the same minimal transaction behind a bare Fastify route
 *    (bench/lib/raw-http-server.ts), the ceiling of any Node HTTP API on this machine
 *    (BENCH_ISSUE18_RAW_HTTP=0 leaves it out).
 * 2. SQLite: PATCH through Folio vs the same minimal transaction through better-sqlite3 prepared
 *    statements (bench/lib/raw-sqlite.ts) in a writer loop of its own, on the same file, and vs that
 *    transaction behind the bare Fastify route (raw over HTTP, one BEGIN … COMMIT per request).
 * 3. GET of an invoice vs a Fastify route answering the same JSON from memory (PostgreSQL).
 * 4. Scale-out: 1, 2 and 4 Folio processes on one PostgreSQL database, the load client's
 *    connections spread over them round-robin.
 *
 * Every comparison is interleaved: rounds of short slices A, B, C, A, B, C … and each figure is the
 * median over rounds, so a burst of outside load (the machine is shared) hits every side alike.
 * Server CPU per update = the Folio process's CPU (/proc/<pid>/stat) + the CPU of the PostgreSQL
 * backends serving the benchmark database (bench/lib/backend-cpu.ts), divided by the answers.
 *
 * BENCH_ISSUE18_SHORT=1 (npm run bench:issue18:short): 2 s slices, 1 round, 1 and 16 connections.
 * BENCH_ISSUE18_PARTS=postgres,sqlite,read,scaleout picks parts. See bench/README.md.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import pg from 'pg';
import { openDatabase } from '../src/db/database.js';
import {
  benchDatabaseName,
  cpuTimeMs,
  freshDataDir,
  freshPostgresDatabase,
  printTable,
  repoRoot,
  round,
  runMain,
  smoke,
  startFolio,
  writeResults,
  type FolioServer,
} from './lib/common.js';
import { sampleBackendCpu } from './lib/backend-cpu.js';
import { assertHealthy, touchEveryInvoice, runReads, runUpdatesAcross, type EtagMap, type InvoiceSet, type LoadResult, type UpdateTarget } from './lib/load.js';
import { findPgbench, minimalUpdateScript, runPgbenchScripts, updateScript, withLiterals } from './lib/pgbench.js';
import type { RawSqliteResult, RawSqliteSlice } from './lib/raw-sqlite-worker.js';
import { createBenchTenant, invoiceIdFor, seedInvoices } from './lib/seed.js';
import { verifySeededInvoice } from './lib/verify.js';

const short = process.env.BENCH_ISSUE18_SHORT === '1';
/** A setting from the environment, else its value for this kind of run (full, short, smoke). */
function setting(name: string, full: number, shortValue: number, smokeValue: number): number {
  const raw = process.env[name];
  if (raw) return Number(raw);
  return smoke ? smokeValue : short ? shortValue : full;
}
function listOf(name: string, full: number[], shortValue: number[], smokeValue: number[]): number[] {
  const raw = process.env[name];
  if (raw) return raw.split(',').map((part) => Number(part.trim()));
  return smoke ? smokeValue : short ? shortValue : full;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? 0 : sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** One measured slice of any side. */
interface Slice {
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU ms per answer: the Folio process(es), the PostgreSQL backends (0 on SQLite), or the raw SQLite process. */
  appCpuMs: number;
  databaseCpuMs: number;
}

function summary(slices: Slice[]) {
  const pick = (field: keyof Slice) => round(median(slices.map((slice) => slice[field])), 2);
  const appCpuMs = pick('appCpuMs');
  const databaseCpuMs = pick('databaseCpuMs');
  return { perSec: pick('perSec'), p50Ms: pick('p50Ms'), p99Ms: pick('p99Ms'), appCpuMs, databaseCpuMs, serverCpuMs: round(appCpuMs + databaseCpuMs, 2), slices: slices.length };
}

const ratio = (a: number, b: number) => (b > 0 ? round(a / b, 2) : '-');

runMain(async () => {
  const parts = new Set((process.env.BENCH_ISSUE18_PARTS ?? 'postgres,sqlite,read,scaleout').split(',').map((part) => part.trim()));
  const invoices = setting('BENCH_INVOICES', 2000, 2000, 160);
  const sliceSec = setting('BENCH_SLICE_SEC', 5, 2, 1);
  const rounds = setting('BENCH_ROUNDS', 3, 1, 1);
  const connectionsList = listOf('BENCH_CONNECTIONS', [1, 16, 32], [1, 16], [4]);
  const tenantCount = setting('BENCH_TENANTS', 16, 16, 4);
  const sqliteConnections = listOf('BENCH_SQLITE_CONNECTIONS', [1, 16], [1, 16], [4]);
  const readConnections = listOf('BENCH_READ_CONNECTIONS', [1, 16], [1, 16], [4]);
  const processCounts = listOf('BENCH_SCALEOUT_PROCESSES', [1, 2, 4], [1, 2, 4], [1, 2]);
  const scaleoutConnections = setting('BENCH_SCALEOUT_CONNECTIONS', 16, 16, 4);
  const warmUpSec = smoke ? 1 : 2;
  // Before measuring, PATCH every Folio invoice once (touchEveryInvoice); 0 measures from a cold server, as before the sixth session.
  const touchAll = process.env.BENCH_ISSUE18_TOUCH !== '0';
  const linesToChange = 3;
  const linesPerInvoice = 10;
  const loadAtStart = os.loadavg().map((value) => round(value, 2));
  const settings = { invoices, linesPerInvoice, linesToChange, sliceSec, rounds, connectionsList, tenantCount, sqliteConnections, readConnections, processCounts, scaleoutConnections, parts: [...parts], touchAll };
  console.log(`bench:issue18${short ? ' (short)' : ''} — ${JSON.stringify(settings)}; load average at start ${loadAtStart.join(' ')} on ${os.cpus().length} cores`);
  const results: Record<string, unknown> = { settings, loadAverageAtStart: loadAtStart };
  const servers: FolioServer[] = [];
  const stopServers = async () => {
    await Promise.all(servers.map((server) => server.stop()));
    servers.length = 0;
  };

  try {
    const needsPostgres = parts.has('postgres') || parts.has('read') || parts.has('scaleout');
    if (needsPostgres) {
      // One database: one tenant with N invoices, and `tenantCount` tenants with N / tenantCount each.
      // The raw side changes invoices of its own (same tenants, same table sizes): had it changed
      // Folio's, every Folio PATCH after a raw slice would carry a stale If-Match and answer 412.
      const dbName = benchDatabaseName(smoke ? 'folio_bench_smoke_issue18' : 'folio_bench_issue18');
      const databaseUrl = await freshPostgresDatabase(dbName);
      const dataDir = freshDataDir('issue18-pg');
      const database = await openDatabase({ dataDir, databaseUrl });
      const single = await createBenchTenant(database, 'bench-one');
      /** API key → tenant id, for the raw-over-HTTP server (it has no key table of its own). */
      const tenantsByKey: Record<string, string> = { [single.key]: single.tenantId };
      const oneSet: InvoiceSet = { tag: 'onetn', count: invoices, linesPerInvoice };
      await seedInvoices(database, { tenant: single, tag: oneSet.tag, from: 1, to: invoices, linesPerInvoice });
      await seedInvoices(database, { tenant: single, tag: 'onraw', from: 1, to: invoices, linesPerInvoice });
      const one: UpdateTarget[] = [{ key: single.key, set: oneSet }];
      const rawHttpOne: UpdateTarget[] = [{ key: single.key, set: { ...oneSet, tag: 'onraw' } }];
      const rawHttpSpread: UpdateTarget[] = [];
      const rawOne = [{ tenantId: single.tenantId, set: { ...oneSet, tag: 'onraw' } }];
      const spread: UpdateTarget[] = [];
      const rawSpread: { tenantId: string; set: InvoiceSet }[] = [];
      for (let i = 0; i < tenantCount; i++) {
        const tenant = await createBenchTenant(database, `bench-spread-${i}`);
        const set: InvoiceSet = { tag: `sp${String(i).padStart(2, '0')}x`, count: Math.max(1, Math.floor(invoices / tenantCount)), linesPerInvoice };
        await seedInvoices(database, { tenant, tag: set.tag, from: 1, to: set.count, linesPerInvoice });
        const rawSet = { ...set, tag: `sp${String(i).padStart(2, '0')}r` };
        await seedInvoices(database, { tenant, tag: rawSet.tag, from: 1, to: rawSet.count, linesPerInvoice });
        spread.push({ key: tenant.key, set });
        rawSpread.push({ tenantId: tenant.tenantId, set: rawSet });
        rawHttpSpread.push({ key: tenant.key, set: rawSet });
        tenantsByKey[tenant.key] = tenant.tenantId;
      }
      await database.close();
      console.log(`seeded ${invoices} invoices for one tenant and ${invoices} over ${tenantCount} tenants (twice: Folio's and raw SQL's)`);

      const etags: EtagMap = new Map();
      const first = await startFolio({ dataDir, databaseUrl });
      servers.push(first);
      await verifySeededInvoice(first.url, single.key, oneSet, etags);
      await verifySeededInvoice(first.url, spread[0].key, spread[0].set, etags);

      /** One Folio update slice over `urls`, with the CPU of every Folio process in `pids` and of the database's backends. */
      const folioSlice = async (urls: string[], pids: number[], targets: UpdateTarget[], connections: number, durationSec = sliceSec): Promise<Slice & { load: LoadResult }> => {
        const backend = await sampleBackendCpu(dbName);
        const appAtStart = pids.reduce((sum, pid) => sum + cpuTimeMs(pid), 0);
        const load = await runUpdatesAcross({ urls, targets, connections, durationSec, linesToChange, headerField: true, etags });
        const appMs = pids.reduce((sum, pid) => sum + cpuTimeMs(pid), 0) - appAtStart;
        const databaseMs = await backend.stop();
        assertHealthy(`folio update at ${connections} connections`, load);
        // 412s are real collisions of random picks (rare with N invoices); many would mean stale versions and a meaningless figure.
        if (load.preconditionFailed > Math.max(5, load.ok * 0.1)) throw new Error(`folio update at ${connections}: ${load.preconditionFailed} answers were 412 against ${load.ok} updates`);
        const answers = Math.max(1, load.ok + load.preconditionFailed);
        return { perSec: load.perSec, p50Ms: load.p50Ms, p99Ms: load.p99Ms, appCpuMs: appMs / answers, databaseCpuMs: databaseMs / answers, load };
      };

      if (parts.has('postgres')) {
        const pgbench = findPgbench();
        if (!pgbench) console.log('pgbench not found (PATH or /usr/lib/postgresql/*/bin): the raw-SQL sides are skipped. Install postgresql-client or set BENCH_PGBENCH.');
        const scriptsFor = (template: string, targets: { tenantId: string; set: InvoiceSet }[]) =>
          targets.map((target) => withLiterals(template, { tenant: target.tenantId, tag: target.set.tag, ninv: target.set.count }));
        const minimal = minimalUpdateScript(linesPerInvoice, linesToChange);
        const today = updateScript(linesPerInvoice, linesToChange);
        const modes = [
          { mode: '1 tenant', targets: one, rawHttp: rawHttpOne, minimal: scriptsFor(minimal, rawOne), today: scriptsFor(today, rawOne) },
          { mode: `${tenantCount} tenants`, targets: spread, rawHttp: rawHttpSpread, minimal: scriptsFor(minimal, rawSpread), today: scriptsFor(today, rawSpread) },
        ];
        const rawHttp = process.env.BENCH_ISSUE18_RAW_HTTP === '0' ? undefined : await startRawHttpServer({ DATABASE_URL: databaseUrl }, tenantsByKey);
        if (rawHttp) servers.push(rawHttp);
        const rawSlice = async (scripts: string[], clients: number, durationSec = sliceSec): Promise<Slice> => {
          const backend = await sampleBackendCpu(dbName);
          const result = await runPgbenchScripts({ pgbench: pgbench!, databaseUrl, scripts, clients, durationSec });
          const databaseMs = await backend.stop();
          if (result.failed > 0) throw new Error(`pgbench: ${result.failed} failed transactions`);
          return { perSec: result.perSec, p50Ms: result.p50Ms, p99Ms: result.p99Ms, appCpuMs: 0, databaseCpuMs: databaseMs / result.transactions };
        };
        if (touchAll) console.log(`touched ${await touchEveryInvoice(first.url, [...one, ...spread], etags)} invoices once (the server now holds them: the steady state)`);
        // Warm-up (not measured): every side once.
        for (const mode of modes) {
          await folioSlice([first.url], [first.pid], mode.targets, 4, warmUpSec);
          if (rawHttp) await folioSlice([rawHttp.url], [rawHttp.pid], mode.rawHttp, 4, warmUpSec);
          if (pgbench) {
            await rawSlice(mode.minimal, 4, 1);
            await rawSlice(mode.today, 4, 1);
          }
        }
        const slices = new Map<string, Slice[]>();
        const keep = (key: string, slice: Slice) => slices.set(key, [...(slices.get(key) ?? []), slice]);
        for (let r = 1; r <= rounds; r++) {
          for (const mode of modes) {
            for (const connections of connectionsList) {
              const folio = await folioSlice([first.url], [first.pid], mode.targets, connections);
              keep(`${mode.mode}|${connections}|folio`, folio);
              let line = `round ${r} ${mode.mode} c=${connections}: folio ${folio.perSec}/s p99 ${folio.p99Ms} ms`;
              if (rawHttp) {
                const overHttp = await folioSlice([rawHttp.url], [rawHttp.pid], mode.rawHttp, connections);
                keep(`${mode.mode}|${connections}|http`, overHttp);
                line += ` | raw over HTTP ${overHttp.perSec}/s p99 ${overHttp.p99Ms} ms`;
              }
              if (pgbench) {
                const rawMinimal = await rawSlice(mode.minimal, connections);
                const rawToday = await rawSlice(mode.today, connections);
                keep(`${mode.mode}|${connections}|minimal`, rawMinimal);
                keep(`${mode.mode}|${connections}|today`, rawToday);
                line += ` | raw minimal ${rawMinimal.perSec}/s p99 ${rawMinimal.p99Ms} ms | raw today ${rawToday.perSec}/s`;
              }
              console.log(line);
            }
          }
        }
        const rows: Record<string, unknown>[] = [];
        const figures: Record<string, unknown>[] = [];
        for (const mode of modes) {
          for (const connections of connectionsList) {
            const folio = summary(slices.get(`${mode.mode}|${connections}|folio`)!);
            const rawMinimal = slices.has(`${mode.mode}|${connections}|minimal`) ? summary(slices.get(`${mode.mode}|${connections}|minimal`)!) : undefined;
            const rawToday = slices.has(`${mode.mode}|${connections}|today`) ? summary(slices.get(`${mode.mode}|${connections}|today`)!) : undefined;
            const overHttp = slices.has(`${mode.mode}|${connections}|http`) ? summary(slices.get(`${mode.mode}|${connections}|http`)!) : undefined;
            figures.push({ mode: mode.mode, connections, folio, rawMinimal, rawToday, rawOverHttp: overHttp });
            rows.push({
              tenants: mode.mode,
              conn: connections,
              'folio upd/s': folio.perSec,
              'folio p50/p99 ms': `${folio.p50Ms} / ${folio.p99Ms}`,
              'raw minimal upd/s': rawMinimal?.perSec ?? 'skipped',
              'raw minimal p50/p99 ms': rawMinimal ? `${rawMinimal.p50Ms} / ${rawMinimal.p99Ms}` : '-',
              'raw today upd/s': rawToday?.perSec ?? 'skipped',
              'folio ÷ minimal': rawMinimal ? ratio(folio.perSec, rawMinimal.perSec) : '-',
              'folio ÷ today': rawToday ? ratio(folio.perSec, rawToday.perSec) : '-',
              'folio CPU ms/upd (node + pg)': `${folio.serverCpuMs} (${folio.appCpuMs} + ${folio.databaseCpuMs})`,
              'raw minimal pg CPU ms/tx': rawMinimal?.databaseCpuMs ?? '-',
              'raw over HTTP upd/s': overHttp?.perSec ?? 'skipped',
              'raw HTTP ÷ minimal': overHttp && rawMinimal ? ratio(overHttp.perSec, rawMinimal.perSec) : '-',
              'folio ÷ raw HTTP': overHttp ? ratio(folio.perSec, overHttp.perSec) : '-',
              'raw HTTP CPU ms/upd (node + pg)': overHttp ? `${overHttp.serverCpuMs} (${overHttp.appCpuMs} + ${overHttp.databaseCpuMs})` : '-',
            });
          }
        }
        printTable(`Issue 18 — PostgreSQL update: Folio PATCH (3 of 10 lines + memo, If-Match) vs raw SQL (pgbench -M prepared); medians of ${rounds} interleaved rounds of ${sliceSec} s`, rows);
        const spreadRows = connectionsList.map((connections) => {
          const oneTenant = summary(slices.get(`1 tenant|${connections}|folio`)!);
          const manyTenants = summary(slices.get(`${tenantCount} tenants|${connections}|folio`)!);
          return { conn: connections, '1 tenant upd/s': oneTenant.perSec, [`${tenantCount} tenants upd/s`]: manyTenants.perSec, '1 ÷ many': ratio(oneTenant.perSec, manyTenants.perSec), 'p99 ms (1 / many)': `${oneTenant.p99Ms} / ${manyTenants.p99Ms}` };
        });
        printTable(`Issue 18 — Folio, one tenant vs the same load over ${tenantCount} tenants (target: within 10%)`, spreadRows);
        results.postgres = { figures, table: rows, tenantsTable: spreadRows, rawConsistency: await rawConsistency(databaseUrl) };
      }

      if (parts.has('read')) {
        // The in-memory route answers exactly what Folio answers for one seeded invoice (in this process, as bench:read).
        const sample = await fetch(`${first.url}/v1/invoices/${invoiceIdFor(oneSet.tag, 1)}`, { headers: { authorization: `Bearer ${single.key}` } });
        if (sample.status !== 200) throw new Error(`GET seeded invoice: ${sample.status}`);
        const body = await sample.json();
        const memory = Fastify({ logger: false });
        memory.get('/invoice', async () => body);
        const memoryUrl = await memory.listen({ port: 0, host: '127.0.0.1' });
        const readSlice = async (folio: boolean, connections: number, durationSec = sliceSec): Promise<Slice> => {
          const backend = folio ? await sampleBackendCpu(dbName) : undefined;
          const appAtStart = folio ? cpuTimeMs(first.pid) : 0;
          const load = folio
            ? await runReads({ url: first.url, key: single.key, set: oneSet, connections, durationSec })
            : await runReads({ url: memoryUrl, path: '/invoice', connections, durationSec });
          assertHealthy(`${folio ? 'folio' : 'in-memory'} GET at ${connections}`, load);
          // The in-memory route shares this process with the load client: its CPU is not separable, so none is reported.
          const appMs = folio ? cpuTimeMs(first.pid) - appAtStart : 0;
          const databaseMs = backend ? await backend.stop() : 0;
          return { perSec: load.perSec, p50Ms: load.p50Ms, p99Ms: load.p99Ms, appCpuMs: appMs / Math.max(1, load.ok), databaseCpuMs: databaseMs / Math.max(1, load.ok) };
        };
        const slices = new Map<string, Slice[]>();
        try {
          await readSlice(true, 4, warmUpSec);
          await readSlice(false, 4, warmUpSec);
          for (let r = 1; r <= rounds; r++) {
            for (const connections of readConnections) {
              for (const folio of [true, false]) {
                const key = `${connections}|${folio}`;
                slices.set(key, [...(slices.get(key) ?? []), await readSlice(folio, connections)]);
              }
            }
          }
        } finally {
          await memory.close();
        }
        const rows = readConnections.map((connections) => {
          const folio = summary(slices.get(`${connections}|true`)!);
          const inMemory = summary(slices.get(`${connections}|false`)!);
          return {
            conn: connections,
            'folio GET/s': folio.perSec,
            'folio p50/p99 ms': `${folio.p50Ms} / ${folio.p99Ms}`,
            'in-memory GET/s': inMemory.perSec,
            'folio ÷ in-memory': ratio(folio.perSec, inMemory.perSec),
            'folio CPU ms/GET (node + pg)': `${folio.serverCpuMs} (${folio.appCpuMs} + ${folio.databaseCpuMs})`,
            target: '≥ 0.35',
          };
        });
        printTable(`Issue 18 — GET an invoice with 10 lines (PostgreSQL) vs the same JSON from memory; medians of ${rounds} interleaved rounds of ${sliceSec} s`, rows);
        results.read = { responseBytes: JSON.stringify(body).length, table: rows };
      }

      if (parts.has('scaleout')) {
        const most = Math.max(...processCounts);
        while (servers.length < most) servers.push(await startFolio({ dataDir, databaseUrl }));
        const scaleSlice = (count: number, durationSec = sliceSec) =>
          folioSlice(servers.slice(0, count).map((server) => server.url), servers.slice(0, count).map((server) => server.pid), one, scaleoutConnections, durationSec);
        for (const count of processCounts) await scaleSlice(count, warmUpSec);
        const slices = new Map<number, Slice[]>();
        for (let r = 1; r <= rounds; r++) {
          for (const count of processCounts) {
            const slice = await scaleSlice(count);
            slices.set(count, [...(slices.get(count) ?? []), slice]);
            console.log(`round ${r} scale-out ${count} process(es): ${slice.perSec}/s p99 ${slice.p99Ms} ms`);
          }
        }
        const base = summary(slices.get(processCounts[0])!);
        const rows = processCounts.map((count) => {
          const figures = summary(slices.get(count)!);
          return {
            processes: count,
            'upd/s': figures.perSec,
            'p50 ms': figures.p50Ms,
            'p99 ms': figures.p99Ms,
            [`÷ ${processCounts[0]} process`]: ratio(figures.perSec, base.perSec),
            'CPU ms/upd (node + pg)': `${figures.serverCpuMs} (${figures.appCpuMs} + ${figures.databaseCpuMs})`,
          };
        });
        printTable(`Issue 18 — scale-out: Folio processes on one PostgreSQL database, ${scaleoutConnections} connections round-robin, 1 tenant; medians of ${rounds} interleaved rounds of ${sliceSec} s (${os.cpus().length} cores shared by all)`, rows);
        results.scaleout = { connections: scaleoutConnections, table: rows };
      }
      await stopServers();
    }

    if (parts.has('sqlite')) {
      const dataDir = freshDataDir('issue18-sqlite');
      const database = await openDatabase({ dataDir });
      const tenant = await createBenchTenant(database, 'bench-sqlite');
      const set: InvoiceSet = { tag: 'sqlit', count: invoices, linesPerInvoice };
      await seedInvoices(database, { tenant, tag: set.tag, from: 1, to: invoices, linesPerInvoice });
      // The raw side's own invoices (see above: Folio's If-Match versions stay true).
      await seedInvoices(database, { tenant, tag: 'sqlrw', from: 1, to: invoices, linesPerInvoice });
      await database.close();
      const server = await startFolio({ dataDir });
      servers.push(server);
      const etags: EtagMap = new Map();
      await verifySeededInvoice(server.url, tenant.key, set, etags);
      const worker = fork(path.join(repoRoot, 'bench', 'lib', 'raw-sqlite-worker.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const rawSlice = async (durationSec = sliceSec): Promise<Slice> => {
        const slice: RawSqliteSlice = { file: path.join(dataDir, 'folio.sqlite'), tenantId: tenant.tenantId, tag: 'sqlrw', count: invoices, linesPerInvoice, linesToChange, durationSec };
        const result = await askWorker(worker, slice);
        return { perSec: result.perSec, p50Ms: result.p50Ms, p99Ms: result.p99Ms, appCpuMs: result.cpuMs / Math.max(1, result.transactions), databaseCpuMs: 0 };
      };
      const httpSlice = async (on: FolioServer, targetSet: InvoiceSet, connections: number, durationSec: number): Promise<Slice> => {
        const appAtStart = cpuTimeMs(on.pid);
        const load = await runUpdatesAcross({ urls: [on.url], targets: [{ key: tenant.key, set: targetSet }], connections, durationSec, linesToChange, headerField: true, etags });
        assertHealthy(`SQLite update at ${connections} (${on.url})`, load);
        const appMs = cpuTimeMs(on.pid) - appAtStart;
        return { perSec: load.perSec, p50Ms: load.p50Ms, p99Ms: load.p99Ms, appCpuMs: appMs / Math.max(1, load.ok + load.preconditionFailed), databaseCpuMs: 0 };
      };
      const folioSlice = (connections: number, durationSec = sliceSec) => httpSlice(server, set, connections, durationSec);
      // Raw over HTTP: the raw transaction behind a bare Fastify route (bench/lib/raw-http-server.ts), on the raw side's invoices.
      const rawHttp = process.env.BENCH_ISSUE18_RAW_HTTP === '0' ? undefined : await startRawHttpServer({ RAW_HTTP_SQLITE_FILE: path.join(dataDir, 'folio.sqlite') }, { [tenant.key]: tenant.tenantId });
      if (rawHttp) servers.push(rawHttp);
      const rawSet: InvoiceSet = { tag: 'sqlrw', count: invoices, linesPerInvoice };
      const rawHttpSlice = (connections: number, durationSec = sliceSec) => httpSlice(rawHttp!, rawSet, connections, durationSec);
      const slices = new Map<string, Slice[]>();
      const keep = (key: string, slice: Slice) => slices.set(key, [...(slices.get(key) ?? []), slice]);
      try {
        if (touchAll) console.log(`touched ${await touchEveryInvoice(server.url, [{ key: tenant.key, set }], etags)} invoices once (the server now holds them: the steady state)`);
        await folioSlice(4, warmUpSec);
        if (rawHttp) await rawHttpSlice(4, warmUpSec);
        await rawSlice(1);
        for (let r = 1; r <= rounds; r++) {
          for (const connections of sqliteConnections) {
            keep(`folio|${connections}`, await folioSlice(connections));
            if (rawHttp) keep(`rawHttp|${connections}`, await rawHttpSlice(connections));
          }
          keep('raw', await rawSlice());
          console.log(`round ${r} SQLite: ${sqliteConnections.map((c) => `folio c=${c} ${slices.get(`folio|${c}`)!.at(-1)!.perSec}/s`).join(', ')} | raw ${slices.get('raw')!.at(-1)!.perSec}/s`);
        }
      } finally {
        worker.kill();
        await stopServers();
      }
      const raw = summary(slices.get('raw')!);
      const rows = sqliteConnections.map((connections) => {
        const folio = summary(slices.get(`folio|${connections}`)!);
        const overHttp = slices.has(`rawHttp|${connections}`) ? summary(slices.get(`rawHttp|${connections}`)!) : undefined;
        return {
          conn: connections,
          'folio upd/s': folio.perSec,
          'folio p50/p99 ms': `${folio.p50Ms} / ${folio.p99Ms}`,
          'raw upd/s (1 writer)': raw.perSec,
          'raw p50/p99 ms': `${raw.p50Ms} / ${raw.p99Ms}`,
          'folio ÷ raw': ratio(folio.perSec, raw.perSec),
          'raw over HTTP upd/s': overHttp?.perSec ?? '-',
          'raw HTTP ÷ raw': overHttp ? ratio(overHttp.perSec, raw.perSec) : '-',
          'folio ÷ raw HTTP': overHttp ? ratio(folio.perSec, overHttp.perSec) : '-',
          'folio CPU ms/upd': folio.appCpuMs,
          'raw HTTP CPU ms/upd': overHttp?.appCpuMs ?? '-',
          'raw CPU ms/upd': raw.appCpuMs,
          target: '≥ 0.6',
        };
      });
      printTable(`Issue 18 — SQLite (WAL, synchronous=FULL) update: Folio PATCH vs the minimal transaction through better-sqlite3 in its own process, same file; medians of ${rounds} interleaved rounds of ${sliceSec} s`, rows);
      results.sqlite = { table: rows };
    }
  } finally {
    await stopServers();
  }
  results.loadAverageAtEnd = os.loadavg().map((value) => round(value, 2));
  console.log(`\nload average at start ${loadAtStart.join(' ')}, at end ${(results.loadAverageAtEnd as number[]).join(' ')} (${os.cpus().length} cores)`);
  writeResults(short ? 'issue18-short' : 'issue18', results);
});

/** Starts bench/lib/raw-http-server.ts (a process of its own, like Folio's) on PostgreSQL or a SQLite file, and waits for its port. */
async function startRawHttpServer(database: { DATABASE_URL: string } | { RAW_HTTP_SQLITE_FILE: string }, tenantsByKey: Record<string, string>): Promise<FolioServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'bench', 'lib', 'raw-http-server.ts')], {
    cwd: repoRoot,
    env: { ...process.env, ...database, RAW_HTTP_TENANTS: JSON.stringify(tenantsByKey) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const startedAt = performance.now();
  const port = await new Promise<number>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const match = /^listening (\d+)$/.exec(line);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`raw HTTP server exited (${code}) before listening`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    process: child,
    startMs: performance.now() - startedAt,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * The raw sides must do the whole change: after the run every invoice they changed still has a
 * header total equal to the sum of its lines, and one audit row and one outbox event per version
 * after the first (the same checks on Folio's own invoices, for comparison). Printed and stored.
 */
async function rawConsistency(databaseUrl: string) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const check = async (pattern: string) => {
      const { rows } = await client.query(
        `SELECT count(*) FILTER (WHERE i.version > 1)::int AS changed,
                count(*) FILTER (WHERE i.total <> (SELECT sum(l.gross_amount) FROM invoice_lines l WHERE l.tenant_id = i.tenant_id AND l.invoice_id = i.id))::int AS total_mismatches,
                count(*) FILTER (WHERE i.version <> (SELECT count(*) FROM audit_events a WHERE a.tenant_id = i.tenant_id AND a.invoice_id = i.id)
                                    OR i.version <> (SELECT count(*) FROM events e WHERE e.tenant_id = i.tenant_id AND e.resource_id = i.id))::int AS history_mismatches
           FROM invoices i WHERE i.id LIKE $1`,
        [pattern],
      );
      return rows[0] as { changed: number; total_mismatches: number; history_mismatches: number };
    };
    const raw = await check('inv_onraw%');
    const folio = await check('inv_onetn%');
    console.log(`consistency, 1 tenant: raw-changed invoices ${JSON.stringify(raw)}; Folio's ${JSON.stringify(folio)}`);
    return { raw, folio };
  } finally {
    await client.end();
  }
}

function askWorker(worker: ChildProcess, slice: RawSqliteSlice): Promise<RawSqliteResult> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`raw SQLite worker exited (${code})`));
    worker.once('exit', onExit);
    worker.once('message', (message: { ok: boolean; result?: RawSqliteResult; error?: string }) => {
      worker.off('exit', onExit);
      if (message.ok) resolve(message.result!);
      else reject(new Error(`raw SQLite worker: ${message.error}`));
    });
    worker.send(slice);
  });
}
