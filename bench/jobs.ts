/**
 * bench:jobs — bulk changes (docs/bulk-jobs.md) on the real server (dist/main.js):
 *  1. a VAT job (every line at 20% → 25.5%) over BENCH_JOB_INVOICES seeded invoices: invoices
 *     changed per second, end to end (matching + one transaction per invoice);
 *  2. single PATCHes doing the same kind of change on the same database, BENCH_CONNECTIONS
 *     clients for BENCH_DURATION s: invoices changed per second;
 *  3. the server's RSS while a job matches BENCH_JOB_RSS_MATCHED invoices (1 line each) and
 *     processes for BENCH_JOB_RSS_SECONDS more (then it is cancelled): memory stays bounded.
 * BENCH_ENGINE=sqlite (default) or postgres. Results: bench/results/jobs-<engine>.json.
 */
import { openDatabase } from '../src/db/database.js';
import { benchDatabaseName, dropPostgresDatabase, freshDataDir, freshPostgresDatabase, intSetting, printTable, round, runMain, sampleRss, sleep, startFolio, writeResults } from './lib/common.js';
import { createBenchTenant, invoiceIdFor, lineIdFor, seedInvoices, type BenchTenant } from './lib/seed.js';

const vatChange = { line_operations: [{ op: 'update', match: { tax_rate: '20' }, set: { tax_rate: '25.5' } }] };

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
  counts: { matched: number; changed: number };
}

/** Polls a job until `done(view)`; returns the last view. */
async function waitForJob(url: string, key: string, jobId: string, done: (view: JobView) => boolean, timeoutMs = 6 * 3600_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await call(url, key, 'GET', `/v1/invoice-jobs/${jobId}`);
    if (done(view)) return view;
    if (Date.now() > deadline) throw new Error(`job ${jobId} not done in time: ${JSON.stringify(view)}`);
    await sleep(200);
  }
}

