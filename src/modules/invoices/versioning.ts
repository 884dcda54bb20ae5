import { keyFromPathId } from './domain/lookup.js';
/**
 * The write kernel: THE one door for every change to an invoice.
 *
 * Native routes (create, PATCH/PUT), lifecycle actions (finalize, void, delete, revise), payments,
 * refunds, credit notes and attachments all go through it, and so must seed dialects
 * (src/dialects/), the web app (src/web/) and bulk jobs: they call a service's use case, and the
 * use case calls this kernel. Nothing else writes an invoice row, an audit event or an invoice's
 * outbox event.
 *
 * What a change made through the kernel is guaranteed:
 * - **One transaction** (`inTransaction`, on one connection: src/db/transaction.ts): the change, its audit event, its outbox event(s) (which
 *   queue webhook deliveries) and the Idempotency-Key's commit mark commit together or not at all.
 *   A work function that throws leaves nothing behind. A dry run runs every step, including the
 *   writes, then rolls back; unique-index races come out as a 409 `conflict`, never a 500.
 * - **A locked, current invoice** (`withLockedInvoice`): the row is locked for the rest of the
 *   transaction (`FOR UPDATE` on PostgreSQL; SQLite transactions begin IMMEDIATE, one writer),
 *   and a stale `If-Match` is a 412 before the work runs, so nothing is written. Or, for PATCH and
 *   PUT, a copy of the invoice this process holds, written only if it is still the current version
 *   (checked by the guarded write itself, which on PostgreSQL also takes the lock); else the locked path decides.
 * - **Version + 1** (`recordChange`): the next version number, `updated_at` from the injected clock,
 *   the diff against the version before; the row update is guarded by `WHERE version = old`.
 * - **Audit + outbox + idempotency** (`recordVersion`): one audit event (actor key, request id,
 *   reason, diff), one outbox event per type, and the request's Idempotency-Key marked with
 *   `invoice/<id>/<version>`, so a retry after a lost response is answered, never redone.
 *
 * Lock order (so concurrent writers queue instead of deadlocking): inside one transaction, lock
 * every invoice row first (the invoice being changed, then any other invoice the change touches,
 * e.g. the original a revision supersedes: revision before original), then per-tenant number
 * counters (src/modules/tenants/sequences.ts). Writing the outbox event takes no lock (the feed
 * orders events by their transaction id, src/modules/events/feed.ts), so a tenant's writers
 * commit in parallel.
 *
 * The statements (./write-store.ts, prepared once; named prepared statements on PostgreSQL):
 * a PATCH is BEGIN; lock the invoice row and then read its lines, attachments, the tenant's edit
 * policy and webhook endpoints (on PostgreSQL one round trip: the function of migration 0015); one
 * write statement (invoice row with only the changed columns, and only the parts this version has:
 * lines, attachments, audit event, outbox events, webhook deliveries, Idempotency-Key row); COMMIT.
 * The read is a separate statement that starts after the lock is granted: a statement that waits
 * for a row lock keeps its older snapshot for every other table it reads, so lines and attachments
 * read with the lock could be the ones the previous writer replaced (docs/architecture.md).
 */
import type { Db, Engine, Tx } from '../../db/database.js';
import { transaction } from '../../db/transaction.js';
import { assertIfMatch, type RequestContext, type WriteOptions } from '../../core/request-context.js';
import { AppError, notFound } from '../../shared/errors.js';
import type { Clock } from '../../shared/time.js';
import { newId } from '../../shared/ids.js';
import { nowIso } from '../../shared/time.js';
import { idempotencyKeyTaken, idempotencyLeaseLost } from '../idempotency/service.js';
import { tenantStore } from '../tenants/store.js';
import { deliveriesFor } from '../webhooks/store.js';
import { diffInvoices, type Change } from './domain/diff.js';
import type { EditPolicy } from './domain/edit-rules.js';
import type { Invoice } from './domain/model.js';
import { invoiceStore } from './store.js';
import { deepFreeze, type WriteBaseCache } from './write-base-cache.js';
import { invoiceWriteStore, type TenantWriteFacts } from './write-store.js';

