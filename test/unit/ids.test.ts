import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { idPattern, newId, randomToken } from '../../src/shared/ids.js';

/** Ids and tokens draw their random characters from a pooled buffer refilled every 4 KiB. */
describe('ids', () => {
  test('ids keep their shape and never repeat across many pool refills', () => {
    const pattern = new RegExp(idPattern('inv'));
    const seen = new Set<string>();
    // 16 random bytes per id: 3,000 ids use the 4 KiB pool about 12 times over.
    for (let i = 0; i < 3_000; i++) {
      const id = newId('inv');
      assert.match(id, pattern);
      seen.add(id.slice(-16));
    }
    assert.equal(seen.size, 3_000);
  });

  test('tokens of any length, including longer than the pool, are fresh random characters', () => {
    for (const length of [40, 4095, 4097, 10_000]) {
      const first = randomToken(length);
      assert.equal(first.length, length);
      assert.match(first, /^[0-9a-z]+$/);
      assert.notEqual(randomToken(length), first);
    }
  });
});
