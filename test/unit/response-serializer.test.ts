import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import { InvoiceSchema } from '../../src/modules/invoices/schemas.js';
import { nullableForSerialization, nullableSerializerFactory } from '../../src/http/serializer.js';

const route = { method: 'GET', url: '/v1/invoices/:id', httpStatus: '200', schema: InvoiceSchema };
const plain = SerializerSelector()(undefined, {})(route);
const rewritten = nullableSerializerFactory()(undefined, {})(route);

const line = (filled: boolean) => ({
  id: 'lin_1', guid: '6f1c1f0e-8f7c-4f5e-9a53-0e7a3c3b2f10', position: 1,
  parent_line_id: filled ? 'lin_0' : null, description: filled ? 'Work "quoted" \u2028' : null, quantity: '2', unit: filled ? 'h' : null,
  unit_price: '10.00', discount: filled ? { type: 'percent', value: '5' } : null, tax_rate: filled ? '19' : null,
  tax_code: filled ? 'S' : null, account_code: filled ? '4000' : null, item_code: filled ? 'X' : null, tracking: filled ? { dept: 'a' } : null,
  amount_before_discount: '20.00', discount_amount: '1.00', net_amount: '19.00', tax_amount: '3.61', gross_amount: '22.61',
});
const invoice = (filled: boolean) => ({
  id: 'inv_1', guid: '6f1c1f0e-8f7c-4f5e-9a53-0e7a3c3b2f11', serial: 1, object: 'invoice',
  number: filled ? 'INV-1' : null, reference: filled ? 'R' : null, purchase_order: filled ? 'PO' : null, status: 'draft', currency: 'EUR',
  exchange_rate: filled ? '1.1' : null, issue_date: filled ? '2026-01-01' : null, due_date: filled ? '2026-01-31' : null,
  payment_terms: filled ? { net_days: 30 } : null, memo: filled ? 'm' : null, internal_note: filled ? 'n' : null,
  metadata: { a: 1, b: [true, null] }, custom_fields: { c: { type: 'text', value: 'v' } }, external_refs: { crm: 'x' },
  customer_id: filled ? 'cus_1' : null, bill_to: filled ? { name: 'A', address: { city: 'B' } } : null, tax_mode: 'exclusive', rounding_mode: 'line',
  lines: [line(filled), line(!filled)], attachments: [],
  subtotal: '19.00', discount_total: '1.00', tax_total: '3.61', total: '22.61', tax_breakdown: [{ tax_rate: '19', taxable_amount: '19.00', tax_amount: '3.61' }],
  amount_paid: '0.00', amount_credited: '0.00', balance: '22.61', version: 2, created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z',
  finalized_at: filled ? '2026-01-02T00:00:00.000Z' : null, voided_at: null, ...(filled ? { revision_of: null, revised_by: 'inv_2', payment_status: 'unpaid' } : {}),
});

describe('response serializer (nullable unions without per-value Ajv calls)', () => {
  test('the invoice schema reaches fast-json-stringify without any anyOf', () => {
    assert.ok(JSON.stringify(InvoiceSchema).includes('"anyOf"'));
    assert.ok(!JSON.stringify(nullableForSerialization(InvoiceSchema)).includes('"anyOf"'));
  });

  test('serializes an invoice exactly as fast-json-stringify does with the original schema', () => {
    for (const filled of [true, false]) {
      const expected = plain(invoice(filled));
      assert.equal(rewritten(invoice(filled)), expected);
      assert.deepEqual(JSON.parse(expected).lines[0].parent_line_id, filled ? 'lin_0' : null);
    }
  });

  test('leaves unions it cannot express as nullable, and the schema it was given, unchanged', () => {
    const union = { anyOf: [{ type: 'string' }, { type: 'integer' }] };
    const withSibling = { anyOf: [{ type: 'string' }, { type: 'null' }], maxLength: 3 };
    const ofRef = { anyOf: [{ $ref: 'x' }, { type: 'null' }] };
    for (const schema of [union, withSibling, ofRef]) assert.deepEqual(nullableForSerialization(schema), schema);
    const nullable = { description: 'd', anyOf: [{ type: 'null' }, { type: 'object', properties: { a: { type: 'string' } } }] };
    assert.deepEqual(nullableForSerialization(nullable), { description: 'd', type: 'object', properties: { a: { type: 'string' } }, nullable: true });
    assert.ok(Array.isArray(nullable.anyOf));
  });
});