export interface WriteResult {
  invoice: Invoice;
  changes: Change[];
  /** False for a dry run or an update that changed nothing (no new version). */
  written: boolean;
}

/** A version written by any use case: the audit event and the outbox event go with it. */
export interface VersionRecord {
  action: string;
  eventType: string;
  changes: Change[];
  eventData?: Record<string, unknown>;
  /** Further outbox event types for the same version (e.g. a payment that also makes the invoice paid). */
  alsoEmit?: string[];
}

export interface WriteKernelDeps {
  db: Db;
  engine: Engine;
  clock: Clock;
  /** Committed invoices and tenant facts kept for writes without the lock and read (`optimistic`). */
  writeBases?: WriteBaseCache;
}

/** Rolls the transaction back after the work computed its result, for dry runs. */
class DryRunRollback<T> extends Error {
  constructor(readonly result: T) {
    super('dry run');
  }
}

/** An unlocked write found its base out of date (or wrote nothing): the locked path decides instead. */
class StaleWriteBase extends Error {
  constructor() {
    super('the write base is not the current version');
  }
}

/** A dry run's WriteResult (or any result carrying `written`) says nothing was written. */
function asDryRun<T>(result: T): T {
  if (typeof result === 'object' && result !== null && 'written' in result) return { ...result, written: false };
  return result;
}

