/**
 * bench:rate-limit — what the default per-key rate limit costs each request on PostgreSQL, where its
 * token buckets are rows shared by every API process (src/http/rate-limit.ts). Interleaved slices of
 * the same PATCH (and GET) load against: a server with the limit off (what the other benchmarks run),
 * and servers with the limit on (set high enough never to refuse): one taking tokens in leases (now),
 * one taking one token per request (FOLIO_RATE_LIMIT_LEASE_TOKENS=1, as before); the bucket table is
 * switched between UNLOGGED (migration 0014: no WAL, so the bucket's commit does not wait for a disk
 * flush) and LOGGED (before 0014) between slices.
 * BENCH_INVOICES (2000), BENCH_SLICE_SEC (5), BENCH_ROUNDS (3), BENCH_CONNECTIONS (1,16).
 */
import pg from 'pg';
import { cpuTimeMs, dropPostgresDatabase, freshDataDir, intSetting, listSetting, printTable, round, runMain, startFolio, writeResults } from './lib/common.js';
import { assertHealthy, runReads, runUpdates, type EtagMap, } from './lib/load.js';
import { seededPostgresBench } from './lib/seed.js';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

runMain(async () => {
  const invoices = intSetting('BENCH_INVOICES', 2000, 160);
  const sliceSec = intSetting('BENCH_SLICE_SEC', 5, 1);
  const rounds = intSetting('BENCH_ROUNDS', 3, 1);
  const connectionsList = listSetting('BENCH_CONNECTIONS', [1, 16], [4]);
  const { dbName, databaseUrl, tenant, set } = await seededPostgresBench({ baseName: 'folio_bench_rate_limit', tag: 'ratel', invoices });

  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  const off = await startFolio({ dataDir: freshDataDir('rate-limit-off'), databaseUrl });
  const on = await startFolio({ dataDir: freshDataDir('rate-limit-on'), databaseUrl, env: { FOLIO_RATE_LIMIT_PER_MINUTE: '100000000' } });
  // Before leases: one UPSERT per request, into a LOGGED table.
  const perRequest = await startFolio({ dataDir: freshDataDir('rate-limit-per-request'), databaseUrl, env: { FOLIO_RATE_LIMIT_PER_MINUTE: '100000000', FOLIO_RATE_LIMIT_LEASE_TOKENS: '1' } });
  const sides = [
    { name: 'limit off', server: off, table: null },
    { name: 'limit on: leases, UNLOGGED (now)', server: on, table: 'UNLOGGED' },
    { name: 'limit on: leases, LOGGED', server: on, table: 'LOGGED' },
    { name: 'limit on: 1 token per request, LOGGED (before)', server: perRequest, table: 'LOGGED' },
  ] as const;
  const etags: EtagMap = new Map();
  const rows: Record<string, unknown>[] = [];
  try {
    for (const server of [off, on, perRequest]) await runUpdates({ url: server.url, key: tenant.key, set, connections: 4, durationSec: 2, linesToChange: 3, headerField: true, etags });
    for (const connections of connectionsList) {
      for (const kind of ['PATCH', 'GET'] as const) {
        const samples = sides.map(() => ({ perSec: [] as number[], cpuMs: [] as number[], p99: [] as number[] }));
        for (let roundIndex = 0; roundIndex < rounds; roundIndex++) {
          for (const [index, side] of sides.entries()) {
            if (side.table) await admin.query(`ALTER TABLE rate_limit_buckets SET ${side.table}`);
            const { url, pid } = side.server;
            const cpuAtStartMs = cpuTimeMs(pid);
            const result = kind === 'PATCH'
              ? await runUpdates({ url, key: tenant.key, set, connections, durationSec: sliceSec, linesToChange: 3, headerField: true, etags })
              : await runReads({ url, key: tenant.key, set, connections, durationSec: sliceSec });
            assertHealthy(`${kind} ${side.name}`, result);
            samples[index].perSec.push(result.perSec);
            samples[index].p99.push(result.p99Ms);
            samples[index].cpuMs.push((cpuTimeMs(pid) - cpuAtStartMs) / Math.max(1, result.ok + result.preconditionFailed));
          }
        }
        const baseline = median(samples[0].perSec);
        for (const [index, side] of sides.entries()) {
          rows.push({
            request: kind,
            connections,
            side: side.name,
            'per s (median)': round(median(samples[index].perSec), 0),
            '÷ limit off': round(median(samples[index].perSec) / baseline, 2),
            'p99 ms': round(median(samples[index].p99), 0),
            'node CPU ms/request': round(median(samples[index].cpuMs), 3),
          });
        }
      }
    }
  } finally {
    await off.stop();
    await on.stop();
    await perRequest.stop();
    await admin.end();
  }
  printTable(`Rate limit on PostgreSQL: ${invoices} invoices × 10 lines, 3 lines + memo per PATCH, medians of ${rounds} interleaved rounds of ${sliceSec} s`, rows);
  writeResults('rate-limit', { invoices, sliceSec, rounds, rows });
  if (process.env.BENCH_KEEP_DB !== '1') await dropPostgresDatabase(dbName);
});
