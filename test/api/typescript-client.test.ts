import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BusinessRuleError, FolioClient, PreconditionFailedError, ValidationError } from '../../clients/typescript/src/index.js';
import { startTestApp, type TestApp } from '../helpers/harness.js';

/** clients/typescript against the app listening on a real socket. */
let t: TestApp;
let folio: FolioClient;

before(async () => {
  t = await startTestApp();
  const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
  folio = new FolioClient({ baseUrl: address, apiKey: await t.key('ts-client') });
});
after(() => t.close());

const draft = { currency: 'EUR', lines: [{ description: 'Consulting', quantity: '3', unit_price: '100.00', tax_rate: '20' }] };

test('create returns the invoice and its ETag; PATCH with a stale If-Match is a PreconditionFailedError with the current version', async () => {
  const created = await folio.createInvoice(draft);
  assert.equal(created.etag, '"1"');
  assert.equal(created.data.total, '360.00');
  const updated = await folio.updateInvoice(created.data.id, { memo: 'first' }, { ifMatch: created.etag });
  assert.equal(updated.etag, '"2"');
  const stale = await folio.updateInvoice(created.data.id, { memo: 'second' }, { ifMatch: created.etag }).catch((error) => error);
  assert.ok(stale instanceof PreconditionFailedError);
  assert.equal(stale.status, 412);
  assert.equal(stale.currentVersion, 2);
  assert.equal((await folio.getInvoice(created.data.id)).data.memo, 'first');
});

test('changeInvoice re-reads and re-applies after a concurrent write', async () => {
  const { data } = await folio.createInvoice(draft);
  let calls = 0;
  const result = await folio.changeInvoice(data.id, (invoice) => {
    calls++;
    // The first time round, someone else writes between our read and our write.
    if (calls === 1) void folio.updateInvoice(data.id, { internal_note: 'meanwhile' });
    return { memo: `${invoice.memo ?? ''}+mine` };
  });
  assert.equal(result.data.memo, '+mine');
  assert.ok(calls >= 1);
});

test('the same Idempotency-Key replays the first answer; problems are typed', async () => {
  const first = await folio.createInvoice(draft, { idempotencyKey: 'ts-client-create-1' });
  const again = await folio.createInvoice(draft, { idempotencyKey: 'ts-client-create-1' });
  assert.equal(again.data.id, first.data.id);
  const invalid = await folio.createInvoice({ currency: 'eur' }).catch((error) => error);
  assert.ok(invalid instanceof ValidationError);
  assert.equal(invalid.problem.errors?.[0].pointer, '/currency');
  await folio.finalizeInvoice(first.data.id);
  const refused = await folio.finalizeInvoice(first.data.id).catch((error) => error);
  assert.ok(refused instanceof BusinessRuleError);
  assert.equal(refused.type, 'finalize-requires-draft');
});

test('list filters and paging through allInvoices', async () => {
  const seen = [];
  for await (const invoice of folio.allInvoices({ status: 'draft', limit: 1, sort: 'created' })) seen.push(invoice.id);
  assert.ok(seen.length >= 2);
  assert.deepEqual(seen, [...seen].sort());
});
