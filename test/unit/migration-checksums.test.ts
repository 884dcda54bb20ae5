import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { migrations } from '../../src/db/migrations/index.js';

/**
 * A released migration is never edited; add a new file; update checksums only when adding.
 * Databases already ran the released text, so an edit would make fresh and upgraded databases
 * differ silently. checksums.json holds sha256 of each migration's SQL per engine.
 */
const checksumsFile = new URL('../../src/db/migrations/checksums.json', import.meta.url);
const recorded = JSON.parse(fs.readFileSync(checksumsFile, 'utf8')) as Record<string, { sqlite: string; postgres: string }>;
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

test('every migration has recorded checksums, and every recorded one still exists', () => {
  const current = Object.fromEntries(
    Object.entries(migrations).map(([name, migration]) => [name, { sqlite: sha256(migration.sqlite), postgres: sha256(migration.postgres) }]),
  );
  const missing = Object.keys(current).filter((name) => !(name in recorded));
  assert.deepEqual(missing, [], `add to checksums.json:\n${missing.map((name) => `"${name}": ${JSON.stringify(current[name])}`).join(',\n')}`);
  assert.deepEqual(Object.keys(recorded).filter((name) => !(name in current)), [], 'a released migration was removed or renamed');
});

test('no released migration text has changed', () => {
  for (const [name, migration] of Object.entries(migrations)) {
    for (const engine of ['sqlite', 'postgres'] as const) {
      assert.equal(sha256(migration[engine]), recorded[name]?.[engine], `${name} (${engine}) was edited after release: revert it and add a new migration instead`);
    }
  }
});

test('migration names are NNNN_snake_case, listed in ascending order (the order they run)', () => {
  const names = Object.keys(migrations);
  for (const name of names) assert.match(name, /^\d{4}_[a-z0-9_]+$/);
  assert.deepEqual(names, [...names].sort(), 'list migrations in src/db/migrations/index.ts in name order');
});
