import type { DbOrTx } from '../../db/database.js';
import type { RequestContext } from '../../core/request-context.js';
import { newId } from '../../shared/ids.js';

/**
 * The audit trail of a tenant's administration, written in the same transaction as the change:
 * settings, API keys and webhook endpoints, with the actor (a person's user id in the web app, an
 * API key id through the API) exactly as invoice changes record theirs.
 */
export type AdminAction =
  | 'settings.update'
  | 'api_key.create'
  | 'api_key.revoke'
  | 'webhook_endpoint.create'
  | 'webhook_endpoint.update'
  | 'webhook_endpoint.remove';

export interface AdminChange {
  path: string;
  from: unknown;
  to: unknown;
}

export interface AdminEvent {
  id: string;
  action: AdminAction;
  subject_id: string | null;
  actor_key_id: string | null;
  request_id: string | null;
  changes: AdminChange[];
  created_at: string;
}

/** The fields of `after` that differ from `before`, as changes (only the keys `after` names). */
export function changesOf(before: object, after: object): AdminChange[] {
  const previous = new Map<string, unknown>(Object.entries(before));
  return Object.entries(after)
    .filter(([key, value]) => value !== undefined && JSON.stringify(value) !== JSON.stringify(previous.get(key) ?? null))
    .map(([key, value]) => ({ path: `/${key}`, from: previous.get(key) ?? null, to: value }));
}

export async function recordAdminEvent(db: DbOrTx, ctx: RequestContext, event: { action: AdminAction; subjectId?: string | null; changes: AdminChange[]; at: string }): Promise<void> {
  await db
    .insertInto('admin_events')
    .values({
      tenant_id: ctx.auth.tenantId,
      id: newId('adm'),
      action: event.action,
      subject_id: event.subjectId ?? null,
      actor_key_id: ctx.auth.keyId,
      request_id: ctx.requestId,
      changes: JSON.stringify(event.changes),
      created_at: event.at,
    })
    .execute();
}

/** Newest first. */
export async function listAdminEvents(db: DbOrTx, tenantId: string, limit = 50): Promise<AdminEvent[]> {
  const rows = await db.selectFrom('admin_events').selectAll().where('tenant_id', '=', tenantId).orderBy('seq', 'desc').limit(limit).execute();
  return rows.map((row) => ({
    id: row.id,
    action: row.action as AdminAction,
    subject_id: row.subject_id,
    actor_key_id: row.actor_key_id,
    request_id: row.request_id,
    changes: JSON.parse(row.changes) as AdminChange[],
    created_at: row.created_at,
  }));
}
