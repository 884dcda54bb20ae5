import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { problemTypes } from '../../src/shared/errors.js';
import { Dec } from '../../src/shared/money.js';
import { decide, editPolicies, invoiceStatuses, lifecycleActions, settled } from '../../src/modules/invoices/domain/lifecycle.js';
import { editActionFor, editableFields } from '../../src/modules/invoices/domain/editability.js';
import type { Invoice } from '../../src/modules/invoices/domain/model.js';

describe('lifecycle table', () => {
  test('every refusal in the table is a 422 problem type of the closed set, with a detail', () => {
    for (const status of invoiceStatuses) {
      for (const action of lifecycleActions) {
        for (const policy of editPolicies) {
          const verdict = decide(status, action, policy);
          if (verdict.allowed) continue;
          assert.ok(verdict.rule in problemTypes, `${status}/${action}/${policy}: unknown rule ${verdict.rule}`);
          assert.equal(problemTypes[verdict.rule].status, 422);
          assert.ok(verdict.detail.length > 10);
        }
      }
    }
  });

  test('the policy only matters for financial edits of open invoices', () => {
    for (const status of invoiceStatuses) {
      for (const action of lifecycleActions) {
        const [a, b] = editPolicies.map((policy) => decide(status, action, policy));
        const differs = JSON.stringify(a) !== JSON.stringify(b);
        assert.equal(differs, status === 'open' && action === 'edit_financial', `${status}/${action}`);
      }
    }
  });

  test('fields fall into the categories the brief names', () => {
    assert.deepEqual(editableFields.filter((field) => editActionFor(field) === 'edit_non_financial').sort(), ['custom_fields', 'external_refs', 'internal_note', 'metadata']);
    assert.deepEqual(editableFields.filter((field) => editActionFor(field) === 'edit_fixed').sort(), ['issue_date', 'number']);
    assert.equal(editActionFor('lines'), 'edit_financial');
    assert.equal(editActionFor('total'), 'edit_financial', 'computed figures count as financial');
  });
});

describe('settled', () => {
  const base = { currency: 'EUR', total: '100.00', amount_paid: '0.00', amount_credited: '0.00', balance: '100.00' } as Invoice;
  test('open ↔ paid follows the balance; drafts and void invoices keep their status', () => {
    fc.assert(
      fc.property(fc.constantFrom('open', 'paid', 'draft', 'void'), fc.integer({ min: 0, max: 10000 }), fc.integer({ min: 0, max: 10000 }), (status, paidCents, creditedCents) => {
        const result = settled({ ...base, status } as Invoice, { amountPaid: new Dec(paidCents).div(100), amountCredited: new Dec(creditedCents).div(100) });
        const balanceCents = 10000 - paidCents - creditedCents;
        assert.equal(result.balance, (balanceCents / 100).toFixed(2));
        const covered = balanceCents <= 0 && paidCents > 0;
        if (status === 'open' || status === 'paid') assert.equal(result.status, covered ? 'paid' : 'open');
        else assert.equal(result.status, status);
      }),
    );
  });
});
