import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../../src/cli.js';
import { expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';
import { scaled } from '../helpers/reliability.js';

/** The bulk CLI commands (docs/bulk-jobs.md): import, export, jobs watch — run in process against the test database. */
let t: TestApp;
let api: Client;
let env: Record<string, string | undefined>;
let dir: string;

before(async () => {
  t = await startTestApp({ FOLIO_JOB_WORKER: 'off' });
  api = t.client(await t.key('bulk-cli'));
  env = { FOLIO_DATA_DIR: t.testDb.dataDir, DATABASE_URL: t.testDb.databaseUrl, FOLIO_JOB_WORKER: 'off' };
  dir = fs.mkdtempSync(path.join(t.testDb.dataDir, 'cli-'));
});
after(() => t.close());

async function cli(args: string[]) {
  const saved = { ...process.env };
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...parts: unknown[]) => out.push(parts.join(' '));
  console.error = (...parts: unknown[]) => err.push(parts.join(' '));
  try {
    delete process.env.DATABASE_URL;
    for (const [name, value] of Object.entries(env)) if (value !== undefined) process.env[name] = value;
    const code = await runCli(args);
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
    process.env = saved;
  }
}

const rowsToImport = scaled(150, 50_000);
/** Line (1-based, header = 1) of the malformed row and of the row with a missing field. */
const badQuantityLine = 42;
const shortRowLine = 77;

test(`import of ${rowsToImport} CSV rows: malformed rows reported by line number, every other invoice created`, async () => {
  const file = path.join(dir, 'invoices.csv');
  const lines = ['number,reference,currency,due_date,memo,line_description,line_quantity,line_unit_price,line_tax_rate'];
  for (let row = 1; row <= rowsToImport; row++) {
    const fileLine = row + 1;
    // Rows come in pairs: invoice IMP-n has two lines.
    const invoice = Math.ceil(row / 2);
    if (fileLine === badQuantityLine) lines.push(`IMP-${invoice},,EUR,2030-01-31,"Imported, quoted",Widget,lots,10.00,24`);
    else if (fileLine === shortRowLine) lines.push(`IMP-${invoice},,EUR`);
    else lines.push(`IMP-${invoice},RF${invoice},EUR,2030-01-31,"Imported, quoted",Item ${row},2,10.00,24`);
  }
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  const result = await cli(['import', 'invoices', file, '--tenant', 'bulk-cli']);
  assert.equal(result.code, 1, 'problems → exit 1');
  assert.match(result.stdout, new RegExp(`line ${badQuantityLine} \\(number IMP-${Math.ceil((badQuantityLine - 1) / 2)}\\): line_quantity "lots" is not a decimal number`));
  assert.match(result.stdout, new RegExp(`line ${shortRowLine} `));
  const invoices = rowsToImport / 2;
  const refusedInvoice = Math.ceil((badQuantityLine - 1) / 2);
  // The bad-quantity invoice is refused whole; the short row is skipped, its invoice keeps its other line.
  assert.match(result.stdout, new RegExp(`${invoices - 1} created`));
  const listed = expectStatus(await api.get(`/v1/invoices?number=IMP-${refusedInvoice}`), 200);
  assert.equal(listed.data.length, 0);
  // Nothing else lost, counted in the database: every other invoice with all its lines and totals.
  const shortRowInvoice = Math.ceil((shortRowLine - 1) / 2);
  const imported = await t.database.db
    .selectFrom('invoices')
    .select(['number', 'line_count', 'total'])
    .where('number', 'like', 'IMP-%')
    .execute();
  assert.equal(imported.length, invoices - 1);
  const importedLines = imported.reduce((sum, invoice) => sum + Number(invoice.line_count), 0);
  assert.equal(importedLines, rowsToImport - 3, 'every row but the refused invoice\'s two and the short one');
  for (const invoice of imported) {
    const expectedTotal = invoice.number === `IMP-${shortRowInvoice}` ? 24.8 : 49.6;
    assert.equal(Number(invoice.total), expectedTotal, `${invoice.number} total`);
  }
  const full = expectStatus(await api.get('/v1/invoices?number=IMP-1'), 200).data[0];
  assert.equal(full.lines.length, 2);
  assert.equal(full.total, '49.60');
  assert.equal(full.memo, 'Imported, quoted');

  // Re-import: the same numbers are updated, not duplicated.
  fs.writeFileSync(file, `${lines.join('\n').replaceAll('Imported, quoted', 'Re-imported')}\n`);
  const again = await cli(['import', 'invoices', file, '--tenant', 'bulk-cli']);
  assert.match(again.stdout, new RegExp(` 0 created, ${invoices - 1} updated, 0 unchanged, 2 refused`));
  assert.equal(expectStatus(await api.get('/v1/invoices?number=IMP-1'), 200).data[0].memo, 'Re-imported');
});

