import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { buildApp, type App } from '../../src/http/app.js';
import { createSharedRateLimiter, leaseTokensFor } from '../../src/http/rate-limit.js';
import { engine, expectProblem, startTestApp, Client, type TestApp } from '../helpers/harness.js';

/**
 * The request rate limit holds across API processes on PostgreSQL (issue 13, item 6): two app
 * instances on one database share each key's bucket, so together they allow the limit once,
 * not twice. (The embedded SQLite engine is one process: its buckets stay in memory.)
 */
const perMinute = 30;
let t: TestApp;
let second: { app: App; database: DatabaseHandle };

before(async () => {
  t = await startTestApp({ FOLIO_RATE_LIMIT_PER_MINUTE: String(perMinute) });
  const database = await openDatabase({ dataDir: t.config.dataDir, databaseUrl: t.config.databaseUrl, poolSize: 5 });
  second = { app: await buildApp({ config: t.config, database }), database };
  await second.app.ready();
});
after(async () => {
  await second.app.close();
  await second.database.close();
  await t.close();
});

describe('rate limit across processes', { skip: engine !== 'postgres' && 'PostgreSQL only: embedded is one process' }, () => {
  test(`two app instances on one database allow ${perMinute} requests per minute per key together`, async () => {
    const key = await t.key('shared-rate');
    const clients = [t.client(key), new Client(second.app, key)];
    const statuses: number[][] = [[], []];
    for (let index = 0; index < perMinute * 2; index += 1) {
      const which = index % 2;
      statuses[which].push((await clients[which].get('/v1/invoices')).status);
    }
    const served = statuses.flat().filter((status) => status === 200).length;
    // The bucket refills at perMinute/60 = 0.5 per second while the loop runs: a few more at most.
    assert.ok(served >= perMinute && served <= perMinute + 5, `served ${served} of ${perMinute * 2}; statuses ${JSON.stringify(statuses)}`);
    assert.ok(statuses[0].includes(429) && statuses[1].includes(429), 'both instances refuse once the shared bucket is empty');
    const limited = await clients[1].get('/v1/invoices');
    const problem = expectProblem(limited, 429, 'rate-limited');
    assert.equal(problem.retry_after_seconds, Number(limited.headers['retry-after']));
    assert.ok(problem.retry_after_seconds >= 1 && problem.retry_after_seconds <= 2);
    assert.equal((await t.client(await t.key('shared-rate-other')).get('/v1/invoices')).status, 200, 'other keys are unaffected');
  });

  test('the buckets are an UNLOGGED table: taking a token does not wait for a WAL flush (migration 0014)', async () => {
    const result = await sql<{ relpersistence: string }>`SELECT relpersistence FROM pg_class WHERE relname = 'rate_limit_buckets' AND relkind = 'r'`.execute(t.database.db);
    assert.deepEqual(result.rows.map((row) => row.relpersistence), ['u']);
  });

  test('a process takes tokens in leases: one UPSERT serves several requests, and two processes together still allow the limit once', async () => {
    const db = t.database.db;
    const key = `lease-${Math.random().toString(36).slice(2)}`;
    const limiters = [createSharedRateLimiter({ db, perMinute: 60, leaseTokens: 5 }), createSharedRateLimiter({ db, perMinute: 60, leaseTokens: 5 })];
    for (let index = 0; index < 40; index += 1) await limiters[index % 2].take(key);
    const takesFor40 = limiters[0].sharedTakes + limiters[1].sharedTakes;
    assert.ok(takesFor40 <= 10, `40 requests took ${takesFor40} UPSERTs (leases of 5)`);
    let allowed = 40;
    let refused = 0;
    for (let index = 0; index < 80 && refused < 4; index += 1) {
      try {
        await limiters[index % 2].take(key);
        allowed += 1;
      } catch {
        refused += 1;
      }
    }
    // Never more than the bucket (60) plus what refills while the loop runs (1 per second); tokens
    // stranded in the other process's lease make it at most 4 fewer.
    assert.ok(allowed <= 62 && allowed >= 56, `allowed ${allowed} of a 60-token bucket`);
    assert.equal(refused, 4);
  });

  test('concurrent requests of one key share one lease request', async () => {
    const limiter = createSharedRateLimiter({ db: t.database.db, perMinute: 6_000 });
    assert.equal(leaseTokensFor(6_000), 10);
    const key = `burst-${Math.random().toString(36).slice(2)}`;
    await Promise.all(Array.from({ length: 20 }, () => limiter.take(key)));
    assert.ok(limiter.sharedTakes <= 3, `20 concurrent requests took ${limiter.sharedTakes} UPSERTs`);
    assert.equal(leaseTokensFor(30), 1, 'a slow limit stays exact');
    // FOLIO_RATE_LIMIT_LEASE_TOKENS=1: one statement per request, exact to the token.
    const exact = createSharedRateLimiter({ db: t.database.db, perMinute: 6_000, leaseTokens: 1 });
    for (let index = 0; index < 5; index += 1) await exact.take(`exact-${key}`);
    assert.equal(exact.sharedTakes, 5);
    assert.equal(leaseTokensFor(1e9), 100);
  });
});
