import type { Db, DbOrTx, Engine } from '../../db/database.js';
import type { WebhookDeliveriesTable, WebhookEndpointsTable } from '../../db/schema.js';
import { newId } from '../../shared/ids.js';
import { nowIso } from '../../shared/time.js';
import { matchesEventType } from './domain.js';

/** SQL only for webhook endpoints, deliveries and the attempt log. */

/** The deliveries an event queues: one per endpoint (enabled ones only, given as [id, event_types JSON]) whose filter matches. */
export function deliveriesFor(endpoints: readonly (readonly [string, string])[], event: { id: string; type: string }): { id: string; endpointId: string; eventId: string }[] {
  return endpoints
    .filter(([, eventTypes]) => matchesEventType(JSON.parse(eventTypes) as string[], event.type))
    .map(([endpointId]) => ({ id: newId('whd'), endpointId, eventId: event.id }));
}

/** Queues one delivery per enabled endpoint whose filter matches; runs in the event's transaction. */
export async function enqueueWebhookDeliveries(db: DbOrTx, tenantId: string, event: { id: string; type: string }): Promise<void> {
  const endpoints = await db
    .selectFrom('webhook_endpoints')
    .select(['id', 'event_types'])
    .where('tenant_id', '=', tenantId)
    .where('enabled', '=', 1)
    .execute();
  const now = nowIso();
  const rows: WebhookDeliveriesTable[] = deliveriesFor(
    endpoints.map((endpoint) => [endpoint.id, endpoint.event_types] as const),
    event,
  ).map((delivery) => ({
    tenant_id: tenantId,
    id: delivery.id,
    endpoint_id: delivery.endpointId,
    event_id: delivery.eventId,
    status: 'pending',
    attempts: 0,
    next_attempt_at: now,
    last_status_code: null,
    last_error: null,
    created_at: now,
    delivered_at: null,
  }));
  if (rows.length > 0) await db.insertInto('webhook_deliveries').values(rows).execute();
}

export interface ClaimedDelivery {
  tenant_id: string;
  id: string;
  endpoint_id: string;
  event_id: string;
  attempts: number;
}

