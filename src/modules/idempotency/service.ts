import { createHash, randomUUID } from 'node:crypto';
import type { Db, Engine, Tx } from '../../db/database.js';
import type { IdempotencyKeysTable } from '../../db/schema.js';
import type { RequestContext } from '../../core/request-context.js';
import { AppError } from '../../shared/errors.js';
import { idempotencyStore } from './store.js';

/**
 * Idempotency-Key semantics (docs/history-and-webhooks.md):
 *  1. claim: before the handler runs, the key row is inserted `in_flight` (one statement for a
 *     new key, a short transaction when a row exists) with a hash of method + URL + body, a claim
 *     token and a lease;
 *  2. the change: every invoice version marks the row `committed` *inside the version's
 *     transaction* (the write kernel's write statement; markIdempotentChange elsewhere), so the change and "this key did it"
 *     commit together or not at all; a claim that lost its lease cannot commit (token check);
 *  3. complete: after the handler, the response (status, body, ETag/Location) is stored.
 * Routes whose answer is the invoice at the written version (`idempotencyInTransaction`) take a
 * new key in one commit instead: the version's own transaction inserts the row already
 * `committed` (a concurrent request with the key makes that insert conflict → 409, rolled
 * back whole), and a retry's answer is rebuilt from that version; only a final answer without
 * a change (a 4xx, a no-op) is stored afterwards, as a `completed` row.
 * A retry finds `completed` → the stored response; `committed` (the process died between
 * 2 and 3) → the invoice at the committed version, rebuilt from history; `in_flight` within
 * the lease → 409; another request hash → 422.
 */
export const claimLeaseMs = 60_000;
export const keyPattern = /^[\x21-\x7e]{1,255}$/;

export type ClaimOutcome =
  | { kind: 'claimed'; claimToken: string }
  | { kind: 'replay'; status: number; headers: Record<string, string>; body: string }
  | { kind: 'committed-without-response'; resource: string };

export function requestHash(method: string, url: string, body: unknown): string {
  return createHash('sha256').update(`${method} ${url}\n${JSON.stringify(body ?? null)}`).digest('hex');
}

const addMs = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

