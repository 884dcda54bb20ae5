import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { createApiKey } from '../../src/modules/tenants/service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/harness.js';
import { checkInvoiceIntegrity, recordFigures, scaled } from '../helpers/reliability.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

/**
 * Crash safety: the real server runs as a child process while writers send updates; it is
 * killed with SIGKILL at a random moment, and before it restarts we check the database:
 * every acknowledged update is there, versions are 1..n with one audit row and one outbox
 * event each, and totals equal the sum of the lines.
 */
const kills = scaled(20, 200);
const writers = 4;
const linesPerInvoice = 60;

let testDb: TestDatabase;
let check: DatabaseHandle;
let key: string;
let tenantId: string;

before(async () => {
  testDb = await createTestDatabase();
  check = await openDatabase({ dataDir: testDb.dataDir, databaseUrl: testDb.databaseUrl, poolSize: 2 });
  const created = await createApiKey(check.db, { tenantName: 'crash', scopes: ['invoices:read', 'invoices:write'] });
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
});

interface Writer {
  index: number;
  invoiceId: string | null;
  linesOnInvoice: number;
  /** Sequence number of the last attempted write (acknowledged or not). */
  attempted: number;
}

/** What the server acknowledged: it must all survive the crash. */
const ackedLines = new Map<string, string>(); // description → invoice id
const ackedMetadata = new Map<string, number>(); // `${invoiceId}|w${index}` → highest acknowledged sequence
let acknowledged = 0;
let attemptsCutByKill = 0;
let killWhen: { acks: number; resolve: () => void } | undefined;

async function send(server: ServerProcess, method: string, path: string, body: unknown) {
  const response = await fetch(server.baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

async function runWriter(server: ServerProcess, writer: Writer, running: () => boolean) {
  while (running()) {
    writer.attempted += 1;
    const seq = writer.attempted;
    const description = `w${writer.index}-${seq}`;
    const line = { description, quantity: '3', unit_price: '2.35', tax_rate: '21' };
    const metadata = { [`w${writer.index}`]: String(seq) };
    try {
      if (writer.invoiceId === null || writer.linesOnInvoice >= linesPerInvoice) {
        const reply = await send(server, 'POST', '/v1/invoices', { currency: 'EUR', reference: description, metadata, lines: [line] });
        assert.equal(reply.status, 201, JSON.stringify(reply.body));
        writer.invoiceId = reply.body.id;
        writer.linesOnInvoice = 1;
      } else {
        const reply = await send(server, 'PATCH', `/v1/invoices/${writer.invoiceId}`, { metadata, line_operations: [{ op: 'add', ...line }] });
        assert.equal(reply.status, 200, JSON.stringify(reply.body));
        writer.linesOnInvoice += 1;
      }
      acknowledged += 1;
      ackedLines.set(description, writer.invoiceId!);
      ackedMetadata.set(`${writer.invoiceId}|w${writer.index}`, seq);
      if (killWhen && acknowledged >= killWhen.acks) killWhen.resolve();
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      attemptsCutByKill += 1; // the connection died with the server: outcome unknown, not acknowledged
      return;
    }
  }
}

/** Checks the stored state against everything acknowledged so far (server is down). */
async function verify(): Promise<string[]> {
  const problems: string[] = [];
  const lines = await check.db.selectFrom('invoice_lines').select(['invoice_id', 'description']).where('tenant_id', '=', tenantId).execute();
  const stored = new Set(lines.map((line) => `${line.invoice_id}|${line.description}`));
  for (const [description, invoiceId] of ackedLines) {
    if (!stored.has(`${invoiceId}|${description}`)) problems.push(`acknowledged line ${description} missing from ${invoiceId}`);
  }
  const invoices = await check.db.selectFrom('invoices').select(['id', 'metadata', 'version']).where('tenant_id', '=', tenantId).execute();
  const metadataById = new Map(invoices.map((invoice) => [invoice.id, JSON.parse(invoice.metadata) as Record<string, string>]));
  for (const [slot, seq] of ackedMetadata) {
    const [invoiceId, field] = slot.split('|');
    const value = Number(metadataById.get(invoiceId)?.[field]);
    if (!(value >= seq)) problems.push(`${invoiceId} metadata ${field}=${value}, acknowledged ${seq}`);
  }
  const versions = invoices.reduce((sum, invoice) => sum + Number(invoice.version), 0);
  const audit = await sql<{ n: number }>`SELECT COUNT(*) AS n FROM audit_events WHERE tenant_id = ${tenantId}`.execute(check.db);
  const events = await sql<{ n: number }>`SELECT COUNT(*) AS n FROM events WHERE tenant_id = ${tenantId}`.execute(check.db);
  if (Number(audit.rows[0].n) !== versions) problems.push(`${audit.rows[0].n} audit rows for ${versions} versions`);
  if (Number(events.rows[0].n) !== versions) problems.push(`${events.rows[0].n} outbox events for ${versions} versions`);
  return problems;
}

describe('crash safety', () => {
  test(`${kills} SIGKILLs of the server at random moments lose no acknowledged update`, { timeout: scaled(600_000, 3_600_000) }, async () => {
    const state: Writer[] = Array.from({ length: writers }, (_, index) => ({ index, invoiceId: null, linesOnInvoice: 0, attempted: 0 }));
    let survived = 0;
    const failures: string[] = [];
    for (let kill = 0; kill < kills && failures.length === 0; kill += 1) {
      const server = await startServerProcess(serverEnv());
      let running = true;
      // Kill at a random moment once this run has done some work: after 1–20 acknowledgements,
      // plus up to 30 ms, so most kills land in the middle of a write.
      const killAfterAcks = acknowledged + 1 + Math.floor(Math.random() * 20);
      const killed = new Promise<void>((resolve) => (killWhen = { acks: killAfterAcks, resolve }));
      const work = Promise.all(state.map((writer) => runWriter(server, writer, () => running)));
      await Promise.race([killed, work]);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 30));
      const how = await server.kill('SIGKILL');
      running = false;
      await work;
      assert.equal(how, 'SIGKILL', `the server had already exited: ${server.stderr()}`);
      const problems = await verify();
      if (problems.length > 0) failures.push(`after kill ${kill + 1}: ${problems.slice(0, 10).join('; ')}`);
      else survived += 1;
    }

    // A last start: the server comes back and serves what is stored; every invoice is whole.
    const server = await startServerProcess(serverEnv());
    try {
      for (const writer of state) {
        if (!writer.invoiceId) continue;
        const response = await fetch(`${server.baseUrl}/v1/invoices/${writer.invoiceId}`, { headers: { authorization: `Bearer ${key}` } });
        assert.equal(response.status, 200);
      }
    } finally {
      await server.kill('SIGTERM');
    }
    const invoices = await check.db.selectFrom('invoices').select('id').where('tenant_id', '=', tenantId).execute();
    for (const { id } of invoices) failures.push(...(await checkInvoiceIntegrity(check.db, tenantId, id)));
    const lost = (await verify()).length;

    recordFigures('crash-safety/server-kill', { kills, killsSurvived: survived, updatesAcknowledged: acknowledged, updatesLost: lost, attemptsCutByKill });
    assert.deepEqual(failures, []);
    assert.equal(survived, kills);
    assert.ok(acknowledged > kills, `the writers got work done (${acknowledged} acknowledged)`);
  });
});
