import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChanges, diffDocuments } from '../../src/modules/invoices/domain/diff.js';

test('diff paths escape "~" and "/" in keys (RFC 6901), skip identical members, and replay exactly', () => {
  const shared = { kept: 'same object' };
  const before = { memo: 'a', metadata: { 'a/b': 1, 'c~d': 'x', plain: true }, bill_to: shared };
  const after = { memo: 'a', metadata: { 'a/b': 2, 'c~d': 'y', plain: true, 'new/~key': null }, bill_to: shared };
  const changes = diffDocuments(before, after);
  assert.deepEqual(changes, [
    { path: '/metadata', from: before.metadata, to: after.metadata },
  ]);
  const sameNulls = diffDocuments({ metadata: { 'a/b': 1, 'c~d': 'x' } }, { metadata: { 'a/b': 2, 'c~d': 'x' } });
  assert.deepEqual(sameNulls, [{ path: '/metadata/a~1b', from: 1, to: 2 }]);
  const tilde = diffDocuments({ m: { 'c~/d': 'x' } }, { m: { 'c~/d': 'y' } });
  assert.deepEqual(tilde, [{ path: '/m/c~0~1d', from: 'x', to: 'y' }]);
  assert.deepEqual(applyChanges({ m: { 'c~/d': 'x' } }, tilde), { m: { 'c~/d': 'y' } });
});
