import type { Db } from '../../db/database.js';
import type { RequestContext } from '../../core/request-context.js';
import { AppError, notFound } from '../../shared/errors.js';
import { auditStore, type AuditEvent } from '../audit/store.js';
import { applyChanges, fromDocument } from '../invoices/domain/diff.js';
import type { Invoice } from '../invoices/domain/model.js';

export interface HistoryEntry {
  version: number;
  action: string;
  actor_key_id: string | null;
  request_id: string | null;
  reason: string | null;
  created_at: string;
  changes: AuditEvent['changes'];
}

const toEntry = (event: AuditEvent): HistoryEntry => ({
  version: event.version,
  action: event.action,
  actor_key_id: event.actorKeyId,
  request_id: event.requestId,
  reason: event.reason,
  created_at: event.createdAt,
  changes: event.changes,
});

/**
 * Rebuilds the invoice as it was at the last of `events` by replaying their diffs from an
 * empty document. `current` only supplies the field layout (which keys exist).
 */
export function replayInvoice(events: AuditEvent[], current: Invoice): Invoice {
  let doc = {};
  for (const event of events) doc = applyChanges(doc, event.changes);
  const first = events[0];
  const last = events[events.length - 1];
  return fromDocument(doc, { id: current.id, version: last.version, created_at: first.createdAt, updated_at: last.createdAt }, current);
}

export function createHistoryService(db: Db) {
  return {
    /** Oldest first; `afterVersion` pages on. */
    async history(ctx: RequestContext, invoice: Invoice, options: { afterVersion?: number; limit: number }) {
      const events = await auditStore.listForInvoice(db, ctx.auth.tenantId, invoice.id);
      const after = events.filter((event) => event.version > (options.afterVersion ?? 0));
      const page = after.slice(0, options.limit);
      const hasMore = after.length > options.limit;
      return {
        object: 'list' as const,
        invoice_id: invoice.id,
        data: page.map(toEntry),
        has_more: hasMore,
        next_after_version: hasMore ? page[page.length - 1].version : null,
      };
    },

    /**
     * The version of an invoice that a given request wrote, if one did (its audit event carries the
     * request id, written in the version's own transaction): how a bulk job learns, after a crash,
     * that an item's change already committed.
     */
    async versionWrittenBy(ctx: RequestContext, invoiceId: string, requestId: string): Promise<HistoryEntry | undefined> {
      const events = await auditStore.listForInvoice(db, ctx.auth.tenantId, invoiceId);
      const event = events.find((candidate) => candidate.requestId === requestId);
      return event ? toEntry(event) : undefined;
    },

    /** When `version` of an invoice was written (its audit event's time); null if the trail lacks it. */
    async versionWrittenAt(ctx: RequestContext, invoiceId: string, version: number): Promise<string | null> {
      const [entry] = await auditStore.versionTimes(db, ctx.auth.tenantId, invoiceId, version);
      return entry?.createdAt ?? null;
    },

    /** The newest version written at or before `at` (the first version if none was), for documents issued at a time. */
    async versionCurrentAt(ctx: RequestContext, invoiceId: string, at: string): Promise<number | null> {
      const times = await auditStore.versionTimes(db, ctx.auth.tenantId, invoiceId);
      const before = times.filter((entry) => entry.createdAt <= at);
      return (before.length > 0 ? before[before.length - 1] : times[0])?.version ?? null;
    },

    /** The invoice exactly as it was at `version`, replayed from the audit trail. */
    async atVersion(ctx: RequestContext, current: Invoice, version: number): Promise<Invoice> {
      if (version > current.version) throw notFound(`version ${version} of invoice`, current.id);
      const events = await auditStore.listForInvoice(db, ctx.auth.tenantId, current.id, version);
      if (events.length !== version || events[events.length - 1]?.version !== version) {
        throw new AppError('not-found', `The history of invoice "${current.id}" does not reach version ${version}.`);
      }
      return replayInvoice(events, current);
    },
  };
}

export type HistoryService = ReturnType<typeof createHistoryService>;
