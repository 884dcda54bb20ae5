import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyInvoiceWrite, type WriteContext } from '../../src/modules/invoices/domain/apply-write.js';
import { diffDocuments, diffInvoices, toDocument } from '../../src/modules/invoices/domain/diff.js';
import type { Invoice } from '../../src/modules/invoices/domain/model.js';
import type { InvoiceWrite, LineOperation } from '../../src/modules/invoices/schemas.js';
import { AppError } from '../../src/shared/errors.js';
import { blankPlainTextHeader } from '../../src/shared/invoice-fields.js';

// An update recomputes only the lines it touches and adjusts the stored figures (apply-write's
// incremental path). These properties check it gives exactly what a full recompute gives, and
// that the diff that skips shared line objects equals the diff of the whole documents.

function blank(currency: string, taxMode: 'exclusive' | 'inclusive', rounding: string): Invoice {
  return {
    id: 'inv_test', guid: '00000000-0000-4000-8000-000000000000', serial: 1, object: 'invoice', number: null, ...blankPlainTextHeader(), status: 'draft', currency,
    exchange_rate: null, issue_date: null, due_date: null, payment_terms: null, memo: null, internal_note: null,
    metadata: {}, custom_fields: {}, external_refs: {}, customer_id: null, bill_to: null, tax_mode: taxMode,
    rounding_mode: rounding as Invoice['rounding_mode'], lines: [], attachments: [], subtotal: '0', discount_total: '0',
    tax_total: '0', total: '0', tax_breakdown: [], amount_paid: '0', amount_credited: '0', balance: '0', version: 0,
    created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z', finalized_at: null, voided_at: null,
    revision_of: null, revised_by: null,
  } as Invoice;
}

const quantity = fc.integer({ min: 0, max: 100000 }).map((n) => (n / 100).toString());
const price = fc.integer({ min: -50000, max: 500000 }).map((n) => (n / 1000).toString());
const rate = fc.constantFrom<string | null>(null, '0', '5.5', '7.7', '20', '25', '20.0');
const discount = fc.option(
  fc.oneof(
    fc.integer({ min: 0, max: 100 }).map((n) => ({ type: 'percent' as const, value: String(n) })),
    fc.integer({ min: 0, max: 500 }).map((n) => ({ type: 'amount' as const, value: (n / 10).toString() })),
  ),
  { nil: null },
);
const lineFields = fc.record({ quantity, unit_price: price, tax_rate: rate, discount });

type OpSpec =
  | { kind: 'add'; fields: { quantity: string; unit_price: string; tax_rate: string | null }; position?: number }
  | { kind: 'update'; at: number; fields: Partial<{ quantity: string; unit_price: string; tax_rate: string | null; discount: unknown }>; position?: number }
  | { kind: 'remove'; at: number };

const opSpec: fc.Arbitrary<OpSpec> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), fields: fc.record({ quantity, unit_price: price, tax_rate: rate }), position: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }) }),
  fc.record({
    kind: fc.constant('update' as const),
    at: fc.nat(),
    fields: fc.record({ quantity, unit_price: price, tax_rate: rate, discount }, { requiredKeys: [] }),
    position: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
  }),
  fc.record({ kind: fc.constant('remove' as const), at: fc.nat() }),
);

function toOperations(invoice: Invoice, specs: OpSpec[]): LineOperation[] {
  const ids = invoice.lines.map((line) => line.id);
  const used = new Set<string>();
  const operations: LineOperation[] = [];
  for (const spec of specs) {
    if (spec.kind === 'add') {
      operations.push({ op: 'add', ...spec.fields, ...(spec.position === undefined ? {} : { position: spec.position }) } as LineOperation);
      continue;
    }
    const free = ids.filter((id) => !used.has(id));
    if (free.length === 0) continue;
    const id = free[spec.at % free.length];
    used.add(id);
    if (spec.kind === 'remove') operations.push({ op: 'remove', id });
    else operations.push({ op: 'update', id, ...spec.fields, ...(spec.position === undefined ? {} : { position: spec.position }) } as LineOperation);
  }
  return operations;
}

