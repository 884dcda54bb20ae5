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
 * The token bucket as one row per API key in PostgreSQL (table rate_limit_buckets, migration
 * 0006_hardening), taken with one atomic UPSERT: refill by the time passed (the database's
 * clock, the same for every process), then take a token when there is one. Concurrent takes
 * for one key serialise on its row. If the database cannot answer, this process's own bucket
 * decides (the request itself will most likely fail on the database anyway).
 */
export function createSharedRateLimiter(options: { db: Db; perMinute: number; onError?: (error: unknown) => void }): { take(key: string): Promise<void> } {
  const { db, perMinute } = options;
  const refillPerMs = perMinute / 60_000;
  const fallback = createRateLimiter({ perMinute });
  return {
    async take(key: string) {
      if (perMinute <= 0) return;
      let row: { token_thousandths: number; allowed: number } | undefined;
      try {
        const nowMs = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;
        const refilled = sql<number>`least(${perMinute * 1000}::bigint, rate_limit_buckets.token_thousandths + floor(greatest(0, ${nowMs} - rate_limit_buckets.updated_at_ms) * ${perMinute / 60}::float8)::bigint)`;
        const result = await sql<{ token_thousandths: number; allowed: number }>`
          insert into rate_limit_buckets (key, token_thousandths, updated_at_ms, allowed)
          values (${key}, ${(perMinute - 1) * 1000}::bigint, ${nowMs}, 1)
          on conflict (key) do update set
            token_thousandths = case when ${refilled} >= 1000 then ${refilled} - 1000 else ${refilled} end,
            allowed = case when ${refilled} >= 1000 then 1 else 0 end,
            updated_at_ms = ${nowMs}
          returning token_thousandths, allowed`.execute(db);
        row = result.rows[0];
      } catch (error) {
        options.onError?.(error);
        fallback.take(key);
        return;
      }
      if (row && row.allowed !== 1) throw rateLimited(perMinute, retryAfterSecondsFor(Number(row.token_thousandths) / 1000, refillPerMs));
    },
  };
}
