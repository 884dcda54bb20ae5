import type { DbOrTx } from '../../db/database.js';
import { newId } from '../../shared/ids.js';

export interface NewEvent {
  type: string;
  resourceType: string;
  resourceId: string;
  resourceVersion: number | null;
  data: unknown;
  /** When it happened: the caller's injected clock (src/shared/time.ts), never read here. */
  createdAt: string;
}

/**
 * Runs inside the transaction that appends the event, so whatever it writes commits or rolls back
 * with the event (webhook deliveries: src/modules/webhooks/store.ts, registered in src/http/app.ts).
 */
export type EventAppendedListener = (tx: DbOrTx, tenantId: string, event: { id: string; type: string }) => Promise<void>;

// Process-wide, like the event store itself: every writer of events reaches the same listeners
// without each use case being handed them. A Set, so composing several apps registers a listener once.
const appendedListeners = new Set<EventAppendedListener>();

/**
 * Subscribes to every event appended here (at composition); the listener gets the appending
 * transaction. Invoice events are written by the write kernel's one write statement instead
 * (src/modules/invoices/write-store.ts), which queues their webhook deliveries itself
 * (webhooks/store.ts `deliveriesFor`): a new kind of fan-out must be added there too.
 */
export function onEventAppended(listener: EventAppendedListener): void {
  appendedListeners.add(listener);
}

/**
 * The transactional outbox: events are written in the same transaction as the change
 * they describe, so an event exists if and only if its change committed.
 */
export const eventStore = {
  async append(db: DbOrTx, tenantId: string, event: NewEvent): Promise<string> {
    const id = newId('evt');
    // No lock: on PostgreSQL the row's xact_id (a column DEFAULT) lets the feed return events
    // in commit-safe order without serialising a tenant's writers (src/modules/events/feed.ts).
    await db
      .insertInto('events')
      .values({
        tenant_id: tenantId,
        id,
        type: event.type,
        resource_type: event.resourceType,
        resource_id: event.resourceId,
        resource_version: event.resourceVersion,
        data: JSON.stringify(event.data),
        created_at: event.createdAt,
      })
      .execute();
    // Fan-out (e.g. to the tenant's webhook endpoints) in the same transaction: a committed event
    // always has its deliveries queued (state in the database, so restarts lose nothing).
    for (const listener of appendedListeners) await listener(db, tenantId, { id, type: event.type });
    return id;
  },
};