export function createIdempotencyService(deps: { db: Db; engine: Engine; ttlHours: number }) {
  const { db, engine } = deps;
  const ttlMs = deps.ttlHours * 3_600_000;

  function outcomeOf(row: IdempotencyKeysTable): ClaimOutcome | null {
    if (row.state === 'completed' && row.response_status !== null) {
      return {
        kind: 'replay',
        status: row.response_status,
        headers: JSON.parse(row.response_headers ?? '{}') as Record<string, string>,
        body: row.response_body ?? '',
      };
    }
    if (row.state === 'committed' && row.committed_resource) return { kind: 'committed-without-response', resource: row.committed_resource };
    return null;
  }

  return {
    async claim(input: { tenantId: string; key: string; method: string; path: string; hash: string; now?: string }): Promise<ClaimOutcome> {
      const now = input.now ?? new Date().toISOString();
      const claimToken = randomUUID();
      const lockedUntil = addMs(now, claimLeaseMs);
      const fresh: IdempotencyKeysTable = {
        tenant_id: input.tenantId,
        key: input.key,
        request_hash: input.hash,
        method: input.method,
        path: input.path,
        state: 'in_flight',
        claim_token: claimToken,
        locked_until: lockedUntil,
        committed_resource: null,
        response_status: null,
        response_headers: null,
        response_body: null,
        created_at: now,
        expires_at: addMs(now, ttlMs),
      };
      // A new key (the usual case) is claimed in one statement. A key that exists (a retry, a
      // request still in flight — the insert waits for its claim to commit —, an expired row)
      // goes through the transaction below, which decides what the key's row says.
      if (await idempotencyStore.insertIfAbsent(db, fresh)) return { kind: 'claimed', claimToken };
      try {
        return await db.transaction().execute(async (tx: Tx) => {
          let row = await idempotencyStore.find(tx, engine, input.tenantId, input.key);
          if (row && row.expires_at <= now) {
            await idempotencyStore.remove(tx, input.tenantId, input.key);
            row = undefined;
          }
          if (!row) {
            await idempotencyStore.insert(tx, fresh);
            return { kind: 'claimed', claimToken } as const;
          }
          if (row.request_hash !== input.hash) {
            throw new AppError('idempotency-key-reused', `The Idempotency-Key "${input.key}" was first used with ${row.method} ${row.path} and another body; use a new key for a different request.`, {
              errors: [{ pointer: '/headers/idempotency-key', detail: 'already used for a different request' }],
            });
          }
          const outcome = outcomeOf(row);
          if (outcome) return outcome;
          if (row.locked_until > now) {
            // Retry-After: the lease's remaining seconds. A running request usually ends well before
            // (a retry then gets its answer); one that crashed is taken over only when the lease ends.
            const leaseLeftSeconds = Math.max(1, Math.ceil((Date.parse(row.locked_until) - Date.parse(now)) / 1000));
            throw new AppError('conflict', `A request with the Idempotency-Key "${input.key}" is still in progress; retry after it finishes (its lease ends in ${leaseLeftSeconds} s).`, {
              headers: { 'retry-after': String(leaseLeftSeconds) },
              extensions: { lease_remaining_seconds: leaseLeftSeconds },
            });
          }
          // The first claimant died before committing anything: this retry takes the key over.
          await idempotencyStore.takeOver(tx, input.tenantId, input.key, claimToken, lockedUntil);
          return { kind: 'claimed', claimToken } as const;
        });
      } catch (error) {
        const code = (error as { code?: string })?.code;
        if (code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
          throw new AppError('conflict', `A request with the Idempotency-Key "${input.key}" is still in progress; retry after it finishes.`, {
            headers: { 'retry-after': '1' },
          });
        }
        throw error;
      }
    },

    /** True when the tenant has used the key (the claim above then decides what a retry gets). */
    isKnown: (tenantId: string, key: string) => idempotencyStore.exists(db, engine, tenantId, key),

    /** The expiry of a key first used now (`now` as an ISO instant). */
    expiresAt: (now: string) => addMs(now, ttlMs),

    /**
     * A key claimed in its write's transaction whose request ended without a change (a final 4xx,
     * a no-op): its answer is stored for retries, unless a concurrent request with the key wrote first.
     */
    async storeAnswer(input: { tenantId: string; key: string; claimToken: string; method: string; path: string; hash: string; createdAt: string; expiresAt: string }, response: { status: number; headers: Record<string, string>; body: string }) {
      await idempotencyStore.insertIfAbsent(db, {
        tenant_id: input.tenantId,
        key: input.key,
        request_hash: input.hash,
        method: input.method,
        path: input.path,
        state: 'completed',
        claim_token: input.claimToken,
        locked_until: input.createdAt,
        committed_resource: null,
        response_status: response.status,
        response_headers: JSON.stringify(response.headers),
        response_body: response.body,
        created_at: input.createdAt,
        expires_at: input.expiresAt,
      });
    },

    async complete(tenantId: string, key: string, claimToken: string, response: { status: number; headers: Record<string, string>; body: string }) {
      await idempotencyStore.complete(db, tenantId, key, claimToken, { status: response.status, headers: JSON.stringify(response.headers), body: response.body });
    },

    release: (tenantId: string, key: string, claimToken: string) => idempotencyStore.releaseUncommitted(db, tenantId, key, claimToken),

    deleteExpired: (now = new Date().toISOString()) => idempotencyStore.deleteExpired(db, now),
  };
}

export type IdempotencyService = ReturnType<typeof createIdempotencyService>;

/**
 * Called by recordVersion inside the version's transaction: ties the change to the key.
 * If a retry took the key over (this request outlived its lease) the change is refused,
 * so one key can never produce two changes.
 */
export async function markIdempotentChange(tx: Tx, ctx: RequestContext, resource: string): Promise<void> {
  if (!ctx.idempotency) return;
  const owned = await idempotencyStore.markCommitted(tx, ctx.auth.tenantId, ctx.idempotency.key, ctx.idempotency.claimToken, resource);
  if (!owned) throw idempotencyLeaseLost();
}

/** A key claimed in its write's transaction was written first by a concurrent request with the same key. */
export function idempotencyKeyTaken(key: string): AppError {
  return new AppError('conflict', `Another request with the Idempotency-Key "${key}" ran at the same time; nothing was changed by this one. Retry to get its answer.`, {
    headers: { 'retry-after': '1' },
  });
}

/** The change's transaction found its key taken over by a retry (this request outlived its lease). */
export function idempotencyLeaseLost(): AppError {
  return new AppError('conflict', 'This request outlived its Idempotency-Key lease and a retry took the key over; nothing was changed.');
}
