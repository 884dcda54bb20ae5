/**
 * bench:ab — a built checkout (A, BENCH_AB_BASE) against this checkout (B), PATCH and GET, in
 * interleaved slices (the side that goes first alternates by round): requests per second and the server process's CPU (user + system) per request.
 *
 * BENCH_AB_ENGINE=postgres (default): each side on its own copy of one seeded database (CREATE
 * DATABASE … TEMPLATE), on the one server, with its own If-Match versions: a side that keeps
 * invoices in process (the write-base cache) would lose its entries to the other side's writes
 * on a shared database, which no real deployment does to itself. BENCH_AB_SHARED_DB=1: one database, shared versions.
 * BENCH_AB_ENGINE=sqlite: one SQLite file is seeded once and copied, so each side runs on its own
 * identical copy (same directory, same disk) and neither side's writer or pollers wait on the other's
 * locks; each side keeps its own If-Match versions.
 * BENCH_AB_KINDS (PATCH,GET), BENCH_CONNECTIONS (1,16), BENCH_SLICE_SEC (5), BENCH_ROUNDS (3), BENCH_INVOICES (2000).
 * BENCH_AB_ENV_A, BENCH_AB_ENV_B: settings for one side's server only ("NAME=value,NAME=value"), so
 * one build can be compared with itself under two settings (BENCH_AB_BASE=. for this checkout).
 * Before measuring, each side's server PATCHes every invoice once (touchEveryInvoice), so the
 * PATCH figures are a running server's steady state; BENCH_AB_TOUCH=0 leaves that out.
 */
import fs from 'node:fs';
import path from 'node:path';
import { openDatabase } from '../src/db/database.js';
import { copyPostgresDatabase, cpuTimeMs, dropPostgresDatabase, freshDataDir, intSetting, listSetting, printTable, repoRoot, round, runMain, startFolio, type FolioServer } from './lib/common.js';
import { assertHealthy, runReads, runUpdates, touchEveryInvoice, type EtagMap, type InvoiceSet } from './lib/load.js';
import { createBenchTenant, seededPostgresBench, seedInvoices } from './lib/seed.js';
import { verifySeededInvoice } from './lib/verify.js';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

type Kind = 'PATCH' | 'GET';

/** One SQLite file seeded once, then copied into a data directory per side. */
async function seededSqliteCopies(invoices: number, sides: number) {
  const seedDir = freshDataDir('ab-sqlite-seed');
  const database = await openDatabase({ dataDir: seedDir });
  const tenant = await createBenchTenant(database);
  const set: InvoiceSet = { tag: 'abtst', count: invoices, linesPerInvoice: 10 };
  await seedInvoices(database, { tenant, tag: set.tag, from: 1, to: invoices, linesPerInvoice: 10 });
  // Closing the last connection checkpoints the WAL into the file, so the file alone is the database.
  await database.close();
  const dataDirs = Array.from({ length: sides }, (_, index) => {
    const dir = freshDataDir(`ab-sqlite-${index}`);
    fs.copyFileSync(path.join(seedDir, 'folio.sqlite'), path.join(dir, 'folio.sqlite'));
    return dir;
  });
  fs.rmSync(seedDir, { recursive: true, force: true });
  return { tenant, set, dataDirs };
}

/** "NAME=value,NAME=value" from an environment variable (BENCH_AB_ENV_A / _B). */
function settingsFrom(variable: string): Record<string, string> {
  const text = process.env[variable]?.trim();
  if (!text) return {};
  return Object.fromEntries(
    text.split(',').map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new Error(`${variable}: expected NAME=value, got "${pair}"`);
      return [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
    }),
  );
}

const describe = (env: Record<string, string>) => (Object.keys(env).length > 0 ? `, ${Object.entries(env).map(([name, value]) => `${name}=${value}`).join(' ')}` : '');

