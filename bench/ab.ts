
import { cpuTimeMs, dropPostgresDatabase, freshDataDir, intSetting, listSetting, printTable, round, runMain, startFolio, type FolioServer } from './lib/common.js';
import { assertHealthy, runReads, runUpdates, type EtagMap, } from './lib/load.js';
import { seededPostgresBench } from './lib/seed.js';
import { verifySeededInvoice } from './lib/verify.js';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

runMain(async () => {
  const baseRoot = process.env.BENCH_AB_BASE;
  if (!baseRoot) throw new Error('set BENCH_AB_BASE to a built checkout (the A side)');
  const invoices = intSetting('BENCH_INVOICES', 2000, 160);
  const sliceSec = intSetting('BENCH_SLICE_SEC', 5, 1);
  const rounds = intSetting('BENCH_ROUNDS', 3, 1);
  const connectionsList = listSetting('BENCH_CONNECTIONS', [1, 16], [4]);
  const { dbName, databaseUrl, tenant, set } = await seededPostgresBench({ baseName: 'folio_bench_ab', tag: 'abtst', invoices });

  const sides: { name: string; server: FolioServer }[] = [
    { name: `A (${baseRoot})`, server: await startFolio({ dataDir: freshDataDir('ab-a'), databaseUrl, root: baseRoot }) },
    { name: 'B (this checkout)', server: await startFolio({ dataDir: freshDataDir('ab-b'), databaseUrl }) },
  ];
  const etags: EtagMap = new Map();
  const rows: Record<string, unknown>[] = [];
  try {
    for (const side of sides) {
      await verifySeededInvoice(side.server.url, tenant.key, set, etags);
      await runUpdates({ url: side.server.url, key: tenant.key, set, connections: 4, durationSec: 2, linesToChange: 3, headerField: true, etags });
    }
    for (const connections of connectionsList) {
      for (const kind of ['PATCH', 'GET'] as const) {
        const samples = sides.map(() => ({ perSec: [] as number[], cpuMs: [] as number[] }));
        for (let roundIndex = 0; roundIndex < rounds; roundIndex++) {
          for (const [index, side] of sides.entries()) {
            const { url, pid } = side.server;
            const cpuAtStartMs = cpuTimeMs(pid);
            const result = kind === 'PATCH'
              ? await runUpdates({ url, key: tenant.key, set, connections, durationSec: sliceSec, linesToChange: 3, headerField: true, etags })
              : await runReads({ url, key: tenant.key, set, connections, durationSec: sliceSec });
            assertHealthy(`${kind} ${side.name}`, result);
            samples[index].perSec.push(result.perSec);
            samples[index].cpuMs.push((cpuTimeMs(pid) - cpuAtStartMs) / Math.max(1, result.ok + result.preconditionFailed));
          }
        }
        for (const [index, side] of sides.entries()) {
          rows.push({ request: kind, connections, side: side.name, 'per s (median)': round(median(samples[index].perSec), 0), 'server CPU ms per request (median)': round(median(samples[index].cpuMs), 3) });
        }
      }
    }
  } finally {
    for (const side of sides) await side.server.stop();
  }
  printTable(`A/B, PostgreSQL, ${invoices} invoices × 10 lines, 3 lines + memo changed per PATCH, ${rounds} rounds of ${sliceSec} s slices`, rows);
  if (process.env.BENCH_KEEP_DB !== '1') await dropPostgresDatabase(dbName);
});