export const webhookStore = {
  /** Deliveries waiting to be sent, all tenants (the dispatcher's queue depth; uses webhook_deliveries_due). */
  async countPending(db: DbOrTx): Promise<number> {
    const row = await db.selectFrom('webhook_deliveries').select((eb) => eb.fn.countAll<number | string>().as('count')).where('status', '=', 'pending').executeTakeFirst();
    return Number(row?.count ?? 0);
  },

  async insertEndpoint(db: DbOrTx, row: WebhookEndpointsTable): Promise<void> {
    await db.insertInto('webhook_endpoints').values(row).execute();
  },

  findEndpoint: (db: DbOrTx, tenantId: string, id: string) =>
    db.selectFrom('webhook_endpoints').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst(),

  listEndpoints: (db: DbOrTx, tenantId: string, limit: number) =>
    db.selectFrom('webhook_endpoints').selectAll().where('tenant_id', '=', tenantId).orderBy('id').limit(limit).execute(),

  async updateEndpoint(db: DbOrTx, tenantId: string, id: string, fields: Partial<Pick<WebhookEndpointsTable, 'url' | 'description' | 'event_types' | 'enabled' | 'updated_at'>>) {
    await db.updateTable('webhook_endpoints').set(fields).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },

  /** Removes the endpoint with its queue and log. */
  async deleteEndpoint(db: DbOrTx, tenantId: string, id: string): Promise<void> {
    const deliveries = db.selectFrom('webhook_deliveries').select('id').where('tenant_id', '=', tenantId).where('endpoint_id', '=', id);
    await db.deleteFrom('webhook_attempts').where('tenant_id', '=', tenantId).where('delivery_id', 'in', deliveries).execute();
    await db.deleteFrom('webhook_deliveries').where('tenant_id', '=', tenantId).where('endpoint_id', '=', id).execute();
    await db.deleteFrom('webhook_endpoints').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },

  /**
   * Takes up to `limit` due deliveries and leases them until `leaseUntil` (by moving their
   * next attempt there), in one short transaction. PostgreSQL: FOR UPDATE SKIP LOCKED lets
   * several dispatcher processes share the queue; SQLite: BEGIN IMMEDIATE already serialises.
   * A dispatcher that dies mid-attempt leaves the lease to expire, and the delivery is retried.
   */
  async claimDue(db: Db, engine: Engine, now: string, leaseUntil: string, limit: number): Promise<ClaimedDelivery[]> {
    return db.transaction().execute(async (tx) => {
      let query = tx
        .selectFrom('webhook_deliveries')
        .select(['tenant_id', 'id', 'endpoint_id', 'event_id', 'attempts'])
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .orderBy('next_attempt_at')
        .limit(limit);
      if (engine === 'postgres') query = query.forUpdate().skipLocked();
      const due = await query.execute();
      for (const delivery of due) {
        await tx
          .updateTable('webhook_deliveries')
          .set({ next_attempt_at: leaseUntil, attempts: delivery.attempts + 1 })
          .where('tenant_id', '=', delivery.tenant_id)
          .where('id', '=', delivery.id)
          .execute();
      }
      return due.map((delivery) => ({ ...delivery, attempts: delivery.attempts + 1 }));
    });
  },

  findEvent: (db: Db, tenantId: string, eventId: string) =>
    db.selectFrom('events').selectAll().where('tenant_id', '=', tenantId).where('id', '=', eventId).executeTakeFirst(),

  /** The attempt goes to the log and the delivery's state changes together. */
  async recordAttempt(
    db: Db,
    delivery: ClaimedDelivery,
    attempt: { statusCode: number | null; error: string | null; durationMs: number; at: string },
    next: { status: 'delivered' | 'pending' | 'failed'; nextAttemptAt: string },
  ): Promise<void> {
    await db.transaction().execute(async (tx) => {
      await tx
        .insertInto('webhook_attempts')
        .values({
          tenant_id: delivery.tenant_id,
          delivery_id: delivery.id,
          attempt: delivery.attempts,
          status_code: attempt.statusCode,
          error: attempt.error,
          duration_ms: attempt.durationMs,
          created_at: attempt.at,
        })
        .onConflict((conflict) => conflict.columns(['tenant_id', 'delivery_id', 'attempt']).doNothing())
        .execute();
      await tx
        .updateTable('webhook_deliveries')
        .set({
          status: next.status,
          next_attempt_at: next.nextAttemptAt,
          last_status_code: attempt.statusCode,
          last_error: attempt.error,
          delivered_at: next.status === 'delivered' ? attempt.at : null,
        })
        .where('tenant_id', '=', delivery.tenant_id)
        .where('id', '=', delivery.id)
        .where('status', '=', 'pending')
        .execute();
    });
  },

  listDeliveries: (db: DbOrTx, tenantId: string, endpointId: string, options: { beforeId?: string; status?: string; limit: number }) => {
    let query = db
      .selectFrom('webhook_deliveries')
      .innerJoin('events', (join) => join.onRef('events.tenant_id', '=', 'webhook_deliveries.tenant_id').onRef('events.id', '=', 'webhook_deliveries.event_id'))
      .selectAll('webhook_deliveries')
      .select('events.type as event_type')
      .where('webhook_deliveries.tenant_id', '=', tenantId)
      .where('webhook_deliveries.endpoint_id', '=', endpointId);
    if (options.beforeId) query = query.where('webhook_deliveries.id', '<', options.beforeId);
    if (options.status) query = query.where('webhook_deliveries.status', '=', options.status);
    return query.orderBy('webhook_deliveries.id', 'desc').limit(options.limit).execute();
  },

  listAttempts: (db: DbOrTx, tenantId: string, deliveryIds: string[]) =>
    deliveryIds.length === 0
      ? Promise.resolve([])
      : db.selectFrom('webhook_attempts').selectAll().where('tenant_id', '=', tenantId).where('delivery_id', 'in', deliveryIds).orderBy('attempt').execute(),
};
