import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/harness.js';
import { checkInvoiceIntegrity, httpClient, listen, recordFigures, tenantIdOf, type HttpReply } from '../helpers/reliability.js';

/**
 * No lost updates: many clients over real sockets doing read-modify-write with If-Match
 * (retrying on 412) never overwrite each other, and concurrent line operations without
 * If-Match are all applied.
 */
const clients = 20;
const cyclesPerClient = 10;

let t: TestApp;
let request: ReturnType<typeof httpClient>;
let tenantId: string;

before(async () => {
  t = await startTestApp({ FOLIO_RATE_LIMIT_PER_MINUTE: '0' });
  const baseUrl = await listen(t);
  request = httpClient(baseUrl, await t.key('lost-updates'));
  tenantId = await tenantIdOf(t.database.db, 'lost-updates');
});
after(() => t.close());

function expectOk(reply: HttpReply, status = 200) {
  assert.equal(reply.status, status, reply.text.slice(0, 500));
  return reply.body;
}

async function createInvoice(body: Record<string, unknown> = {}) {
  return expectOk(await request('POST', '/v1/invoices', { currency: 'EUR', ...body }), 201);
}

describe('lost updates', () => {
  test(`${clients} clients × ${cyclesPerClient} GET → PATCH If-Match cycles: every increment and every line is kept`, async () => {
    const invoice = await createInvoice({ metadata: { counter: '0' } });
    let preconditionFailures = 0;
    let successes = 0;

    async function client(clientIndex: number) {
      for (let cycle = 0; cycle < cyclesPerClient; cycle += 1) {
        let retries = 0;
        for (;;) {
          const current = await request('GET', `/v1/invoices/${invoice.id}`);
          const body = expectOk(current);
          const etag = current.headers.get('etag');
          assert.equal(etag, `"${body.version}"`);
          const next = Number(body.metadata.counter) + 1;
          const patch = await request('PATCH', `/v1/invoices/${invoice.id}`, {
            metadata: { counter: String(next) },
            line_operations: [{ op: 'add', description: `client ${clientIndex} cycle ${cycle}`, quantity: '1', unit_price: '1.25', tax_rate: '10' }],
          }, { 'if-match': etag! });
          if (patch.status === 412) {
            assert.equal(patch.headers.get('content-type')?.startsWith('application/problem+json'), true);
            preconditionFailures += 1;
            retries += 1;
            // What a well-behaved client does: back off with jitter before re-reading.
            await new Promise((resolve) => setTimeout(resolve, Math.random() * 4 * 2 ** Math.min(retries, 5)));
            continue;
          }
          expectOk(patch);
          successes += 1;
          break;
        }
      }
    }
    await Promise.all(Array.from({ length: clients }, (_, index) => client(index)));

    const final = expectOk(await request('GET', `/v1/invoices/${invoice.id}`));
    const expectedUpdates = clients * cyclesPerClient;
    const lost = expectedUpdates - Number(final.metadata.counter);
    recordFigures('lost-updates/if-match', { updatesAcknowledged: successes, updatesLost: lost, preconditionFailuresRetried: preconditionFailures });
    assert.equal(successes, expectedUpdates);
    assert.equal(final.metadata.counter, String(expectedUpdates), 'every increment is kept');
    assert.equal(final.lines.length, expectedUpdates, 'every appended line is kept');
    const descriptions = new Set(final.lines.map((line: any) => line.description));
    assert.equal(descriptions.size, expectedUpdates);
    assert.equal(final.version, expectedUpdates + 1, 'one version per acknowledged update');
    assert.equal(final.subtotal, '250.00');
    assert.equal(final.total, '276.00', 'per line 1.25 + 0.13 tax (0.125 rounded half up)');
    assert.deepEqual(await checkInvoiceIntegrity(t.database.db, tenantId, invoice.id), []);
  });

  test('without If-Match, concurrent line operations (adds and updates of distinct lines) are all applied', async () => {
    const invoice = await createInvoice({
      lines: Array.from({ length: clients }, (_, index) => ({ description: `own line ${index}`, quantity: '0', unit_price: '2.00' })),
    });
    const ownLineIds: string[] = invoice.lines.map((line: any) => line.id);
    let acknowledged = 0;

    async function client(clientIndex: number) {
      for (let cycle = 1; cycle <= cyclesPerClient; cycle += 1) {
        const reply = await request('PATCH', `/v1/invoices/${invoice.id}`, {
          line_operations: [
            { op: 'add', description: `added by ${clientIndex} #${cycle}`, quantity: '1', unit_price: '1.00' },
            { op: 'update', id: ownLineIds[clientIndex], quantity: String(cycle) },
          ],
        });
        expectOk(reply);
        acknowledged += 1;
      }
    }
    await Promise.all(Array.from({ length: clients }, (_, index) => client(index)));

    const final = expectOk(await request('GET', `/v1/invoices/${invoice.id}`));
    const added = final.lines.filter((line: any) => line.description.startsWith('added by'));
    const expected = clients * cyclesPerClient;
    recordFigures('lost-updates/line-operations', { updatesAcknowledged: acknowledged, updatesLost: expected - added.length });
    assert.equal(added.length, expected, 'no added line was dropped');
    for (const [index, id] of ownLineIds.entries()) {
      const line = final.lines.find((candidate: any) => candidate.id === id);
      assert.equal(line?.quantity, String(cyclesPerClient), `line of client ${index} has its last update`);
    }
    assert.equal(final.version, expected + 1);
    // 200 added lines × 1.00 + 20 own lines × 10 × 2.00
    assert.equal(final.total, '600.00');
    assert.deepEqual(await checkInvoiceIntegrity(t.database.db, tenantId, invoice.id), []);
  });
});