runMain(async () => {
  const baseRoot = process.env.BENCH_AB_BASE;
  if (!baseRoot) throw new Error('set BENCH_AB_BASE to a built checkout (the A side)');
  const engine = process.env.BENCH_AB_ENGINE === 'sqlite' ? 'sqlite' : 'postgres';
  const invoices = intSetting('BENCH_INVOICES', 2000, 160);
  const sliceSec = intSetting('BENCH_SLICE_SEC', 5, 1);
  const rounds = intSetting('BENCH_ROUNDS', 3, 1);
  const connectionsList = listSetting('BENCH_CONNECTIONS', [1, 16], [4]);
  const kinds = (process.env.BENCH_AB_KINDS ?? 'PATCH,GET').split(',').map((kind) => kind.trim().toUpperCase()) as Kind[];
  for (const kind of kinds) if (kind !== 'PATCH' && kind !== 'GET') throw new Error(`BENCH_AB_KINDS: unknown ${kind}`);

  const roots = [path.resolve(baseRoot) === repoRoot ? undefined : baseRoot, undefined];
  const sideEnv = [settingsFrom('BENCH_AB_ENV_A'), settingsFrom('BENCH_AB_ENV_B')];
  const names = [`A (${baseRoot}${describe(sideEnv[0])})`, `B (this checkout${describe(sideEnv[1])})`];
  let dropDatabase: (() => Promise<void>) | undefined;
  let sides: { name: string; server: FolioServer; etags: EtagMap }[];
  let tenant: { key: string };
  let set: InvoiceSet;
  let sqliteDataDirs: string[] = [];
  if (engine === 'postgres') {
    const seeded = await seededPostgresBench({ baseName: 'folio_bench_ab', tag: 'abtst', invoices });
    ({ tenant, set } = seeded);
    const shared = process.env.BENCH_AB_SHARED_DB === '1';
    // Copied before any server connects (a template database must have no connections).
    const databaseUrls = shared ? roots.map(() => seeded.databaseUrl) : [seeded.databaseUrl, await copyPostgresDatabase(seeded.dbName, `${seeded.dbName}_b`)];
    dropDatabase = async () => {
      await dropPostgresDatabase(seeded.dbName);
      if (!shared) await dropPostgresDatabase(`${seeded.dbName}_b`);
    };
    // One database: both sides change the same invoices, so they share the If-Match versions.
    const sharedEtags: EtagMap = new Map();
    sides = [];
    for (const [index, root] of roots.entries()) {
      sides.push({ name: names[index], server: await startFolio({ dataDir: freshDataDir(`ab-${index}`), databaseUrl: databaseUrls[index], root, env: sideEnv[index] }), etags: shared ? sharedEtags : new Map() });
    }
  } else {
    const seeded = await seededSqliteCopies(invoices, roots.length);
    ({ tenant, set } = seeded);
    sqliteDataDirs = seeded.dataDirs;
    sides = [];
    for (const [index, root] of roots.entries()) {
      sides.push({ name: names[index], server: await startFolio({ dataDir: seeded.dataDirs[index], root, env: sideEnv[index] }), etags: new Map() });
    }
  }

  const rows: Record<string, unknown>[] = [];
  try {
    for (const side of sides) {
      await verifySeededInvoice(side.server.url, tenant.key, set, side.etags);
      if (process.env.BENCH_AB_TOUCH !== '0') await touchEveryInvoice(side.server.url, [{ key: tenant.key, set }], side.etags);
      await runUpdates({ url: side.server.url, key: tenant.key, set, connections: 4, durationSec: 2, linesToChange: 3, headerField: true, etags: side.etags });
    }
    for (const connections of connectionsList) {
      for (const kind of kinds) {
        const samples = sides.map(() => ({ perSec: [] as number[], cpuMs: [] as number[], p99Ms: [] as number[] }));
        for (let roundIndex = 0; roundIndex < rounds; roundIndex++) {
          // Alternate which side goes first (A B, B A, …): the side that follows the other's slice
          // meets the database work that slice left behind (WAL flushes, checkpoints, autovacuum).
          const order = roundIndex % 2 === 0 ? [...sides.entries()] : [...sides.entries()].reverse();
          for (const [index, side] of order) {
            const { url, pid } = side.server;
            const cpuAtStartMs = cpuTimeMs(pid);
            const result = kind === 'PATCH'
              ? await runUpdates({ url, key: tenant.key, set, connections, durationSec: sliceSec, linesToChange: 3, headerField: true, etags: side.etags })
              : await runReads({ url, key: tenant.key, set, connections, durationSec: sliceSec });
            assertHealthy(`${kind} ${side.name}`, result);
            samples[index].perSec.push(result.perSec);
            samples[index].p99Ms.push(result.p99Ms);
            samples[index].cpuMs.push((cpuTimeMs(pid) - cpuAtStartMs) / Math.max(1, result.ok + result.preconditionFailed));
          }
        }
        for (const [index, side] of sides.entries()) {
          rows.push({
            request: kind,
            connections,
            side: side.name,
            'per s (median)': round(median(samples[index].perSec), 0),
            'p99 ms (median)': round(median(samples[index].p99Ms), 1),
            'server CPU ms per request (median)': round(median(samples[index].cpuMs), 3),
            'CPU per slice': samples[index].cpuMs.map((value) => round(value, 3)).join(' '),
          });
        }
      }
    }
  } finally {
    for (const side of sides) await side.server.stop();
  }
  printTable(`A/B, ${engine === 'postgres' ? (process.env.BENCH_AB_SHARED_DB === '1' ? 'PostgreSQL (one database)' : 'PostgreSQL (a copy of one seeded database per side)') : 'SQLite (a copy of one seeded file per side)'}, ${invoices} invoices × 10 lines, 3 lines + memo changed per PATCH, ${rounds} rounds of ${sliceSec} s slices`, rows);
  if (dropDatabase && process.env.BENCH_KEEP_DB !== '1') await dropDatabase();
  for (const dir of sqliteDataDirs) fs.rmSync(dir, { recursive: true, force: true });
});
