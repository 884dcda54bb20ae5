import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isPrivateAddress, matchesEventType, retryDelayMs } from '../../src/modules/webhooks/domain.js';

describe('webhook rules', () => {
  test('event filters: exact, prefix wildcard, everything', () => {
    assert.equal(matchesEventType(['invoice.paid'], 'invoice.paid'), true);
    assert.equal(matchesEventType(['invoice.paid'], 'invoice.voided'), false);
    assert.equal(matchesEventType(['invoice.*'], 'invoice.updated'), true);
    assert.equal(matchesEventType(['invoice.*'], 'invoicex.updated'), false);
    assert.equal(matchesEventType(['invoice.*'], 'payment.created'), false);
    assert.equal(matchesEventType(['payment.*', 'invoice.paid'], 'payment.created'), true);
    assert.equal(matchesEventType(['*'], 'anything.at.all'), true);
  });

  test('private, loopback, link-local and mapped addresses are recognised; public ones are not', () => {
    for (const address of ['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:10.0.0.1', '224.0.0.1']) {
      assert.equal(isPrivateAddress(address), true, address);
    }
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '172.32.0.1', '::ffff:8.8.8.8']) {
      assert.equal(isPrivateAddress(address), false, address);
    }
    assert.equal(isPrivateAddress('not-an-ip'), true);
  });

  test('retry delays grow exponentially, are jittered within [step/2, step] and capped', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, random) => {
      const step = Math.min(60_000, 1000 * 2 ** (attempt - 1));
      const delay = retryDelayMs(attempt, 1000, 60_000, () => random);
      return delay >= Math.floor(step / 2) && delay <= step;
    }));
    assert.equal(retryDelayMs(1, 1000, 60_000, () => 0), 500);
    assert.equal(retryDelayMs(3, 1000, 60_000, () => 1), 4000);
    assert.equal(retryDelayMs(30, 1000, 60_000, () => 1), 60_000);
  });
});
