import type { FastifyRequest } from 'fastify';
import { AppError } from '../shared/errors.js';

/**
 * Request rate limit per API key: a token bucket per key, held in this process's memory.
 * Each key may burst up to `perMinute` requests and refills at `perMinute / 60` tokens per
 * second. With several API processes behind a load balancer every process keeps its own
 * buckets, so the effective limit is `perMinute × processes`. `perMinute = 0` turns it off.
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
      const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / refillPerMs / 1000));
      throw new AppError('rate-limited', `This API key sent more than ${perMinute} requests per minute; retry in ${retryAfterSeconds} s.`, {
        headers: { 'retry-after': String(retryAfterSeconds) },
        extensions: { limit_per_minute: perMinute, retry_after_seconds: retryAfterSeconds },
      });
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
