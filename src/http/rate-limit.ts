import type { FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { AppError } from '../shared/errors.js';

/**
 * Request rate limit per API key: a token bucket per key. Each key may burst up to `perMinute`
 * requests and refills at `perMinute / 60` tokens per second. `perMinute = 0` turns it off.
 * Embedded (SQLite, one process) the buckets live in this process's memory; on PostgreSQL they
 * are rows shared by every API process (createSharedRateLimiter), so N processes behind a load
 * balancer still allow `perMinute`, not N × `perMinute`.
 */
export interface RateLimiter {
  /** Takes one token for `key`, or throws a 429 `rate-limited` problem with Retry-After. */
  take(key: string): void;
}

interface Bucket {
  tokens: number;
  updatedAtMs: number;
}

/** Beyond this many keys, buckets that have refilled completely are forgotten (memory bound). */
const maxTrackedKeys = 100_000;

function rateLimited(perMinute: number, retryAfterSeconds: number): AppError {
  return new AppError('rate-limited', `This API key sent more than ${perMinute} requests per minute; retry in ${retryAfterSeconds} s.`, {
    headers: { 'retry-after': String(retryAfterSeconds) },
    extensions: { limit_per_minute: perMinute, retry_after_seconds: retryAfterSeconds },
  });
}

const retryAfterSecondsFor = (tokens: number, refillPerMs: number) => Math.max(1, Math.ceil((1 - tokens) / refillPerMs / 1000));

export function createRateLimiter(options: { perMinute: number; nowMs?: () => number }): RateLimiter {
  const { perMinute } = options;
  const nowMs = options.nowMs ?? (() => Date.now());
  const buckets = new Map<string, Bucket>();
  const refillPerMs = perMinute / 60_000;

  return {
    take(key: string) {
      if (perMinute <= 0) return;
      const now = nowMs();
      let bucket = buckets.get(key);
      if (!bucket) {
        if (buckets.size >= maxTrackedKeys) forgetFullBuckets(now);
        bucket = { tokens: perMinute, updatedAtMs: now };
        buckets.set(key, bucket);
      }
      bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.updatedAtMs) * refillPerMs);
      bucket.updatedAtMs = now;
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return;
      }
      throw rateLimited(perMinute, retryAfterSecondsFor(bucket.tokens, refillPerMs));
    },
  };

  function forgetFullBuckets(now: number) {
    for (const [key, bucket] of buckets) {
      if (bucket.tokens + (now - bucket.updatedAtMs) * refillPerMs >= perMinute) buckets.delete(key);
    }
    if (buckets.size >= maxTrackedKeys) buckets.clear();
  }
}

/** The bucket key of a request: its authenticated API key id (requests without a key are not limited here). */
export function rateLimitKey(request: FastifyRequest): string | null {
  return request.auth ? request.auth.keyId : null;
}

/**
 * How many tokens one process takes from a key's shared bucket at a time: about 100 ms at the full
 * rate (6,000 per minute → 10), at least 1 (slow limits stay exact), at most 100.
 */
export function leaseTokensFor(perMinute: number): number {
  return Math.max(1, Math.min(100, Math.floor(perMinute / 600)));
}

/** A lease's unused tokens are dropped after this: a process cannot sit on another's share for long. */
const leaseLifeMs = 1_000;

/**
 * The token bucket as one row per API key in PostgreSQL (table rate_limit_buckets, migrations
 * 0006_hardening and 0014_rate_limit_unlogged), taken with one atomic UPSERT: refill by the time
 * passed (the database's clock, the same for every process), then take tokens when there are some.
 * A process takes a *lease* of up to `leaseTokens` tokens at once and spends them in memory, so a
 * busy key costs one UPSERT per lease instead of one per request (bench:rate-limit). Every token
 * comes out of the shared bucket, so all processes together never exceed the limit; a lease's
 * unspent tokens lapse after a second (the limit is then slightly stricter, never looser).
 * Concurrent requests of one key in one process wait for the same UPSERT. If the database cannot
 * answer, this process's own bucket decides (the request itself will most likely fail there anyway).
 */
