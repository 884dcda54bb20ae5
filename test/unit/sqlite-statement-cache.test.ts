import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { withStatementCache } from '../../src/db/database.js';

describe('SQLite statement cache', () => {
  it('reuses one prepared statement per SQL text, with fresh parameters each time', () => {
    const sqlite = new SqliteDatabase(':memory:');
    const cache = withStatementCache(sqlite);
    cache.prepare('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)').run();
    const insert = cache.prepare('INSERT INTO t (name) VALUES (?)');
    assert.equal(cache.prepare('INSERT INTO t (name) VALUES (?)'), insert);
    insert.run('a');
    cache.prepare('INSERT INTO t (name) VALUES (?)').run('b');
    assert.deepEqual(cache.prepare('SELECT name FROM t ORDER BY id').all(), [{ name: 'a' }, { name: 'b' }]);
    sqlite.close();
  });

  it('gives a busy (still iterating) statement\'s caller a fresh one, and stays within its bound', () => {
    const sqlite = new SqliteDatabase(':memory:');
    const cache = withStatementCache(sqlite, 2);
    cache.prepare('CREATE TABLE t (n INTEGER)').run();
    for (let n = 0; n < 3; n++) cache.prepare('INSERT INTO t VALUES (?)').run(n);
    const select = cache.prepare('SELECT n FROM t ORDER BY n');
    const seen: number[] = [];
    for (const row of select.iterate() as Iterable<{ n: number }>) {
      // While `select` iterates it is busy: the same SQL must still run.
      const again = cache.prepare('SELECT n FROM t ORDER BY n');
      assert.notEqual(again, select);
      assert.equal(again.all().length, 3);
      seen.push(row.n);
    }
    assert.deepEqual(seen, [0, 1, 2]);
    const first = cache.prepare('SELECT 1');
    cache.prepare('SELECT 2');
    cache.prepare('SELECT 3'); // bound 2: the oldest entries are dropped
    assert.notEqual(cache.prepare('SELECT 1'), first);
    sqlite.close();
  });
});
