import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeListCursor } from '../../src/modules/invoices/list-filter.js';
import { afterIdOf } from '../../src/modules/jobs/matches.js';

/** A job's saved matching cursor: the last matched id, or (saved by the version that paged whole invoices) a list cursor. */
test('a matching cursor is the last matched id; a list cursor saved by an earlier version resumes after its id', () => {
  assert.equal(afterIdOf(undefined), undefined);
  assert.equal(afterIdOf('inv_01m8qd48ee8ma031h4dxhrrvy7'), 'inv_01m8qd48ee8ma031h4dxhrrvy7');
  const saved = encodeListCursor({ field: 'created', descending: false }, '', 'inv_01m8qd48ee8ma031h4dxhrrvy7');
  assert.notEqual(saved, 'inv_01m8qd48ee8ma031h4dxhrrvy7');
  assert.equal(afterIdOf(saved), 'inv_01m8qd48ee8ma031h4dxhrrvy7');
});
