import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { invoiceStore } from '../../src/modules/invoices/store.js';
import { presentInvoice } from '../../src/modules/invoices/write-answer.js';
import { engine, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';
import { multipartBody, pdfBytes, pngBytes } from '../helpers/multipart.js';
import { tenantIdOf } from '../helpers/reliability.js';

let t: TestApp;
let api: Client;
let tenantId: string;

before(async () => {
  t = await startTestApp();
  api = t.client(await t.key('invoice-read'));
  tenantId = await tenantIdOf(t.database.db, 'invoice-read');
});
after(() => t.close());

async function upload(invoiceId: string, version: number, file: { filename: string; contentType: string; bytes: Buffer }) {
  const { headers, payload } = multipartBody(file);
  const reply = await t.app.inject({
    method: 'POST',
    url: `/v1/invoices/${invoiceId}/attachments`,
    headers: { authorization: `Bearer ${api.key}`, 'if-match': `"${version}"`, ...headers },
    payload,
  });
  assert.equal(reply.statusCode, 201, reply.body);
}

/** An invoice that uses every part of the read: customer bill-to, maps, decimals of every scale, grouped lines, attachments. */
async function richInvoice() {
  const customer = expectStatus(
    await api.post('/v1/customers', { name: 'Müller & Söhne "GmbH"', email: 'ap@mueller.example', tax_id: 'DE123456789', address: { line1: 'Hauptstraße 1', city: 'Köln', postal_code: '50667', country: 'DE' } }),
    201,
  );
  const created = expectStatus(
    await api.post('/v1/invoices', {
      currency: 'EUR',
      customer_id: customer.id,
      memo: 'Zeile 1\nZeile 2 — “quoted” \\ backslash',
      metadata: { order: 'A-17', 'schlüssel': 'wert', empty: '' },
      custom_fields: { project: { type: 'string', value: 'Alpha' }, hours: { type: 'number', value: '12.50' } },
      external_refs: { erp: '000123' },
      lines: [
        { description: 'Beratung', quantity: '2.50', unit_price: '120.00', tax_rate: '19', discount: { type: 'percent', value: '12.5' }, tracking: { region: 'West' } },
        { description: 'Kleinteile 😀', quantity: '1000', unit_price: '0.0035', tax_rate: '7.0', unit: 'pcs', account_code: '4400', item_code: 'KT-1' },
        { description: 'Rabatt', quantity: '1', unit_price: '99999999.99', discount: { type: 'amount', value: '10.10' } },
      ],
    }),
    201,
  );
  await upload(created.id, 1, { filename: "Lieferschein März 'signed'.pdf", contentType: 'application/pdf', bytes: pdfBytes });
  await upload(created.id, 2, { filename: 'photo.png', contentType: 'image/png', bytes: pngBytes });
  return created.id as string;
}

/** The invoice as the locked path reads it: one statement per table, unchanged by the one-statement read. */
const readLocked = (id: string) => t.database.db.transaction().execute((tx) => invoiceStore.find(tx, engine, tenantId, id, { lock: true }));

describe('GET /v1/invoices/{id} in one statement', () => {
  test('the one-statement read gives exactly what reading each table does: same fields, same order, same text', async () => {
    const id = await richInvoice();
    const oneStatement = await invoiceStore.find(t.database.db, engine, tenantId, id);
    const perTable = await readLocked(id);
    assert.ok(oneStatement && perTable);
    assert.equal(oneStatement.lines.length, 3);
    assert.equal(oneStatement.attachments.length, 2);
    assert.ok(oneStatement.bill_to, 'the customer snapshot is there');
    assert.equal(JSON.stringify(oneStatement), JSON.stringify(perTable), 'byte for byte, key order included');
    assert.deepEqual(oneStatement, perTable);

    const reply = await api.get(`/v1/invoices/${id}`);
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, JSON.parse(JSON.stringify(presentInvoice(perTable, t.app.clock.today()))));
    assert.equal(reply.body.lines[1].unit_price, '0.0035');
  });

  test('an invoice without lines or attachments, and an unknown id', async () => {
    const created = expectStatus(await api.post('/v1/invoices', { currency: 'USD' }), 201);
    const oneStatement = await invoiceStore.find(t.database.db, engine, tenantId, created.id);
    assert.equal(JSON.stringify(oneStatement), JSON.stringify(await readLocked(created.id)));
    assert.deepEqual([oneStatement?.lines, oneStatement?.attachments], [[], []]);
    assert.equal(await invoiceStore.find(t.database.db, engine, tenantId, 'inv_missing'), undefined);
    assert.equal(await invoiceStore.find(t.database.db, engine, 'ten_other', created.id), undefined, 'another tenant finds nothing');
  });

  test('PostgreSQL: the read is a named prepared statement on the connection that ran it', { skip: engine !== 'postgres' }, async () => {
    const id = await richInvoice();
    // One transaction = one pooled connection, so its pg_prepared_statements is the one the read used.
    const names = await t.database.db.transaction().execute(async (tx) => {
      await invoiceStore.find(tx, engine, tenantId, id);
      await invoiceStore.find(tx, engine, tenantId, id);
      return (await sql<{ name: string }>`SELECT name FROM pg_prepared_statements`.execute(tx)).rows.map((row) => row.name);
    });
    assert.ok(names.includes('folio_find_invoice'), `prepared: ${names.join(', ')}`);
  });
});
