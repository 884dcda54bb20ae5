/**
 * GET of an invoice with 10 lines, A/B, against the in-memory route, all in one run:
 * A = a built checkout (BENCH_AB_BASE, as bench:ab), B = this checkout, and the in-memory Fastify
 * route of bench:read / bench:issue18 answering the same JSON, in interleaved slices (for each
 * round and connection count: A, B, in-memory), on one seeded PostgreSQL database. Reports the
 * medians of GET/s, p50/p99, the ratio to the in-memory route and the server CPU per GET (the
 * Folio process + the PostgreSQL backends of the database). See bench/README.md.
 *
 *   BENCH_AB_BASE=/tmp/ab_base BENCH_SLICE_SEC=4 BENCH_ROUNDS=3 node --import tsx bench/read-ab.ts
 */
import Fastify from 'fastify';
import { cpuTimeMs, dropPostgresDatabase, freshDataDir, intSetting, listSetting, printTable, round, runMain, startFolio, type FolioServer } from './lib/common.js';
import { sampleBackendCpu } from './lib/backend-cpu.js';
import { assertHealthy, runReads } from './lib/load.js';
import { invoiceIdFor, seededPostgresBench } from './lib/seed.js';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

interface Slice {
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  nodeCpuMs: number;
  pgCpuMs: number;
}

runMain(async () => {
  const { BENCH_AB_BASE: baseRoot } = process.env;
  if (!baseRoot) throw new Error('set BENCH_AB_BASE to a built checkout (the A side), as for bench:ab');
  const [invoices, sliceSec, rounds] = [intSetting('BENCH_INVOICES', 2000, 160), intSetting('BENCH_SLICE_SEC', 5, 1), intSetting('BENCH_ROUNDS', 3, 1)];
  const connectionsList = listSetting('BENCH_CONNECTIONS', [1, 16], [4]);
  const { dbName, databaseUrl, tenant, set } = await seededPostgresBench({ baseName: 'folio_bench_read_ab', tag: 'rdabx', invoices });

  const folios: { name: string; server: FolioServer }[] = [
    { name: 'A', server: await startFolio({ dataDir: freshDataDir('read-ab-a'), databaseUrl, root: baseRoot }) },
    { name: 'B', server: await startFolio({ dataDir: freshDataDir('read-ab-b'), databaseUrl }) },
  ];
  const first = folios[0].server;
  const sample = await fetch(`${first.url}/v1/invoices/${invoiceIdFor(set.tag, 1)}`, { headers: { authorization: `Bearer ${tenant.key}` } });
  if (sample.status !== 200) throw new Error(`GET seeded invoice: ${sample.status}`);
  const body = await sample.json();
  const memory = Fastify({ logger: false });
  memory.get('/invoice', async () => body);
  const memoryUrl = await memory.listen({ port: 0, host: '127.0.0.1' });

  const slice = async (side: string, connections: number, durationSec = sliceSec): Promise<Slice> => {
    const folio = folios.find((candidate) => candidate.name === side)?.server;
    if (!folio) {
      const load = await runReads({ url: memoryUrl, path: '/invoice', connections, durationSec });
      assertHealthy(`in-memory GET at ${connections}`, load);
      // The in-memory route runs in this process, beside the load client: its CPU is not separable.
      return { perSec: load.perSec, p50Ms: load.p50Ms, p99Ms: load.p99Ms, nodeCpuMs: 0, pgCpuMs: 0 };
    }
    const backend = await sampleBackendCpu(dbName);
    const nodeAtStart = cpuTimeMs(folio.pid);
    const load = await runReads({ url: folio.url, key: tenant.key, set, connections, durationSec });
    assertHealthy(`${side} GET at ${connections}`, load);
    const nodeMs = cpuTimeMs(folio.pid) - nodeAtStart;
    const pgMs = await backend.stop();
    return { perSec: load.perSec, p50Ms: load.p50Ms, p99Ms: load.p99Ms, nodeCpuMs: nodeMs / Math.max(1, load.ok), pgCpuMs: pgMs / Math.max(1, load.ok) };
  };

  const sides = ['A', 'B', 'in-memory'];
  const slices = new Map<string, Slice[]>();
  try {
    // Warm-up: JIT, pools, and on a caching side its cache.
    for (const side of sides) await slice(side, 4, 3);
    for (let roundIndex = 0; roundIndex < rounds; roundIndex++) {
      for (const connections of connectionsList) {
        for (const side of sides) {
          const key = `${side}|${connections}`;
          slices.set(key, [...(slices.get(key) ?? []), await slice(side, connections)]);
        }
      }
    }
  } finally {
    await memory.close();
    for (const { server } of folios) await server.stop();
  }

  const rows = connectionsList.flatMap((connections) => {
    const pick = (side: string, field: keyof Slice) => round(median(slices.get(`${side}|${connections}`)!.map((one) => one[field])), 3);
    const inMemory = pick('in-memory', 'perSec');
    return ['A', 'B'].map((side) => ({
      conn: connections,
      side: side === 'A' ? `A (${baseRoot})` : 'B (this checkout)',
      'GET/s': pick(side, 'perSec'),
      'p50 / p99 ms': `${pick(side, 'p50Ms')} / ${pick(side, 'p99Ms')}`,
      'in-memory GET/s': inMemory,
      '÷ in-memory': round(pick(side, 'perSec') / inMemory, 2),
      'CPU ms/GET (node + pg)': `${round(pick(side, 'nodeCpuMs') + pick(side, 'pgCpuMs'), 3)} (${pick(side, 'nodeCpuMs')} + ${pick(side, 'pgCpuMs')})`,
    }));
  });
  printTable(`GET A/B vs in-memory, PostgreSQL, ${invoices} invoices × 10 lines (response ${JSON.stringify(body).length} bytes), medians of ${rounds} interleaved rounds of ${sliceSec} s`, rows);
  if (process.env.BENCH_KEEP_DB !== '1') await dropPostgresDatabase(dbName);
});
