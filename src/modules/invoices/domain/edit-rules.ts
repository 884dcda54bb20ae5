import { Dec } from '../../../shared/money.js';
import { editNotAllowed, type ProblemType } from '../../../shared/errors.js';
import type { Change } from './diff.js';
import { fieldVerdict } from './editability.js';
import type { EditPolicy } from './lifecycle.js';
import type { Invoice } from './model.js';

export { editPolicies, type EditPolicy } from './lifecycle.js';
export { nonFinancialFields } from './editability.js';

/** The top-level fields a list of changes touches ("/lines/lin_x/quantity" → "lines"). */
export function changedFields(changes: Change[]): string[] {
  return [...new Set(changes.map((change) => change.path.split('/')[1] ?? ''))];
}

/**
 * The one place that decides whether an update may be applied in the invoice's state
 * under the tenant's edit policy. Field by field it asks the same `fieldVerdict` that
 * GET /editability shows; then the one value-dependent rule (total below what was paid).
 * Throws a 422 whose type names the rule; returns when allowed.
 */
export function assertEditAllowed(before: Invoice, after: Invoice, changes: Change[], policy: EditPolicy): void {
  if (changes.length === 0) return;
  const refused = changedFields(changes)
    .map((field) => ({ field, verdict: fieldVerdict(before, policy, field) }))
    .filter(({ verdict }) => !verdict.editable);
  if (refused.length > 0) {
    const first = refused[0].verdict;
    const sameRule = refused.filter(({ verdict }) => verdict.rule === first.rule);
    throw editNotAllowed(
      first.rule as ProblemType,
      `${first.reason} Refused: ${sameRule.map(({ field }) => field).join(', ')} (invoice is ${before.status}, policy ${policy}).`,
      refused.map(({ field, verdict }) => ({ pointer: `/${field}`, detail: `${verdict.rule}: cannot change while the invoice is ${before.status}` })),
      { status_now: before.status, ...(first.instead ? { instead: first.instead } : {}) },
    );
  }
  if (before.status === 'draft') return;
  const collected = new Dec(before.amount_paid).plus(before.amount_credited);
  if (new Dec(after.total).lt(collected)) {
    throw editNotAllowed('total-below-amount-paid', `The new total ${after.total} would be below what was already paid or credited (${collected.toFixed()}).`, [
      { pointer: '/total', detail: `must be at least ${collected.toFixed()}` },
    ]);
  }
}