test('JSONL import: the API body per line; a broken line is reported, the rest imported', async () => {
  const file = path.join(dir, 'invoices.jsonl');
  fs.writeFileSync(file, [
    JSON.stringify({ number: 'J-1', currency: 'EUR', lines: [{ description: 'A', quantity: '1', unit_price: '5', tax_rate: '24' }] }),
    '{"number": "J-2", broken',
    JSON.stringify({ reference: 'RF-J3', currency: 'EUR', memo: 'x'.repeat(6000) }),
    JSON.stringify({ reference: 'RF-J4', currency: 'EUR' }),
  ].join('\n'));
  const result = await cli(['import', 'invoices', file, '--tenant', 'bulk-cli']);
  assert.equal(result.code, 1);
  assert.match(result.stdout, /line 2 \(\?\): not valid JSON/);
  assert.match(result.stdout, /line 3 \(reference RF-J3\): \/memo/);
  assert.match(result.stdout, /2 created/);
});

test('export streams every invoice as CSV rows (the import columns) or JSON lines', async () => {
  const csvFile = path.join(dir, 'out.csv');
  const csv = await cli(['export', 'invoices', '--tenant', 'bulk-cli', '--format', 'csv', '--output', csvFile]);
  assert.equal(csv.code, 0, csv.stderr);
  const text = fs.readFileSync(csvFile, 'utf8');
  assert.ok(text.startsWith('number,reference,currency,issue_date,due_date,customer_id,purchase_order,memo,line_description,'));
  assert.match(text, /\nIMP-1,RF1,EUR,,2030-01-31,,,Re-imported,Item 1,2(\.0+)?,,10\.00,24\n/);
  const jsonlFile = path.join(dir, 'out.jsonl');
  const jsonl = await cli(['export', 'invoices', '--tenant', 'bulk-cli', '--format', 'jsonl', '--output', jsonlFile]);
  const exported = fs.readFileSync(jsonlFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  assert.match(jsonl.stderr, new RegExp(`exported ${exported.length} invoices`));
  assert.ok(exported.some((invoice) => invoice.number === 'J-1' && invoice.total === '6.20'));
});

test('jobs watch --run: works the job, prints progress lines, the summary and the refusals', async () => {
  const paid = expectStatus(await api.post('/v1/invoices', { currency: 'EUR', lines: [{ description: 'P', quantity: '1', unit_price: '10', tax_rate: '24' }] }), 201);
  const open = expectStatus(await api.post(`/v1/invoices/${paid.id}/finalize`), 200);
  expectStatus(await api.post(`/v1/invoices/${paid.id}/payments`, { amount: open.balance, date: '2026-01-15', method: 'bank_transfer' }), 201);
  const draft = expectStatus(await api.post('/v1/invoices', { currency: 'EUR', lines: [{ description: 'D', quantity: '1', unit_price: '10', tax_rate: '24' }] }), 201);
  // Named invoices (not the whole tenant): the job stays small whatever the import test's profile left behind.
  const ids = [paid.id, draft.id, ...expectStatus(await api.get('/v1/invoices?limit=20'), 200).data.map((invoice: any) => invoice.id)];
  const job = expectStatus(await api.post('/v1/invoice-jobs', { invoice_ids: ids, change: { line_operations: [{ op: 'update', match: { tax_rate: '24' }, set: { tax_rate: '25.5' } }] }, reason: 'VAT' }), 202);
  const result = await cli(['jobs', 'watch', job.id, '--tenant', 'bulk-cli', '--run']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /100\.0%/);
  assert.match(result.stdout, new RegExp(`${job.id} completed: matched \\d+, changed \\d+, unchanged \\d+, refused 1,`));
  assert.match(result.stdout, new RegExp(`refused ${paid.id}: [a-z-]+ — `));
});
