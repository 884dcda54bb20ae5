import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { toAppError } from '../../src/http/errors.js';

describe('database errors become one of the closed problem types', () => {
  for (const code of ['40P01', '40001', '55P03']) {
    test(`a transient conflict (${code}) is a retryable 409, not a 500`, () => {
      const error = Object.assign(new Error('deadlock detected on relation "invoices" (internal detail)'), { code });
      const { appError } = toAppError(error);
      assert.equal(appError.status, 409);
      assert.equal(appError.problemType, 'conflict');
      assert.equal(appError.headers['retry-after'], '1');
      assert.doesNotMatch(appError.message, /relation|invoices/, 'no internals in the answer');
    });
  }

  test('an unknown database error stays an opaque 500', () => {
    const { appError, unexpected } = toAppError(Object.assign(new Error('syntax error at or near "SELEC"'), { code: '42601' }));
    assert.equal(appError.status, 500);
    assert.equal(unexpected, true);
    assert.doesNotMatch(appError.message, /SELEC/);
  });
});
