import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { plainTextHeaderFieldNames, plainTextHeaderFields } from '../../src/shared/invoice-fields.js';
import { expectProblem, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';

// Every field of src/shared/invoice-fields.ts is wired end to end by its one declaration: a field
// added to the table is checked here without a new test (column, API schemas, merge, history).

let t: TestApp;
let api: Client;
before(async () => {
  t = await startTestApp({ FOLIO_WEBHOOK_DISPATCHER: 'off' });
  api = t.client(await t.key('plain-text-fields'));
});
after(() => t.close());

const newInvoice = (fields: Record<string, unknown> = {}) => ({ currency: 'EUR', lines: [{ description: 'A', quantity: '1', unit_price: '10' }], ...fields });

describe('plain text header fields (one declaration each)', () => {
  test('the table holds reference and purchase_order, in that order', () => {
    assert.deepEqual(plainTextHeaderFieldNames.slice(0, 2), ['reference', 'purchase_order']);
  });

  for (const field of plainTextHeaderFieldNames) {
    const { maxLength } = plainTextHeaderFields[field];

    test(`${field}: created, read, patched, cleared, reset by PUT, kept in the history`, async () => {
      const created = expectStatus(await api.post('/v1/invoices', newInvoice({ [field]: 'Ä-1 first' })), 201);
      assert.equal(created[field], 'Ä-1 first');
      assert.equal(expectStatus(await api.get(`/v1/invoices/${created.id}`), 200)[field], 'Ä-1 first', 'stored in its column and read back');

      const untouched = expectStatus(await api.patch(`/v1/invoices/${created.id}`, { memo: 'other field' }), 200);
      assert.equal(untouched[field], 'Ä-1 first', 'absent on PATCH: unchanged');
      const patched = expectStatus(await api.patch(`/v1/invoices/${created.id}`, { [field]: 'second' }), 200);
      assert.equal(patched[field], 'second');
      const cleared = expectStatus(await api.patch(`/v1/invoices/${created.id}`, { [field]: null }), 200);
      assert.equal(cleared[field], null);
      expectStatus(await api.patch(`/v1/invoices/${created.id}`, { [field]: 'third' }), 200);
      const put = expectStatus(await api.put(`/v1/invoices/${created.id}`, { currency: 'EUR' }), 200);
      assert.equal(put[field], null, 'absent on PUT: reset');

      const history = expectStatus(await api.get(`/v1/invoices/${created.id}/history`), 200);
      const changes = history.data.flatMap((entry: { changes: { path: string; from: unknown; to: unknown }[] }) => entry.changes.filter((change) => change.path === `/${field}`));
      assert.deepEqual(
        changes.map((change: { from: unknown; to: unknown }) => [change.from, change.to]),
        [
          ['Ä-1 first', 'second'],
          ['second', null],
          [null, 'third'],
          ['third', null],
        ],
      );
      const atVersion2 = expectStatus(await api.get(`/v1/invoices/${created.id}?version=2`), 200);
      assert.equal(atVersion2[field], 'Ä-1 first');
    });

    test(`${field}: at most ${maxLength} characters, a string or null; nothing written when refused`, async () => {
      const created = expectStatus(await api.post('/v1/invoices', newInvoice()), 201);
      assert.equal(created[field], null, 'a new invoice starts without it');
      expectStatus(await api.patch(`/v1/invoices/${created.id}`, { [field]: 'x'.repeat(maxLength) }), 200);
      const tooLong = expectProblem(await api.patch(`/v1/invoices/${created.id}`, { [field]: 'x'.repeat(maxLength + 1) }), 400, 'validation-error');
      assert.ok(tooLong.errors.some((error: { pointer: string }) => error.pointer === `/${field}`));
      expectProblem(await api.patch(`/v1/invoices/${created.id}`, { [field]: 5 }), 400, 'validation-error');
      assert.equal(expectStatus(await api.get(`/v1/invoices/${created.id}`), 200).version, 2);
    });

    test(`${field}: in the OpenAPI write schema (with its maxLength) and in the invoice schema`, async () => {
      const document = JSON.parse((await t.app.inject({ method: 'GET', url: '/openapi.json' })).body);
      const write = document.components.schemas.InvoiceWrite.properties[field];
      assert.ok(write, `${field} in InvoiceWrite`);
      assert.ok(JSON.stringify(write).includes(`"maxLength":${maxLength}`), JSON.stringify(write));
      assert.ok(document.components.schemas.Invoice.properties[field], `${field} in Invoice`);
    });
  }
});
