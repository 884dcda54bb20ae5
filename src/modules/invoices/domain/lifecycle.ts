import { Dec, formatAmount } from '../../../shared/money.js';
import { editNotAllowed, type ProblemType } from '../../../shared/errors.js';
import type { Invoice, InvoiceStatus } from './model.js';

/**
 * The lifecycle: which action each state allows under each edit policy. This table is the
 * only place that decides a status change; the services ask it before every transition and
 * the edit rules ask it before every PATCH/PUT. Pure: no I/O, no clock.
 *
 *   draft ──finalize──▶ open ──(payments cover the total)──▶ paid
 *     │                  │  ◀──(a refund reopens the balance)──┘
 *   delete             void
 */
export type EditPolicy = 'until_paid' | 'draft_only';
export const editPolicies: readonly EditPolicy[] = ['until_paid', 'draft_only'];
export const invoiceStatuses: readonly InvoiceStatus[] = ['draft', 'open', 'paid', 'void'];

export const lifecycleActions = [
  'finalize',
  'void',
  'delete',
  'record_payment',
  'refund_payment',
  'revise',
  /** Issue a (partial) credit note against the invoice. */
  'credit',
  /** Lines, amounts, dates, parties, currency, memo… anything that changes what is owed or shown as owed. */
  'edit_financial',
  /** internal_note, metadata, custom_fields, external_refs. */
  'edit_non_financial',
  /** number and issue_date: set at finalization, fixed afterwards. */
  'edit_fixed',
] as const;
export type LifecycleAction = (typeof lifecycleActions)[number];

export interface Refusal {
  rule: ProblemType;
  detail: string;
  /** What to do instead, when there is something. */
  instead?: string;
}
export type Verdict = { allowed: true } | ({ allowed: false } & Refusal);

type Cell = 'allow' | Refusal | { until_paid: 'allow' | Refusal; draft_only: 'allow' | Refusal };

const voidIsFinal: Refusal = { rule: 'void-is-final', detail: 'A void invoice is final; nothing about it can change.', instead: 'create a new invoice' };
const allVoid = Object.fromEntries(lifecycleActions.map((action) => [action, voidIsFinal])) as Record<LifecycleAction, Cell>;
const fixedAfterFinalize: Refusal = {
  rule: 'finalized-field-fixed',
  detail: 'The number and issue date were fixed when the invoice was finalized.',
  instead: 'revise',
};
const notDraft = (rule: ProblemType, what: string): Refusal => ({ rule, detail: `Only a draft can be ${what}.` });

export const lifecycleTable: Record<InvoiceStatus, Record<LifecycleAction, Cell>> = {
  draft: {
    finalize: 'allow',
    void: { rule: 'void-requires-open', detail: 'A draft is not voided.', instead: 'delete the draft' },
    delete: 'allow',
    record_payment: { rule: 'payment-requires-open', detail: 'A draft takes no payments.', instead: 'finalize' },
    refund_payment: { rule: 'payment-requires-open', detail: 'A draft has no payments to refund.' },
    revise: { rule: 'revise-requires-finalized', detail: 'A draft is edited directly, not revised.', instead: 'PATCH the draft' },
    credit: { rule: 'credit-requires-finalized', detail: 'A draft is edited directly, not credited.', instead: 'PATCH the draft' },
    edit_financial: 'allow',
    edit_non_financial: 'allow',
    edit_fixed: 'allow',
  },
  open: {
    finalize: notDraft('finalize-requires-draft', 'finalized'),
    void: 'allow',
    delete: { ...notDraft('delete-requires-draft', 'deleted'), instead: 'void' },
    record_payment: 'allow',
    refund_payment: 'allow',
    revise: 'allow',
    credit: 'allow',
    edit_financial: {
      until_paid: 'allow',
      draft_only: {
        rule: 'draft-only-policy',
        detail: "This tenant's edit policy (draft_only) allows financial edits on drafts only.",
        instead: 'revise',
      },
    },
    edit_non_financial: 'allow',
    edit_fixed: fixedAfterFinalize,
  },
  paid: {
    finalize: notDraft('finalize-requires-draft', 'finalized'),
    void: { rule: 'void-requires-open', detail: 'A paid invoice cannot be voided.', instead: 'refund the payments first, or revise' },
    delete: { ...notDraft('delete-requires-draft', 'deleted'), instead: 'revise' },
    record_payment: { rule: 'invoice-already-paid', detail: 'The invoice is already paid in full.' },
    refund_payment: 'allow',
    revise: 'allow',
    credit: 'allow',
    edit_financial: {
      rule: 'paid-invoice-financial-fields',
      detail: "A paid invoice's financial fields cannot change; only internal_note, metadata, custom_fields and external_refs can.",
      instead: 'revise',
    },
    edit_non_financial: 'allow',
    edit_fixed: fixedAfterFinalize,
  },
  // A void invoice with payments is one superseded by its revision: its payments can still be returned.
  void: { ...allVoid, refund_payment: 'allow' },
};

