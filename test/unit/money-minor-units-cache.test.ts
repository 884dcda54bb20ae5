import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { currencyMinorUnits, isCurrencyCode } from '../../src/shared/money.js';

// Minor units are memoised per code (a benchmark showed the package's linear lookup in the
// profile); the cache must not change any answer, whatever order codes are asked in.
describe('currency minor units cache', () => {
  it('answers the same before and after a code is cached, and never caches a refusal into an acceptance', () => {
    for (let round = 0; round < 2; round++) {
      assert.equal(currencyMinorUnits('EUR'), 2);
      assert.equal(currencyMinorUnits('JPY'), 0);
      assert.equal(currencyMinorUnits('BHD'), 3);
      assert.equal(isCurrencyCode('EUR'), true);
      assert.equal(isCurrencyCode('eur'), false);
      assert.equal(isCurrencyCode('XAU'), false);
      assert.equal(isCurrencyCode('ZZZ'), false);
      assert.throws(() => currencyMinorUnits('eur'), RangeError);
      assert.throws(() => currencyMinorUnits('XAU'), RangeError);
      assert.throws(() => currencyMinorUnits('ZZZ'), RangeError);
    }
  });
});
