import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { migrations } from '../../src/db/migrations/index.js';

test('0012 makes each tenant\'s existing seller revision 1, in force since always (documents rendered before keep their seller)', () => {
  const db = new Database(':memory:');
  try {
    db.exec('CREATE TABLE tenants (id TEXT PRIMARY KEY)');
    db.prepare('INSERT INTO tenants (id) VALUES (?)').run('ten_a');
    db.exec(migrations['0008_document_seller']!.sqlite);
    db.prepare('INSERT INTO document_sellers (tenant_id, seller, logo_sha256, updated_at) VALUES (?, ?, ?, ?)').run('ten_a', '{"name":"A Oy"}', 'ab'.repeat(32), '2026-05-01T00:00:00.000Z');
    db.exec(migrations['0012_document_seller_history']!.sqlite);
    const rows = db.prepare('SELECT tenant_id, revision, valid_from, seller, logo_sha256 FROM document_seller_history').all();
    assert.deepEqual(rows, [{ tenant_id: 'ten_a', revision: 1, valid_from: '0000-01-01T00:00:00.000Z', seller: '{"name":"A Oy"}', logo_sha256: 'ab'.repeat(32) }]);
    // Every real timestamp sorts after it, so any version written before the upgrade finds it.
    assert.ok('0000-01-01T00:00:00.000Z' < '1970-01-01T00:00:00.000Z');
  } finally {
    db.close();
  }
});