/** The table's verdict for one state, action and policy. */
export function decide(status: InvoiceStatus, action: LifecycleAction, policy: EditPolicy): Verdict {
  const cell = lifecycleTable[status][action];
  const resolved = cell === 'allow' || 'rule' in cell ? cell : cell[policy];
  return resolved === 'allow' ? { allowed: true } : { allowed: false, ...resolved };
}

/**
 * The table plus the guards that depend on the invoice's figures rather than its state
 * alone (payments on a void, a pending revision). Every service call goes through here.
 */
export function verdictFor(invoice: Invoice, action: LifecycleAction, policy: EditPolicy): Verdict {
  const verdict = decide(invoice.status, action, policy);
  if (!verdict.allowed) return verdict;
  if (action === 'void' && new Dec(invoice.amount_paid).gt(0)) {
    return { allowed: false, rule: 'void-with-payments', detail: `The invoice has payments of ${invoice.amount_paid}; refund them before voiding.`, instead: 'refund the payments, or revise' };
  }
  if (action === 'delete' && invoice.revision_of !== null) {
    return { allowed: false, rule: 'revision-cannot-be-deleted', detail: `This draft replaces ${invoice.revision_of}, which is already credited; finalize it to complete the correction.`, instead: 'finalize' };
  }
  const pendingRevision = invoice.revised_by !== null && invoice.status !== 'void';
  if (pendingRevision && (action === 'edit_financial' || action === 'revise' || action === 'credit' || action === 'record_payment')) {
    return {
      allowed: false,
      rule: 'revision-pending',
      detail: `This invoice was credited and is being replaced by revision ${invoice.revised_by}; change that draft instead.`,
      instead: `edit ${invoice.revised_by}`,
    };
  }
  if (action === 'revise' && new Dec(invoice.amount_credited).gt(0)) {
    return { allowed: false, rule: 'credit-exceeds-invoice', detail: `The invoice already carries credits of ${invoice.amount_credited}; a revision credits it in full.` };
  }
  return verdict;
}

export function assertAllowed(invoice: Invoice, action: LifecycleAction, policy: EditPolicy): void {
  const verdict = verdictFor(invoice, action, policy);
  if (verdict.allowed) return;
  throw editNotAllowed(verdict.rule, `${verdict.detail} (invoice ${invoice.id} is ${invoice.status})`, undefined, {
    status_now: invoice.status,
    ...(verdict.instead ? { instead: verdict.instead } : {}),
  });
}

// ---- The status changes themselves (pure: the caller assigns number and time) ----

/** A finalized invoice is open, or paid at once when nothing is owed (a total of 0, like Stripe's $0 invoices). */
export function finalized(invoice: Invoice, input: { number: string; issueDate: string; dueDate: string | null; now: string }): Invoice {
  const status: InvoiceStatus = nothingOwed(invoice.balance) ? 'paid' : 'open';
  return { ...invoice, status, number: input.number, issue_date: input.issueDate, due_date: input.dueDate, finalized_at: input.now };
}

const nothingOwed = (balance: Dec | string) => new Dec(balance).lte(0);

export function voided(invoice: Invoice, now: string): Invoice {
  return { ...invoice, status: 'void', voided_at: now };
}

/**
 * Applies new payment and credit figures and the status they imply: an open invoice whose
 * balance reaches zero becomes paid, whether payments, credit notes or both brought it there
 * (the same rule as a total of 0 at finalization); a paid invoice whose balance reopens (a
 * refund) is open again.
 */
export function settled(invoice: Invoice, figures: { amountPaid: Dec; amountCredited: Dec }): Invoice {
  const currency = invoice.currency;
  const balance = new Dec(invoice.total).minus(figures.amountPaid).minus(figures.amountCredited);
  let status = invoice.status;
  const covered = nothingOwed(balance);
  if (status === 'open' && covered) status = 'paid';
  else if (status === 'paid' && !covered) status = 'open';
  return {
    ...invoice,
    status,
    amount_paid: formatAmount(figures.amountPaid, currency),
    amount_credited: formatAmount(figures.amountCredited, currency),
    balance: formatAmount(balance, currency),
  };
}

/** The outbox events a settlement's status change adds: invoice.paid, or invoice.reopened after a refund. */
export function settlementEvents(before: Invoice, after: Invoice): string[] {
  if (before.status !== 'paid' && after.status === 'paid') return ['invoice.paid'];
  if (before.status === 'paid' && after.status === 'open') return ['invoice.reopened'];
  return [];
}
