/**
 * bench:jobs — bulk changes (docs/bulk-jobs.md) on the real server (dist/main.js), one database:
 *  1. throughput, interleaved: BENCH_JOB_ROUNDS rounds of [a VAT job (every line at 20% → 25.5%)
 *     over a fresh block of seeded invoices, then single PATCHes making the same change to other
 *     fresh invoices for BENCH_DURATION s at each of BENCH_CONNECTIONS clients]; invoices changed
 *     per second, median over rounds, so outside load hits both sides of the ratio alike;
 *  2. memory: for each size in BENCH_JOB_RSS_MATCHED (its own tenant of 1-line invoices), a job
 *     with filter {} matches every invoice and then processes for BENCH_JOB_RSS_SECONDS (then it
 *     is cancelled); the server's RSS before, while matching and while processing. Bounded
 *     memory = the same peak at 100k and at 1M.
 * BENCH_ENGINE=sqlite (default) or postgres. Results: bench/results/jobs-<engine>.json.
 */
import { openDatabase } from '../src/db/database.js';
import { benchDatabaseName, dropPostgresDatabase, freshDataDir, freshPostgresDatabase, intSetting, listSetting, printTable, round, runMain, sampleRss, sleep, startFolio, writeResults } from './lib/common.js';
import { createBenchTenant, invoiceIdFor, lineIdFor, seedInvoices, type BenchTenant } from './lib/seed.js';

const vatChange = { line_operations: [{ op: 'update', match: { tax_rate: '20' }, set: { tax_rate: '25.5' } }] };
/** The 1-line seeded invoices' only line is at 10% (bench/lib/seed.ts): the memory job changes it. */
const rssChange = { line_operations: [{ op: 'update', match: { tax_rate: '10' }, set: { tax_rate: '14' } }] };
/** Line positions at 20% in a 10-line seeded invoice (templateInvoiceBody: i % 3 !== 0). */
const vatPositions = [2, 3, 5, 6, 8, 9];

