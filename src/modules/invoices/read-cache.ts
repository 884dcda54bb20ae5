import type { Db, Engine } from '../../db/database.js';
import { invoiceStore } from './store.js';

/**
 * GET /v1/invoices/{id}'s default answer (JSON, the whole invoice at its current version) kept as
 * the bytes it was rendered to, per process, bounded by `maxBytes` (FOLIO_INVOICE_READ_CACHE_BYTES),
 * least recently used out first.
 *
 * Never stale, with any number of processes: an entry is served only after a one-column read of the
 * invoice's version from the database (`invoiceStore.currentVersion`) finds it unchanged. That is
 * sound because everything in the answer changes with the version: every change to an invoice, its
 * lines and its attachments goes through the write kernel, which bumps it (versioning.ts); bill_to
 * is a snapshot stored on the invoice; the one exception, payment_status ("overdue" depends on
 * today's date), is covered by keying each entry by the business date it was rendered for.
 * The ETag is the same version, so a conditional GET relies on the same rule already.
 *
 * An entry holds bytes read from a committed row, never what a write produced, so it is byte for
 * byte what the uncached path answers for that version.
 */
export interface RenderedInvoice {
  version: number;
  /** The business date payment_status was derived for. */
  today: string;
  body: Buffer;
}

export type CachedRead = { found: true; entry: RenderedInvoice } | { found: false };

export interface InvoiceReadCache {
  /**
   * The entry when the database still holds its version (one small read); `{ found: false }` when
   * the invoice no longer exists; undefined when there is nothing usable here (read it whole), in
   * which case no statement ran unless an outdated entry had to be checked.
   */
  lookup(tenantId: string, id: string, today: string): Promise<CachedRead | undefined>;
  remember(tenantId: string, id: string, entry: RenderedInvoice): void;
  stats(): { entries: number; bytes: number; maxBytes: number };
}

/** Keys, the Map's own bookkeeping and the entry object, roughly, on top of the body. */
const overheadBytes = 200;

export function createInvoiceReadCache(options: { db: Db; engine: Engine; maxBytes: number }): InvoiceReadCache | undefined {
  const { db, engine, maxBytes } = options;
  if (maxBytes <= 0) return undefined;
  // One very large invoice must not push out everything else.
  const largestEntry = Math.floor(maxBytes / 8);
  // Insertion order is recency order: a hit moves its entry to the end.
  const entries = new Map<string, RenderedInvoice>();
  let bytes = 0;
  const keyOf = (tenantId: string, id: string) => `${tenantId}\u0000${id}`;
  const sizeOf = (key: string, entry: RenderedInvoice) => entry.body.length + key.length * 2 + overheadBytes;

  function forget(key: string) {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    bytes -= sizeOf(key, entry);
  }

  return {
    async lookup(tenantId, id, today) {
      const key = keyOf(tenantId, id);
      const entry = entries.get(key);
      if (!entry || entry.today !== today) return undefined;
      const version = await invoiceStore.currentVersion(db, engine, tenantId, id);
      if (version === undefined) {
        forget(key);
        return { found: false };
      }
      // The entry may have been replaced while the probe ran: compare with the one probed for.
      if (version !== entry.version) {
        if (entries.get(key) === entry) forget(key);
        return undefined;
      }
      if (entries.get(key) === entry) {
        entries.delete(key);
        entries.set(key, entry);
      }
      return { found: true, entry };
    },

    remember(tenantId, id, entry) {
      const key = keyOf(tenantId, id);
      const size = sizeOf(key, entry);
      if (size > largestEntry) return;
      const existing = entries.get(key);
      // Two reads racing a write: keep the newer version.
      if (existing && existing.version > entry.version && existing.today === entry.today) return;
      forget(key);
      entries.set(key, entry);
      bytes += size;
      for (const [oldest] of entries) {
        if (bytes <= maxBytes) break;
        forget(oldest);
      }
    },

    stats: () => ({ entries: entries.size, bytes, maxBytes }),
  };
}
