import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { createApiKey } from '../../src/modules/tenants/service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/harness.js';
import { recordFigures, scaled } from '../helpers/reliability.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

/**
 * A bulk job survives kill -9: the real server runs as a child process with its job worker; it is
 * killed with SIGKILL several times while the job runs and restarted. The job must finish and
 * every invoice must be changed exactly once: one version with the job id, counted in the database.
 */
const invoiceCount = scaled(200, 2_000);
const kills = scaled(3, 10);

let testDb: TestDatabase;
let check: DatabaseHandle;
let key: string;
let tenantId: string;

before(async () => {
  testDb = await createTestDatabase();
  check = await openDatabase({ dataDir: testDb.dataDir, databaseUrl: testDb.databaseUrl, poolSize: 2 });
  const created = await createApiKey(check.db, { tenantName: 'job-crash', scopes: ['invoices:read', 'invoices:write'] });
  key = created.key;
  tenantId = created.tenantId;
});
after(async () => {
  await check.close();
  await testDb.drop();
});

const serverEnv = () => ({
  FOLIO_DATA_DIR: testDb.dataDir,
  ...(testDb.databaseUrl ? { DATABASE_URL: testDb.databaseUrl } : {}),
  FOLIO_DB_POOL_SIZE: '5',
  FOLIO_RATE_LIMIT_PER_MINUTE: '0',
  FOLIO_JOB_POLL_MS: '20',
  FOLIO_JOB_BATCH_SIZE: '5',
  FOLIO_WEBHOOK_DISPATCHER: 'off',
});

async function call(server: ServerProcess, method: string, path: string, body?: unknown) {
  const response = await fetch(server.baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

const processedCount = async (jobId: string) => {
  const row = await check.db.selectFrom('invoice_job_items').select(sql<number>`count(*)`.as('count')).where('job_id', '=', jobId).where('state', '=', 'done').executeTakeFirstOrThrow();
  return Number(row.count);
};

test('kill -9 while a job runs, restart: the job finishes and every invoice is changed exactly once', async () => {
  let server = await startServerProcess(serverEnv());
  try {
    const ids: string[] = [];
    for (let index = 0; index < invoiceCount; index++) {
      const created = await call(server, 'POST', '/v1/invoices', { currency: 'EUR', lines: [{ description: 'Service', quantity: '1', unit_price: '100', tax_rate: '24' }] });
      assert.equal(created.status, 201);
      ids.push(created.body.id);
    }
    const job = await call(server, 'POST', '/v1/invoice-jobs', { filter: {}, change: { line_operations: [{ op: 'update', match: { tax_rate: '24' }, set: { tax_rate: '25.5' } }] }, reason: 'crash test' });
    assert.equal(job.status, 202);
    const jobId: string = job.body.id;

    let killedAt: number[] = [];
    for (let kill = 1; kill <= kills; kill++) {
      const target = Math.floor((invoiceCount * kill) / (kills + 1));
      const deadline = Date.now() + 120_000;
      while ((await processedCount(jobId)) < target && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      await server.kill('SIGKILL');
      killedAt = [...killedAt, await processedCount(jobId)];
      server = await startServerProcess(serverEnv());
    }

    const deadline = Date.now() + 180_000;
    let state = '';
    let view: any;
    while (Date.now() < deadline) {
      view = (await call(server, 'GET', `/v1/invoice-jobs/${jobId}`)).body;
      state = view.state;
      if (state === 'completed') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(state, 'completed', `job did not finish: ${JSON.stringify(view)} ${server.stderr()}`);
    assert.deepEqual(view.counts, { matched: invoiceCount, changed: invoiceCount, unchanged: 0, refused: 0, failed: 0, cancelled: 0 });

    // Exactly once, counted in the database: two versions per invoice (create + the job), one carrying the job id.
    const versions = await check.db
      .selectFrom('audit_events')
      .select(['invoice_id', sql<number>`count(*)`.as('versions'), sql<number>`sum(case when request_id = ${jobId} then 1 else 0 end)`.as('by_job')])
      .where('tenant_id', '=', tenantId)
      .groupBy('invoice_id')
      .execute();
    assert.equal(versions.length, invoiceCount);
    for (const row of versions) {
      assert.equal(Number(row.versions), 2, `invoice ${row.invoice_id} has ${row.versions} versions`);
      assert.equal(Number(row.by_job), 1);
    }
    const rows = await check.db.selectFrom('invoices').select(['id', 'version', 'tax_total', 'total']).where('tenant_id', '=', tenantId).execute();
    for (const row of rows) {
      assert.equal(row.version, 2);
      assert.equal(Number(row.total), 125.5, `invoice ${row.id} total re-verified`);
    }
    const completed = await check.db.selectFrom('events').select('id').where('resource_id', '=', jobId).where('type', '=', 'invoice_job.completed').execute();
    assert.equal(completed.length, 1);
    recordFigures('jobs-crash', { invoices: invoiceCount, kills, first_kill_after_items: killedAt[0] ?? 0 });
  } finally {
    await server.kill('SIGKILL');
  }
});
