import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRateLimiter } from '../../src/http/rate-limit.js';
import { AppError } from '../../src/shared/errors.js';

describe('token bucket', () => {
  test('refills at perMinute/60 per second up to the burst, and says when to retry', () => {
    let nowMs = 0;
    const limiter = createRateLimiter({ perMinute: 60, nowMs: () => nowMs });
    for (let index = 0; index < 60; index += 1) limiter.take('k');
    assert.throws(() => limiter.take('k'), (error: unknown) => error instanceof AppError && error.status === 429 && error.headers['retry-after'] === '1');
    limiter.take('other');
    nowMs += 1000;
    limiter.take('k');
    assert.throws(() => limiter.take('k'));
    nowMs += 3_600_000;
    for (let index = 0; index < 60; index += 1) limiter.take('k');
    assert.throws(() => limiter.take('k'));
  });

  test('0 turns the limit off', () => {
    const limiter = createRateLimiter({ perMinute: 0 });
    for (let index = 0; index < 10_000; index += 1) limiter.take('k');
  });

  test('a slow rate gives a longer Retry-After', () => {
    const limiter = createRateLimiter({ perMinute: 2, nowMs: () => 0 });
    limiter.take('k');
    limiter.take('k');
    assert.throws(() => limiter.take('k'), (error: unknown) => error instanceof AppError && error.headers['retry-after'] === '30');
  });
});
