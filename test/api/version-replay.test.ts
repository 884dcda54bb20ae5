import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createIdempotencyService, requestHash } from '../../src/modules/idempotency/service.js';
import { createInvoiceService } from '../../src/modules/invoices/service.js';
import { createWriteKernel } from '../../src/modules/invoices/versioning.js';
import { systemClock } from '../../src/shared/time.js';
import { presentInvoice } from '../../src/modules/invoices/write-answer.js';
import { expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';
import { tenantIdOf } from '../helpers/reliability.js';

/**
 * `GET /invoices/:id?version=N` is exactly version N (issue 13, item 4): every version replayed
 * from history deep-equals the answer that version's write returned, nested nulls included
 * (`bill_to.phone: null`, `bill_to.address.city: null`). The Idempotency-Key crash-recovery
 * path, which rebuilds a lost answer from history, gives the same answer too.
 */
let t: TestApp;
let api: Client;
let tenantId: string;
let customerId: string;

before(async () => {
  t = await startTestApp();
  api = t.client(await t.key('version-replay'));
  tenantId = await tenantIdOf(t.database.db, 'version-replay');
  customerId = expectStatus(await api.post('/v1/customers', { name: 'Acme', email: 'a@example.com' }), 201).id;
});
after(() => t.close());

const text = fc.option(fc.string({ minLength: 1, maxLength: 8 }), { nil: null });
const address = fc.option(fc.record({ line1: text, city: text, country: fc.option(fc.constantFrom('DE', 'FR'), { nil: null }) }, { requiredKeys: [] }), { nil: null });
const billTo = fc.option(fc.record({ name: text, email: text, phone: text, tax_id: text, address, language: text }, { requiredKeys: [] }), { nil: null });
const lineFields = fc.record(
  {
    description: text,
    unit: text,
    tax_rate: fc.option(fc.constantFrom('0', '7', '19'), { nil: null }),
    discount: fc.option(fc.record({ type: fc.constant('percent' as const), value: fc.constantFrom('5', '10') }), { nil: null }),
    tracking: fc.option(fc.dictionary(fc.constantFrom('project', 'team'), fc.string({ minLength: 1, maxLength: 5 }), { maxKeys: 2 }), { nil: null }),
  },
  { requiredKeys: [] },
);

/** One write; `line` ops are resolved against the invoice's current lines when they run. */
const writeArb = fc.oneof(
  fc.record({ memo: text }),
  fc.record({ bill_to: billTo }),
  fc.record({ customer_id: fc.constantFrom<string | null>('customer', null) }),
  fc.record({ metadata: fc.option(fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.option(fc.string({ maxLength: 5 }), { nil: null }), { maxKeys: 3 }), { nil: null }) }),
  fc.record({ payment_terms: fc.option(fc.record({ net_days: fc.integer({ min: 0, max: 60 }) }), { nil: null }) }),
  fc.record({ custom_fields: fc.dictionary(fc.constantFrom('x', 'y'), fc.option(fc.record({ type: fc.constant('string' as const), value: fc.string({ maxLength: 5 }) }), { nil: null }), { maxKeys: 2 }) }),
  fc.record({ addLine: lineFields }),
  fc.record({ updateLine: lineFields }),
  fc.record({ removeLine: fc.constant(true) }),
);
const stepArb = fc.record({ write: writeArb, crash: fc.boolean() });

function bodyOf(write: Record<string, any>, current: any): Record<string, unknown> | null {
  if (write.addLine) return { line_operations: [{ op: 'add', quantity: '2', unit_price: '3.50', ...write.addLine }] };
  if (write.updateLine) return current.lines[0] ? { line_operations: [{ op: 'update', id: current.lines[0].id, ...write.updateLine }] } : null;
  if (write.removeLine) return current.lines[0] ? { line_operations: [{ op: 'remove', id: current.lines[0].id }] } : null;
  if ('customer_id' in write) return { customer_id: write.customer_id === 'customer' ? customerId : null };
  return write;
}

const asJson = (value: unknown) => JSON.parse(JSON.stringify(value));

describe('?version=N is exactly the answer version N was written with', () => {
  test('random write sequences, some answered after a crash from history (Idempotency-Key)', async () => {
    const { db, engine } = t.database;
    const invoices = createInvoiceService({ db, engine, kernel: createWriteKernel({ db, engine, clock: systemClock }), maxLinesPerInvoice: 1000 });
    const idempotency = createIdempotencyService({ db: t.database.db, engine: t.database.engine, ttlHours: 24 });
    const auth = { tenantId, keyId: 'key_test', scopes: new Set(['invoices:write'] as const) };
    let keyCounter = 0;
    await fc.assert(
      fc.asyncProperty(fc.boolean(), billTo, fc.array(stepArb, { minLength: 1, maxLength: 6 }), async (linked, initialBillTo, steps) => {
        const created = expectStatus(
          await api.post('/v1/invoices', { currency: 'EUR', lines: [{ description: 'Base', quantity: '1', unit_price: '10' }], ...(linked ? { customer_id: customerId } : { bill_to: initialBillTo }) }),
          201,
        );
        const answers = new Map<number, unknown>([[created.version, created]]);
        const lostAnswers: { key: string; url: string; body: unknown; version: number }[] = [];
        let current = created;
        for (const step of steps) {
          const body = bodyOf(step.write, current);
          if (!body) continue;
          const url = `/v1/invoices/${created.id}`;
          if (step.crash) {
            // The change commits and marks its key; the process dies before the answer is stored.
            const key = `replay-${process.pid}-${keyCounter++}`;
            const claim = await idempotency.claim({ tenantId, key, method: 'PATCH', path: url, hash: requestHash('PATCH', url, body) });
            assert.equal(claim.kind, 'claimed');
            const result = await invoices.update({ auth, requestId: 'req_crash', idempotency: { key, claimToken: claim.kind === 'claimed' ? claim.claimToken : '' } }, created.id, body as any, 'patch');
            if (!result.written) continue;
            const answer = asJson(presentInvoice(result.invoice, systemClock.today()));
            answers.set(answer.version, answer);
            lostAnswers.push({ key, url, body, version: answer.version });
            current = answer;
          } else {
            const reply = await api.patch(url, body);
            if (reply.status !== 200) continue; // a refused write (e.g. a rule) changes nothing
            answers.set(reply.body.version, reply.body);
            current = reply.body;
          }
        }
        for (const [version, answer] of answers) {
          const read = expectStatus(await api.get(`/v1/invoices/${created.id}?version=${version}`), 200);
          assert.deepEqual(read, answer, `version ${version}`);
        }
        for (const lost of lostAnswers) {
          const retry = expectStatus(await api.patch(lost.url, lost.body, { 'idempotency-key': lost.key }), 200);
          assert.deepEqual(retry, answers.get(lost.version), `crash-recovered answer of version ${lost.version}`);
        }
      }),
      { numRuns: Number(process.env.FOLIO_PROPERTY_RUNS ?? 25) },
    );
  });
});