export function createWriteKernel(deps: WriteKernelDeps) {
  const { db, engine, clock, writeBases } = deps;
  /** What the lock's read statement found about the tenant, per transaction (the rules and the outbox use it). */
  const writeFacts = new WeakMap<Tx, TenantWriteFacts>();
  /** Transactions that roll back at the end (dry runs): their last write must not take COMMIT with it. */
  const dryRuns = new WeakSet<Tx>();
  /** Transactions writing on a base they did not lock (`optimistic`): the facts to guard, and whether a version was written. */
  const unlocked = new WeakMap<Tx, { expectedFacts: TenantWriteFacts['read']; wrote: boolean }>();
  /** The versions a transaction wrote, for `writeBases` once it committed. */
  const written = new WeakMap<Tx, { tenantId: string; invoice: Invoice; facts: TenantWriteFacts }[]>();

  /**
   * Runs `work` in one transaction and returns what it returns. With `options.dryRun` the
   * transaction is rolled back after `work` finished; a constraint error becomes a 409.
   */
  async function inTransaction<T>(options: WriteOptions, work: (tx: Tx) => Promise<T>): Promise<T> {
    let ran: Tx | undefined;
    let result: T;
    try {
      result = await transaction(db, async (tx) => {
        ran = tx;
        if (options.dryRun) dryRuns.add(tx);
        const result = await work(tx);
        if (options.dryRun) throw new DryRunRollback(asDryRun(result));
        return result;
      });
    } catch (error) {
      if (error instanceof DryRunRollback) return error.result as T;
      throw translateConstraintError(error);
    }
    // Committed: what it wrote is a base for the next write.
    for (const version of (ran && written.get(ran)) ?? []) writeBases?.set(version.tenantId, version.invoice, version.facts);
    return result;
  }

  /** Locks another invoice the change touches (no If-Match: the request named only the first). */
  async function lockInvoice(tx: Tx, ctx: RequestContext, id: string): Promise<Invoice | undefined> {
    // A path id may be the invoice's guid (domain/lookup.ts).
    const named = keyFromPathId(id);
    const invoiceId = 'guid' in named ? (await invoiceStore.idsBy(tx, ctx.auth.tenantId, 'guid', named.guid))[0] : id;
    if (invoiceId === undefined) return undefined;
    const locked = await invoiceWriteStore.lockAndRead(tx, engine, ctx.auth.tenantId, invoiceId);
    if (!locked) return undefined;
    writeFacts.set(tx, locked.facts);
    // Read under the lock: a committed version, whatever this transaction does next.
    writeBases?.set(ctx.auth.tenantId, locked.invoice, locked.facts);
    return locked.invoice;
  }

  /**
   * Transaction + lock + If-Match check, then `work` with the current invoice. 404 for an unknown id.
   *
   * `optimistic` (PATCH and PUT, whose work has no effect outside the database and ends in one
   * `recordVersion`): when `writeBases` holds the invoice (by id, at a version If-Match accepts),
   * the work first runs on that copy without locking and reading the invoice, and its write
   * updates the invoice only if it is still at that version and the tenant's facts are still the
   * ones the rules used. On PostgreSQL that write is one statement of its own (src/db/transaction.ts),
   * whose version guard takes the row lock before the statement's other parts (its final SELECT
   * reads the invoice UPDATE first), so the lock order is kept; on SQLite the transaction began
   * IMMEDIATE (the one writer) and the facts are compared before the guarded UPDATE. If the base
   * was out of date, or the work refused, failed on a conflict or wrote nothing, nothing was written
   * and the locked path runs the work again on the current invoice: every answer but a write is
   * decided there.
   */
  async function withLockedInvoice<T>(
    ctx: RequestContext,
    id: string,
    options: WriteOptions,
    work: (tx: Tx, invoice: Invoice) => Promise<T>,
    mode: { optimistic?: boolean } = {},
  ): Promise<T> {
    const base = mode.optimistic && !options.dryRun ? writeBases?.get(ctx.auth.tenantId, id) : undefined;
    if (base && (options.ifMatch === undefined || options.ifMatch === '*' || options.ifMatch.includes(base.invoice.version))) {
      try {
        const attempt = { expectedFacts: base.facts.read, wrote: false };
        return await inTransaction(options, async (tx) => {
          unlocked.set(tx, attempt);
          writeFacts.set(tx, base.facts);
          const result = await work(tx, base.invoice);
          if (!attempt.wrote) throw new StaleWriteBase();
          return result;
        });
      } catch (error) {
        if (!decidedOnTheLockedPath(error)) throw error;
      }
    }
    return inTransaction(options, async (tx) => {
      const current = await lockInvoice(tx, ctx, id);
      if (!current) throw notFound('invoice', id);
      assertIfMatch(options.ifMatch, current.version);
      return work(tx, current);
    });
  }

  /**
   * Persists a new version: invoice row and changed lines, one audit event, the outbox
   * event(s) and the Idempotency-Key mark, all inside the caller's transaction. `before` is
   * null for an invoice that did not exist. Every use case that changes an invoice ends here.
   * `last`: the use case runs nothing after this in the transaction, so on PostgreSQL COMMIT goes
   * out with the write (one round trip fewer); the transaction then refuses any further statement.
   * Ignored in a dry run, which must roll back.
   */
  async function recordVersion(tx: Tx, ctx: RequestContext, before: Invoice | null, after: Invoice, record: VersionRecord, reason: string | null, options: { last?: boolean } = {}) {
    const tenantId = ctx.auth.tenantId;
    const idempotency = ctx.idempotency;
    const facts = writeFacts.get(tx) ?? (await invoiceWriteStore.tenantFacts(tx, engine, tenantId));
    const attempt = unlocked.get(tx);
    const data = { invoice_id: after.id, version: after.version, changes: record.changes };
    const events = [record.eventType, ...(record.alsoEmit ?? [])].map((type) => ({ id: newId('evt'), type, data: JSON.stringify({ ...data, ...record.eventData }) }));
    const outcome = await invoiceWriteStore.writeVersion(tx, engine, {
      tenantId,
      before,
      after,
      audit: { action: record.action, actorKeyId: ctx.auth.keyId, requestId: ctx.requestId, reason, changes: record.changes },
      events,
      // Webhook deliveries are queued with their event, in the same statement (at-least-once from the outbox).
      deliveries: events.flatMap((event) => deliveriesFor(facts.webhookEndpoints, event)),
      // Ties this change to the request's Idempotency-Key in the same transaction (a key new to the
      // request is inserted here once; a second version in the transaction marks the row it inserted).
      idempotency: idempotency ? { key: idempotency.key, claimToken: idempotency.claimToken, resource: `invoice/${after.id}/${after.version}`, insert: idempotency.inserted ? undefined : idempotency.insert } : null,
      // The audit event and the outbox events are stamped with the version's updated_at (the
      // injected clock). Deliveries are scheduled on wall time: the dispatcher polls and signs
      // on the real clock (Standard Webhooks receivers check the timestamp), so it is not app time.
      deliveriesDueAt: nowIso(),
      expectedFacts: attempt?.expectedFacts,
    }, { last: options.last === true && !dryRuns.has(tx) });
    if (!outcome.headerWritten) {
      if (attempt) throw new StaleWriteBase();
      throw new Error(`invoice ${after.id} changed under a held lock`);
    }
    if (!outcome.idempotencyOwned) {
      // A concurrent request with the same new key wrote first, or a retry took the key over (this
      // request outlived its lease): the whole change rolls back.
      throw idempotency?.insert ? idempotencyKeyTaken(idempotency.key) : idempotencyLeaseLost();
    }
    if (idempotency?.insert) idempotency.inserted = true;
    if (attempt) attempt.wrote = true;
    if (writeBases) {
      const versions = written.get(tx) ?? [];
      // Frozen now: a use case that changed `after` after writing it would make the kept base differ from the row.
      versions.push({ tenantId, invoice: deepFreeze(after), facts });
      written.set(tx, versions);
    }
  }

  /** The tail of a use case that derives the next state itself: version + 1, timestamp, diff, recordVersion. */
  async function recordChange(tx: Tx, ctx: RequestContext, before: Invoice, next: Invoice, record: Omit<VersionRecord, 'changes'>, reason: string | null): Promise<WriteResult> {
    const after: Invoice = { ...next, version: before.version + 1, updated_at: clock.nowIso() };
    const changes = diffInvoices(before, after);
    await recordVersion(tx, ctx, before, after, { ...record, changes }, reason);
    return { invoice: after, changes, written: true };
  }

  /** The tenant's edit policy (lifecycle.ts and edit-rules.ts decide with it); read in `tx` when given. */
  async function editPolicyOf(tenantId: string, tx?: Tx): Promise<EditPolicy> {
    // Read with the invoice lock (the write's read statement): fresh for this transaction.
    const facts = tx ? writeFacts.get(tx) : undefined;
    if (facts) return facts.editPolicy;
    const tenant = await tenantStore.findById(tx ?? db, tenantId);
    return (tenant?.edit_policy ?? 'until_paid') as EditPolicy;
  }

  return { clock, inTransaction, withLockedInvoice, lockInvoice, recordVersion, recordChange, editPolicyOf };
}

export type WriteKernel = ReturnType<typeof createWriteKernel>;

/**
 * Whether an unlocked attempt's failure is answered by running the locked path instead: its base
 * was out of date, or the work refused (a rule, a 412, a conflict) or met a deadlock or serialization
 * failure — any of which may come from the base it used. Anything else (the database is away) is
 * the answer as it is.
 */
function decidedOnTheLockedPath(error: unknown): boolean {
  if (error instanceof StaleWriteBase || error instanceof AppError) return true;
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('40');
}

/** Unique-index races (two writers taking one invoice number) become a 409, not a 500. */
export function translateConstraintError(error: unknown): unknown {
  const code = (error as { code?: string })?.code;
  if (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new AppError('conflict', 'The change conflicts with another record (a unique value is already taken).');
  }
  return error;
}