runMain(async () => {
  const engine = process.env.BENCH_ENGINE === 'postgres' ? 'postgres' : 'sqlite';
  const invoices = intSetting('BENCH_JOB_INVOICES', 10_000, 200);
  const connections = intSetting('BENCH_CONNECTIONS', 4, 2);
  const durationSec = intSetting('BENCH_DURATION', 15, 2);
  const rssMatched = intSetting('BENCH_JOB_RSS_MATCHED', 1_000_000, 2_000);
  const rssSeconds = intSetting('BENCH_JOB_RSS_SECONDS', 30, 2);
  // Invoices left for the single PATCHes (each PATCH changes a fresh one).
  const patchInvoices = intSetting('BENCH_PATCH_INVOICES', 20_000, 500);
  console.log(`bench:jobs (${engine}) — job over ${invoices} invoices × 10 lines vs single PATCHes (${connections} clients, ${durationSec} s); RSS at ${rssMatched} matched`);

  const name = benchDatabaseName('folio_bench_jobs');
  const dataDir = freshDataDir(`jobs-${engine}`);
  const databaseUrl = engine === 'postgres' ? await freshPostgresDatabase(name) : undefined;
  const database = await openDatabase({ dataDir, databaseUrl });
  const vatTenant = await createBenchTenant(database, 'bench-jobs-vat');
  const rssTenant: BenchTenant = await createBenchTenant(database, 'bench-jobs-rss');
  const seededVat = await seedInvoices(database, { tenant: vatTenant, tag: 'jobsa', from: 1, to: invoices + patchInvoices, linesPerInvoice: 10 });
  console.log(`seeded ${invoices + patchInvoices} invoices × 10 lines in ${round(seededVat.seconds, 1)} s`);
  const seededRss = await seedInvoices(database, { tenant: rssTenant, tag: 'jobsb', from: 1, to: rssMatched, linesPerInvoice: 1 });
  console.log(`seeded ${rssMatched} invoices × 1 line in ${round(seededRss.seconds, 1)} s`);
  await database.close();

  const server = await startFolio({ dataDir, databaseUrl, env: { FOLIO_JOB_POLL_MS: '20', FOLIO_WEBHOOK_DISPATCHER: 'off' } });
  try {
    // 1. The job: the first `invoices` seeded invoices, named by a filter on their ids' creation order is not
    // available, so by an explicit list (the API's limit is 10,000 ids; larger runs use a filter on the whole tenant).
    const targetIds = Array.from({ length: invoices }, (_, index) => invoiceIdFor('jobsa', index + 1));
    const target = invoices <= 10_000 ? { invoice_ids: targetIds } : { filter: {} };
    const jobStartedAt = performance.now();
    const created = await call(server.url, vatTenant.key, 'POST', '/v1/invoice-jobs', { ...target, change: vatChange, reason: 'bench VAT' });
    const jobRss = sampleRss(server.pid);
    const finished = await waitForJob(server.url, vatTenant.key, created.id, (view) => view.state === 'completed');
    const jobSeconds = (performance.now() - jobStartedAt) / 1000;
    const jobMemory = jobRss.stop();
    const jobRate = finished.counts.changed / jobSeconds;

    // 2. Single PATCHes: the same change (one line's tax rate) on other invoices of the same tenant.
    let next = invoices + 1;
    let patched = 0;
    const patchDeadline = performance.now() + durationSec * 1000;
    const patchStartedAt = performance.now();
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < patchDeadline && next <= invoices + patchInvoices) {
          const n = next++;
          await call(server.url, vatTenant.key, 'PATCH', `/v1/invoices/${invoiceIdFor('jobsa', n)}`, {
            reason: 'bench VAT',
            line_operations: [2, 3, 5, 6, 8, 9].map((position) => ({ op: 'update', id: lineIdFor('jobsa', n, position), tax_rate: '25.5' })),
          });
          patched++;
        }
      }),
    );
    const patchRate = patched / ((performance.now() - patchStartedAt) / 1000);

    // 3. RSS with a large match: matching streams pages of ids into items; memory must not grow with it.
    const rssStartedAt = performance.now();
    const big = await call(server.url, rssTenant.key, 'POST', '/v1/invoice-jobs', { filter: {}, change: vatChange, reason: 'bench RSS' });
    const bigRss = sampleRss(server.pid);
    const matchedView = await waitForJob(server.url, rssTenant.key, big.id, (view) => view.matching_complete);
    const matchSeconds = (performance.now() - rssStartedAt) / 1000;
    await sleep(rssSeconds * 1000);
    // Cancelled unless it already finished (small runs).
    await fetch(`${server.url}/v1/invoice-jobs/${big.id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${rssTenant.key}` } });
    const bigView = await call(server.url, rssTenant.key, 'GET', `/v1/invoice-jobs/${big.id}`);
    const bigMemory = bigRss.stop();

    const rows = [
      { what: `job over ${finished.counts.matched} invoices`, changed: finished.counts.changed, seconds: round(jobSeconds, 1), invoices_per_s: round(jobRate, 1), max_rss_mb: jobMemory.maxMb },
      { what: `single PATCHes, ${connections} clients`, changed: patched, seconds: durationSec, invoices_per_s: round(patchRate, 1), max_rss_mb: '' },
      {
        what: `job matching ${matchedView.counts.matched} (+${rssSeconds} s processing)`,
        changed: bigView.counts.changed,
        seconds: round(matchSeconds, 1),
        invoices_per_s: round(bigView.counts.changed / (matchSeconds + rssSeconds), 1),
        max_rss_mb: bigMemory.maxMb,
      },
    ];
    printTable(`bench:jobs (${engine})`, rows);
    writeResults(`jobs-${engine}`, {
      engine,
      invoices,
      connections,
      durationSec,
      job: { seconds: round(jobSeconds, 2), counts: finished.counts, invoicesPerSecond: round(jobRate, 1), maxRssMb: jobMemory.maxMb },
      singlePatches: { patched, invoicesPerSecond: round(patchRate, 1) },
      rss: { matched: matchedView.counts.matched, matchSeconds: round(matchSeconds, 1), processedSeconds: rssSeconds, processed: bigView.counts.changed, maxRssMb: bigMemory.maxMb, lastRssMb: bigMemory.lastMb },
    });
  } finally {
    await server.stop();
    if (databaseUrl) await dropPostgresDatabase(name);
  }
});
