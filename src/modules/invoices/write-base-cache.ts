import type { Invoice } from './domain/model.js';
import type { TenantWriteFacts } from './write-store.js';

/**
 * What a PATCH needs before it can write, kept per process: the invoice as of a committed version,
 * and the tenant's write facts (edit policy, webhook endpoints) read with it. With an entry, the
 * write kernel skips locking and reading the invoice (versioning.ts, `optimistic`; on PostgreSQL
 * the write then goes as one statement on its own) and the write is guarded instead: the invoice
 * row is updated only `WHERE version = <the entry's>` and only while the tenant's facts are still
 * the ones the rules used (on PostgreSQL in the statement, which raises; on SQLite checked first in
 * the IMMEDIATE transaction); otherwise nothing is written and the kernel runs the locked path. So an entry can be out of date (another process wrote since) but never
 * wrong: (invoice, version) names one committed state, since every change to an invoice, its lines
 * and attachments goes through the kernel, which bumps the version (the rule GET's cache,
 * read-cache.ts, relies on too).
 *
 * Entries are deep-frozen (the domain builds new objects for a new version and shares the ones it
 * does not change; a mutation would throw rather than corrupt the next write's base). Bounded by
 * lines (`maxLines` in all), least recently used out first; an invoice of more than a tenth of the
 * bound is not kept.
 */
export interface WriteBase {
  invoice: Invoice;
  facts: TenantWriteFacts;
}

export class WriteBaseCache {
  /** Insertion order is recency order: a hit moves its entry to the end. */
  readonly #entries = new Map<string, WriteBase>();
  #lines = 0;

  constructor(readonly maxLines: number) {}

  static #key(tenantId: string, invoiceId: string): string {
    return `${tenantId}\u0000${invoiceId}`;
  }

  get(tenantId: string, invoiceId: string): WriteBase | undefined {
    const key = WriteBaseCache.#key(tenantId, invoiceId);
    const entry = this.#entries.get(key);
    if (entry) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    return entry;
  }

  /** Keeps `invoice` (a committed version) with the facts its write or read saw; an older version never replaces a newer one. */
  set(tenantId: string, invoice: Invoice, facts: TenantWriteFacts): void {
    const key = WriteBaseCache.#key(tenantId, invoice.id);
    const current = this.#entries.get(key);
    if (current && current.invoice.version > invoice.version) return;
    this.delete(tenantId, invoice.id);
    const size = invoice.lines.length + 1;
    if (size > this.maxLines / 10) return;
    this.#entries.set(key, { invoice: deepFreeze(invoice), facts: deepFreeze(facts) });
    this.#lines += size;
    while (this.#lines > this.maxLines) {
      const [oldest, entry] = this.#entries.entries().next().value as [string, WriteBase];
      this.#entries.delete(oldest);
      this.#lines -= entry.invoice.lines.length + 1;
    }
  }

  delete(tenantId: string, invoiceId: string): void {
    const key = WriteBaseCache.#key(tenantId, invoiceId);
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#lines -= entry.invoice.lines.length + 1;
  }

  stats(): { entries: number; lines: number; maxLines: number } {
    return { entries: this.#entries.size, lines: this.#lines, maxLines: this.maxLines };
  }
}

/** Freezes `value` and everything it holds (plain data). */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const member of Object.values(value)) deepFreeze(member);
  return value;
}