export function createSharedRateLimiter(options: { db: Db; perMinute: number; leaseTokens?: number; nowMs?: () => number; onError?: (error: unknown) => void }): {
  take(key: string): Promise<void>;
  /** UPSERTs sent so far (for tests and metrics). */
  readonly sharedTakes: number;
} {
  const { db, perMinute } = options;
  const leaseTokens = options.leaseTokens ?? leaseTokensFor(perMinute);
  const nowMs = options.nowMs ?? (() => Date.now());
  const refillPerMs = perMinute / 60_000;
  const fallback = createRateLimiter({ perMinute });
  const leases = new Map<string, { tokens: number; expiresAtMs: number }>();
  const inFlight = new Map<string, Promise<{ granted: number; tokensLeft: number } | null>>();
  let sharedTakes = 0;

  /** One UPSERT taking up to `leaseTokens` tokens; null when the database did not answer. */
  async function takeShared(key: string): Promise<{ granted: number; tokensLeft: number } | null> {
    sharedTakes += 1;
    try {
      const dbNowMs = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;
      const refilled = sql<number>`least(${perMinute * 1000}::bigint, rate_limit_buckets.token_thousandths + floor(greatest(0, ${dbNowMs} - rate_limit_buckets.updated_at_ms) * ${perMinute / 60}::float8)::bigint)`;
      const granted = sql<number>`least(${leaseTokens}::bigint, floor(${refilled} / 1000)::bigint)`;
      const result = await sql<{ token_thousandths: number; allowed: number }>`
        insert into rate_limit_buckets (key, token_thousandths, updated_at_ms, allowed)
        values (${key}, ${(perMinute - Math.min(leaseTokens, perMinute)) * 1000}::bigint, ${dbNowMs}, ${Math.min(leaseTokens, perMinute)})
        on conflict (key) do update set
          token_thousandths = ${refilled} - ${granted} * 1000,
          allowed = ${granted},
          updated_at_ms = ${dbNowMs}
        returning token_thousandths, allowed`.execute(db);
      const row = result.rows[0];
      return { granted: Number(row?.allowed ?? 0), tokensLeft: Number(row?.token_thousandths ?? 0) / 1000 };
    } catch (error) {
      options.onError?.(error);
      return null;
    }
  }

  return {
    get sharedTakes() {
      return sharedTakes;
    },
    async take(key: string) {
      if (perMinute <= 0) return;
      for (;;) {
        const lease = leases.get(key);
        if (lease && lease.tokens >= 1 && lease.expiresAtMs > nowMs()) {
          lease.tokens -= 1;
          return;
        }
        const pending = inFlight.get(key);
        if (pending) {
          // Another request of this key is fetching a lease: share it, or (if it came back empty) be refused too.
          const outcome = await pending;
          if (outcome && outcome.granted === 0) throw rateLimited(perMinute, retryAfterSecondsFor(outcome.tokensLeft, refillPerMs));
          if (!outcome) {
            fallback.take(key);
            return;
          }
          continue;
        }
        const request = takeShared(key);
        inFlight.set(key, request);
        let outcome: Awaited<typeof request>;
        try {
          outcome = await request;
        } finally {
          inFlight.delete(key);
        }
        if (!outcome) {
          fallback.take(key);
          return;
        }
        if (outcome.granted === 0) throw rateLimited(perMinute, retryAfterSecondsFor(outcome.tokensLeft, refillPerMs));
        // This request spends one token; the rest serve the next requests of the key in this process.
        if (outcome.granted > 1) leases.set(key, { tokens: outcome.granted - 1, expiresAtMs: nowMs() + leaseLifeMs });
        else leases.delete(key);
        if (leases.size > maxTrackedKeys) leases.clear();
        return;
      }
    },
  };
}