async function call(url: string, key: string, method: string, path: string, body?: unknown): Promise<JobView & { id: string }> {
  const response = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

interface JobView {
  state: string;
  matching_complete: boolean;
  counts: { matched: number; changed: number; unchanged: number; refused: number; failed: number };
}

/** Polls a job until `done(view)`; returns the last view. */
async function waitForJob(url: string, key: string, jobId: string, done: (view: JobView) => boolean, timeoutMs = 6 * 3600_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await call(url, key, 'GET', `/v1/invoice-jobs/${jobId}`);
    if (done(view)) return view;
    if (Date.now() > deadline) throw new Error(`job ${jobId} not done in time: ${JSON.stringify(view)}`);
    await sleep(50);
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

runMain(async () => {
  const engine = process.env.BENCH_ENGINE === 'postgres' ? 'postgres' : 'sqlite';
  const rounds = intSetting('BENCH_JOB_ROUNDS', 4, 2);
  const jobBlock = intSetting('BENCH_JOB_BLOCK', 1_000, 50);
  const connectionCounts = listSetting('BENCH_CONNECTIONS', [1, 4], [1, 2]);
  const durationSec = intSetting('BENCH_DURATION', 10, 2);
  const rssSizes = listSetting('BENCH_JOB_RSS_MATCHED', [100_000, 1_000_000], [2_000, 4_000]);
  const rssSeconds = intSetting('BENCH_JOB_RSS_SECONDS', 30, 2);
  // Invoices for the single PATCHes (each PATCH changes a fresh one).
  const patchInvoices = intSetting('BENCH_PATCH_INVOICES', 20_000, 2_000);
  let ranOutOfInvoices = false;
  const jobInvoices = rounds * jobBlock;
  console.log(
    `bench:jobs (${engine}) — ${rounds} rounds of [a job over ${jobBlock} invoices × 10 lines, single PATCHes at ${connectionCounts.join('/')} clients for ${durationSec} s]; RSS at ${rssSizes.join(', ')} matched`,
  );

  const name = benchDatabaseName('folio_bench_jobs');
  const dataDir = freshDataDir(`jobs-${engine}`);
  const databaseUrl = engine === 'postgres' ? await freshPostgresDatabase(name) : undefined;
  const database = await openDatabase({ dataDir, databaseUrl });
  const vatTenant = await createBenchTenant(database, 'bench-jobs-vat');
  const seededVat = await seedInvoices(database, { tenant: vatTenant, tag: 'jobsa', from: 1, to: jobInvoices + patchInvoices, linesPerInvoice: 10 });
  console.log(`seeded ${jobInvoices + patchInvoices} invoices × 10 lines in ${round(seededVat.seconds, 1)} s`);
  const rssTenants: { size: number; tenant: BenchTenant; seedSeconds: number }[] = [];
  for (const [index, size] of rssSizes.entries()) {
    const tenant = await createBenchTenant(database, `bench-jobs-rss-${index}`);
    const seeded = await seedInvoices(database, { tenant, tag: `jobr${index}`, from: 1, to: size, linesPerInvoice: 1 });
    console.log(`seeded ${size} invoices × 1 line in ${round(seeded.seconds, 1)} s`);
    rssTenants.push({ size, tenant, seedSeconds: round(seeded.seconds, 1) });
  }
  await database.close();

  const server = await startFolio({ dataDir, databaseUrl, env: { FOLIO_JOB_POLL_MS: '20', FOLIO_WEBHOOK_DISPATCHER: 'off' } });
  try {
    // 1. Throughput, interleaved: job slice, then PATCH slices, per round.
    let nextPatched = jobInvoices + 1;
    const patchBody = (n: number) => ({
      reason: 'bench VAT',
      line_operations: vatPositions.map((position) => ({ op: 'update', id: lineIdFor('jobsa', n, position), tax_rate: '25.5' })),
    });
    const roundRows: Record<string, unknown>[] = [];
    const jobRates: number[] = [];
    const patchRates = new Map<number, number[]>(connectionCounts.map((count) => [count, []]));
    const jobRss: number[] = [];
    for (let roundIndex = 0; roundIndex < rounds; roundIndex++) {
      const ids = Array.from({ length: jobBlock }, (_, index) => invoiceIdFor('jobsa', roundIndex * jobBlock + index + 1));
      const rss = sampleRss(server.pid);
      const startedAt = performance.now();
      const created = await call(server.url, vatTenant.key, 'POST', '/v1/invoice-jobs', { invoice_ids: ids, change: vatChange, reason: 'bench VAT' });
      const finished = await waitForJob(server.url, vatTenant.key, created.id, (view) => view.state === 'completed');
      const seconds = (performance.now() - startedAt) / 1000;
      const memory = rss.stop();
      if (finished.counts.changed !== jobBlock) throw new Error(`job changed ${finished.counts.changed} of ${jobBlock}: ${JSON.stringify(finished.counts)}`);
      const jobRate = finished.counts.changed / seconds;
      jobRates.push(jobRate);
      jobRss.push(memory.maxMb);
      roundRows.push({ round: roundIndex + 1, what: `job over ${jobBlock}`, changed: finished.counts.changed, seconds: round(seconds, 1), invoices_per_s: round(jobRate, 1), max_rss_mb: memory.maxMb });

      for (const connections of connectionCounts) {
        let patched = 0;
        const deadline = performance.now() + durationSec * 1000;
        const startedPatches = performance.now();
        await Promise.all(
          Array.from({ length: connections }, async () => {
            while (performance.now() < deadline) {
              const n = nextPatched++;
              // Out of fresh invoices: the slice ends early; its rate (over the time it ran) stays true.
              if (n > jobInvoices + patchInvoices) {
                ranOutOfInvoices = true;
                break;
              }
              await call(server.url, vatTenant.key, 'PATCH', `/v1/invoices/${invoiceIdFor('jobsa', n)}`, patchBody(n));
              patched++;
            }
          }),
        );
        const patchSeconds = (performance.now() - startedPatches) / 1000;
        patchRates.get(connections)!.push(patched / patchSeconds);
        roundRows.push({ round: roundIndex + 1, what: `PATCHes, ${connections} client(s)`, changed: patched, seconds: round(patchSeconds, 1), invoices_per_s: round(patched / patchSeconds, 1), max_rss_mb: '' });
      }
    }
    printTable(`bench:jobs (${engine}) — interleaved rounds`, roundRows);
    if (ranOutOfInvoices) console.warn('PATCH slices ran out of fresh invoices and ended early: raise BENCH_PATCH_INVOICES for full-length slices');
    const jobMedian = median(jobRates);
    const summaryRows = [
      { what: `job (1 worker), ${jobBlock} invoices per job`, median_invoices_per_s: round(jobMedian, 1), job_over_this: '' },
      ...connectionCounts.map((connections) => {
        const rate = median(patchRates.get(connections)!);
        return { what: `single PATCHes, ${connections} client(s)`, median_invoices_per_s: round(rate, 1), job_over_this: round(jobMedian / rate, 2) };
      }),
    ];
    printTable(`bench:jobs (${engine}) — medians over ${rounds} rounds`, summaryRows);

    // 2. Memory at each size: matching streams pages of ids into items; RSS must not grow with the size.
    const memoryRows: Record<string, unknown>[] = [];
    for (const { tenant, seedSeconds } of rssTenants) {
      await sleep(2000);
      const idle = sampleRss(server.pid);
      await sleep(600);
      const idleMb = idle.stop().lastMb;
      const startedAt = performance.now();
      const matching = sampleRss(server.pid);
      const big = await call(server.url, tenant.key, 'POST', '/v1/invoice-jobs', { filter: {}, change: rssChange, reason: 'bench RSS' });
      const matched = await waitForJob(server.url, tenant.key, big.id, (view) => view.matching_complete);
      const matchSeconds = (performance.now() - startedAt) / 1000;
      const matchingMemory = matching.stop();
      const processing = sampleRss(server.pid);
      const before = matched.counts.changed;
      const processingStartedAt = performance.now();
      await sleep(rssSeconds * 1000);
      const during = await call(server.url, tenant.key, 'GET', `/v1/invoice-jobs/${big.id}`);
      const processedSeconds = (performance.now() - processingStartedAt) / 1000;
      const processingMemory = processing.stop();
      // Cancelled unless it already finished (small runs).
      await fetch(`${server.url}/v1/invoice-jobs/${big.id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${tenant.key}` } });
      const row = {
        matched: matched.counts.matched,
        seed_s: seedSeconds,
        match_s: round(matchSeconds, 1),
        matched_per_s: round(matched.counts.matched / matchSeconds, 0),
        changed_while_matching: before,
        changed_per_s_after: round((during.counts.changed - before) / processedSeconds, 1),
        idle_rss_mb: idleMb,
        max_rss_matching_mb: matchingMemory.maxMb,
        max_rss_processing_mb: processingMemory.maxMb,
        last_rss_mb: processingMemory.lastMb,
      };
      console.log(JSON.stringify(row));
      memoryRows.push(row);
    }
    printTable(`bench:jobs (${engine}) — server RSS while one job matches N invoices, then processes ${rssSeconds} s`, memoryRows);

    writeResults(`jobs-${engine}`, {
      engine,
      rounds,
      jobBlock,
      connectionCounts,
      durationSec,
      roundsDetail: roundRows,
      medians: summaryRows,
      jobMaxRssMb: Math.max(...jobRss),
      memory: memoryRows,
    });
  } finally {
    await server.stop();
    if (databaseUrl) await dropPostgresDatabase(name);
  }
});