/** Both paths, or the same error from both. */
function both(current: Invoice, input: InvoiceWrite): { incremental: Invoice; full: Invoice } | { error: string } {
  const context = (fullRecompute: boolean): WriteContext => {
    let n = 0;
    let g = 0;
    const newLineGuid = () => `00000000-0000-4000-8000-${String(g++).padStart(12, '0')}`;
    return { mode: 'patch', maxLines: 1000, newLineId: () => `lin_new${current.version}_${n++}`, newLineGuid, fullRecompute };
  };
  let incremental: Invoice | undefined;
  let incrementalError: string | undefined;
  try {
    incremental = applyInvoiceWrite(current, input, context(false));
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    incrementalError = `${error.problemType} ${error.message}`;
  }
  try {
    const full = applyInvoiceWrite(current, input, context(true));
    assert.equal(incrementalError, undefined, 'only the incremental path failed');
    return { incremental: incremental as Invoice, full };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    assert.equal(incrementalError, `${error.problemType} ${error.message}`, 'only the full path failed');
    return { error: incrementalError };
  }
}

test('incremental totals equal a full recompute over random edits, and the diff equals the whole-document diff', () => {
  fc.assert(
    fc.property(
      fc.constantFrom('USD', 'JPY', 'KWD', 'EUR'),
      fc.constantFrom<'exclusive' | 'inclusive'>('exclusive', 'inclusive'),
      fc.constantFrom('half_up', 'half_even', 'down'),
      fc.array(lineFields, { minLength: 0, maxLength: 10 }),
      fc.array(
        fc.record({
          operations: fc.array(opSpec, { minLength: 0, maxLength: 4 }),
          memo: fc.option(fc.string({ maxLength: 5 }), { nil: undefined }),
          header: fc.constantFrom<Partial<InvoiceWrite>>({}, {}, {}, { tax_mode: 'inclusive' }, { rounding_mode: 'half_even' }, { currency: 'JPY' }),
        }),
        { minLength: 1, maxLength: 5 },
      ),
      (currency, taxMode, rounding, lines, edits) => {
        let current: Invoice;
        try {
          current = applyInvoiceWrite(blank(currency, taxMode, rounding), { lines } as InvoiceWrite, { mode: 'create', maxLines: 1000, newLineId: (() => { let n = 0; return () => `lin_c${n++}`; })() });
        } catch (error) {
          if (error instanceof AppError) return; // e.g. a negative total
          throw error;
        }
        current.version = 1;
        for (const edit of edits) {
          const input = { ...edit.header, line_operations: toOperations(current, edit.operations), ...(edit.memo === undefined ? {} : { memo: edit.memo }) } as InvoiceWrite;
          const result = both(current, input);
          if ('error' in result) continue;
          assert.deepStrictEqual(result.incremental, result.full);
          assert.deepStrictEqual(diffInvoices(current, result.incremental), diffDocuments(toDocument(current), toDocument(result.incremental)));
          current = { ...result.incremental, version: current.version + 1 };
        }
      },
    ),
    { numRuns: 500 },
  );
});

test('a write keeps the lines it does not touch as the same objects', () => {
  let n = 0;
  const context: WriteContext = { mode: 'patch', maxLines: 1000, newLineId: () => `lin_${n++}` };
  const created = applyInvoiceWrite(blank('EUR', 'exclusive', 'half_up'), {
    lines: [{ quantity: '1', unit_price: '10' }, { quantity: '2', unit_price: '5', tax_rate: '20' }, { quantity: '3', unit_price: '1.5' }],
  } as InvoiceWrite, { ...context, mode: 'create' });
  created.version = 1;
  const after = applyInvoiceWrite(created, { line_operations: [{ op: 'update', id: created.lines[1].id, quantity: '4' }] } as InvoiceWrite, context);
  assert.equal(after.lines[0], created.lines[0]);
  assert.equal(after.lines[2], created.lines[2]);
  assert.notEqual(after.lines[1], created.lines[1]);
  assert.equal(after.lines[1].net_amount, '20.00');
  assert.equal(after.total, '38.50');
  const id = created.lines[1].id;
  assert.deepStrictEqual(diffInvoices(created, after).map((change) => change.path).sort(), [
    `/lines/${id}/quantity`, `/lines/${id}/amount_before_discount`, `/lines/${id}/net_amount`, `/lines/${id}/tax_amount`,
    `/lines/${id}/gross_amount`, '/subtotal', '/tax_total', '/total', '/tax_breakdown', '/balance',
  ].sort());
});
