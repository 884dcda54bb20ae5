import { verdictFor, type EditPolicy, type LifecycleAction, lifecycleActions } from './lifecycle.js';
import { writableHeaderFields, type Invoice } from './model.js';

/**
 * Which fields an update may touch for this invoice under this policy, and why not. PATCH and
 * PUT (edit-rules.ts) and GET /editability both answer from `fieldVerdict`, so they cannot disagree.
 */
export const nonFinancialFields: ReadonlySet<string> = new Set(['internal_note', 'metadata', 'custom_fields', 'external_refs', 'attachments']);
/** Set at finalization (if not before) and fixed from then on. */
export const fixedAfterFinalizeFields: ReadonlySet<string> = new Set(['number', 'issue_date']);

/** Every field a client can write, header fields and the lines. */
export const editableFields: readonly string[] = [...writableHeaderFields, 'lines'];

/** The lifecycle action an edit of this field is; computed fields (total, balance…) count as financial. */
export function editActionFor(field: string): LifecycleAction {
  if (nonFinancialFields.has(field)) return 'edit_non_financial';
  if (fixedAfterFinalizeFields.has(field)) return 'edit_fixed';
  return 'edit_financial';
}

export interface FieldEditability {
  editable: boolean;
  rule?: string;
  reason?: string;
  instead?: string;
  /** A condition that still applies to an allowed edit. */
  condition?: string;
}

export function fieldVerdict(invoice: Invoice, policy: EditPolicy, field: string): FieldEditability {
  const verdict = verdictFor(invoice, editActionFor(field), policy);
  if (!verdict.allowed) return { editable: false, rule: verdict.rule, reason: verdict.detail, ...(verdict.instead ? { instead: verdict.instead } : {}) };
  const financial = editActionFor(field) === 'edit_financial';
  if (financial && invoice.status !== 'draft') {
    return { editable: true, condition: `the new total must stay at or above amount_paid + amount_credited (${invoice.amount_paid} + ${invoice.amount_credited}); rule total-below-amount-paid` };
  }
  return { editable: true };
}

export interface Editability {
  invoice_id: string;
  status: Invoice['status'];
  version: number;
  edit_policy: EditPolicy;
  fields: Record<string, FieldEditability>;
  actions: Record<string, { allowed: boolean; rule?: string; reason?: string; instead?: string }>;
}

export function editabilityOf(invoice: Invoice, policy: EditPolicy): Editability {
  const fields: Record<string, FieldEditability> = {};
  for (const field of editableFields) fields[field] = fieldVerdict(invoice, policy, field);
  const actions: Editability['actions'] = {};
  for (const action of lifecycleActions) {
    if (action.startsWith('edit_')) continue;
    const verdict = verdictFor(invoice, action, policy);
    actions[action] = verdict.allowed ? { allowed: true } : { allowed: false, rule: verdict.rule, reason: verdict.detail, ...(verdict.instead ? { instead: verdict.instead } : {}) };
  }
  return { invoice_id: invoice.id, status: invoice.status, version: invoice.version, edit_policy: policy, fields, actions };
}
