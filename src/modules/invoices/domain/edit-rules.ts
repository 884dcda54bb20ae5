import { Dec } from '../../../shared/money.js';
import { editNotAllowed } from '../../../shared/errors.js';
import type { Change } from './diff.js';
import type { Invoice } from './model.js';

export type EditPolicy = 'until_paid' | 'draft_only';
export const editPolicies: readonly EditPolicy[] = ['until_paid', 'draft_only'];

/**
 * Fields that never change what is owed: editable in every state but void. Everything
 * else an update can touch is financial (lines, amounts, dates, parties, currency…).
 */
export const nonFinancialFields: ReadonlySet<string> = new Set(['internal_note', 'metadata', 'custom_fields', 'external_refs']);

/** The top-level fields a list of changes touches ("/lines/lin_x/quantity" → "lines"). */
export function changedFields(changes: Change[]): string[] {
  return [...new Set(changes.map((change) => change.path.split('/')[1] ?? ''))];
}

/**
 * The one place that decides whether an update may be applied in the invoice's state
 * under the tenant's edit policy. Throws a 422 naming the rule; returns when allowed.
 */
export function assertEditAllowed(before: Invoice, after: Invoice, changes: Change[], policy: EditPolicy): void {
  if (changes.length === 0) return;
  const fields = changedFields(changes);
  const financial = fields.filter((field) => !nonFinancialFields.has(field));
  const pointers = (list: string[]) => list.map((field) => ({ pointer: `/${field}`, detail: `cannot change while the invoice is ${before.status}` }));

  if (before.status === 'void') {
    throw editNotAllowed('void-is-final', 'A void invoice cannot be changed.', pointers(fields));
  }
  if (financial.length === 0 || before.status === 'draft') return;
  if (before.status === 'paid') {
    throw editNotAllowed('paid-invoice-financial-fields', `A paid invoice's financial fields cannot change (${financial.join(', ')}); only internal_note, metadata, custom_fields and external_refs can.`, pointers(financial));
  }
  // status open
  if (policy === 'draft_only') {
    throw editNotAllowed('draft-only-policy', `This tenant's edit policy (draft_only) allows financial edits on drafts only; revise the invoice instead (POST /v1/invoices/${before.id}/revise).`, pointers(financial));
  }
  const collected = new Dec(before.amount_paid).plus(before.amount_credited);
  if (new Dec(after.total).lt(collected)) {
    throw editNotAllowed('total-below-amount-paid', `The new total ${after.total} would be below what was already paid or credited (${collected.toFixed()}).`, [
      { pointer: '/total', detail: `must be at least ${before.amount_paid}` },
    ]);
  }
}
