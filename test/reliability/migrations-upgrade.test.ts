import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { migrations } from '../../src/db/migrations/index.js';
import { buildApp, type App } from '../../src/http/app.js';
import { Client, createTestDatabase, engine, expectStatus, type TestDatabase } from '../helpers/harness.js';
import { readFeedUntil } from '../helpers/feed.js';

/**
 * A database written by release 0.1 (commit a87ef0f; made by test/fixtures/release-0.1/make-fixture.ts
 * with that release's code) upgrades in place to Kysely's Migrator: its schema_migrations rows are
 * adopted, nothing is re-run, its invoices, history and events are intact and the API works on it.
 */
const fixtureDir = new URL('../fixtures/release-0.1/', import.meta.url).pathname;
const manifest = JSON.parse(fs.readFileSync(path.join(fixtureDir, 'manifest.json'), 'utf8'));
const released = manifest[engine] as {
  key: string;
  invoices: { id: string; number: string | null; status: string; version: number; total: string; balance: string; line_count: number; history_versions: number }[];
  event_ids: string[];
  schema_migrations: { name: string; applied_at: string }[];
};
const run = promisify(execFile);
/** What every process does at start (the server, the CLI): open the database, which migrates. */
const startAndStop = `
  import { openDatabase } from './src/db/database.ts';
  const database = await openDatabase({ dataDir: process.env.FOLIO_DATA_DIR, databaseUrl: process.env.DATABASE_URL || undefined });
  await database.close();
  console.log('migrated');`;

const databases: TestDatabase[] = [];
after(async () => {
  for (const database of databases) await database.drop();
});

/** A fresh database holding exactly the release-0.1 fixture. */
async function restoreReleaseFixture(): Promise<TestDatabase> {
  const database = await createTestDatabase();
  databases.push(database);
  if (engine === 'sqlite') {
    fs.copyFileSync(path.join(fixtureDir, 'folio.sqlite'), path.join(database.dataDir, 'folio.sqlite'));
  } else {
    execFileSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', '-d', database.databaseUrl!, '-f', path.join(fixtureDir, 'postgres.sql')], { stdio: ['ignore', 'ignore', 'pipe'] });
  }
  return database;
}

const open = (database: TestDatabase) => openDatabase({ dataDir: database.dataDir, databaseUrl: database.databaseUrl, poolSize: 4 });

async function migrationRows(handle: DatabaseHandle, table: 'kysely_migration' | 'schema_migrations') {
  const rows = await sql<{ name: string; at: string }>`SELECT name, ${sql.ref(table === 'kysely_migration' ? 'timestamp' : 'applied_at')} AS at FROM ${sql.table(table)} ORDER BY name`.execute(handle.db);
  return rows.rows.map((row) => ({ name: row.name, at: row.at }));
}

const releasedRows = () => released.schema_migrations.map((row) => ({ name: row.name, at: row.applied_at }));

describe(`release 0.1 database upgrades in place (${engine})`, () => {
  test('adopts the applied migrations, re-runs nothing, loses nothing; the API reads and updates', async () => {
    const database = await restoreReleaseFixture();
    const handle = await open(database);
    let app: App | undefined;
    try {
      assert.deepEqual(await migrationRows(handle, 'schema_migrations'), releasedRows(), 'the legacy record is left as it was');
      const adopted = await migrationRows(handle, 'kysely_migration');
      assert.deepEqual(adopted.slice(0, releasedRows().length), releasedRows(), 'adopted with their original applied_at: not re-run');
      assert.deepEqual(adopted.map((row) => row.name), Object.keys(migrations), 'later migrations ran once each');

      const config = loadConfig({ NODE_ENV: 'test', FOLIO_DATA_DIR: database.dataDir, ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}), FOLIO_RATE_LIMIT_PER_MINUTE: '0' });
      app = await buildApp({ config, database: handle });
      await app.ready();
      const api = new Client(app, released.key);

      for (const expected of released.invoices) {
        const invoice = expectStatus(await api.get(`/v1/invoices/${expected.id}`), 200);
        assert.deepEqual(
          { number: invoice.number, status: invoice.status, version: invoice.version, total: invoice.total, balance: invoice.balance, line_count: invoice.lines.length },
          { number: expected.number, status: expected.status, version: expected.version, total: expected.total, balance: expected.balance, line_count: expected.line_count },
        );
        const history = expectStatus(await api.get(`/v1/invoices/${expected.id}/history`), 200);
        assert.equal((history.data ?? history).length, expected.history_versions, `history of ${expected.id}`);
      }
      const feed = expectStatus(await api.get('/v1/events?limit=500'), 200);
      assert.deepEqual(feed.data.map((event: { id: string }) => event.id), released.event_ids);

      const draft = released.invoices.find((invoice) => invoice.status === 'draft')!;
      const updated = expectStatus(await api.patch(`/v1/invoices/${draft.id}`, { memo: 'edited after the upgrade' }, { 'if-match': `"${draft.version}"` }), 200);
      assert.equal(updated.version, draft.version + 1);
      const history = expectStatus(await api.get(`/v1/invoices/${draft.id}/history`), 200);
      assert.equal((history.data ?? history).length, draft.history_versions + 1);
      const feedAfter = (await readFeedUntil(api.get, (events) => events.length > released.event_ids.length, '', 500)).events;
      assert.deepEqual(feedAfter.slice(0, released.event_ids.length).map((event: { id: string }) => event.id), released.event_ids);
      assert.equal(feedAfter.length, released.event_ids.length + 1, 'the update appended one event after the released ones');
      // A cursor the release handed out (base64url of e<seq>) still continues right after its event.
      const secondSeq = (await handle.db.selectFrom('events').select('seq').where('id', '=', released.event_ids[1]).executeTakeFirstOrThrow()).seq;
      const fromReleasedCursor = expectStatus(await api.get(`/v1/events?limit=500&after=${Buffer.from(`e${secondSeq}`).toString('base64url')}`), 200);
      assert.deepEqual(fromReleasedCursor.data.map((event: { id: string }) => event.id), feedAfter.slice(2).map((event: { id: string }) => event.id));
    } finally {
      await app?.close();
      await handle.close();
    }

    const reopened = await open(database);
    try {
      const rows = await migrationRows(reopened, 'kysely_migration');
      assert.deepEqual(rows.slice(0, releasedRows().length), releasedRows(), 'a second start changes nothing');
    } finally {
      await reopened.close();
    }
  });

  test('processes starting at once (a fresh database and a release-0.1 one) apply each migration exactly once', async () => {
    for (const database of [await createTestDatabase(), await restoreReleaseFixture()]) {
      if (!databases.includes(database)) databases.push(database);
      const env = { ...process.env, NODE_ENV: 'test', FOLIO_DATA_DIR: database.dataDir, DATABASE_URL: database.databaseUrl ?? '' };
      const starts = await Promise.all(
        [1, 2, 3].map(() => run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', startAndStop], { env, cwd: new URL('../../', import.meta.url).pathname })),
      );
      for (const start of starts) assert.match(start.stdout, /migrated/);
      const handle = await open(database);
      try {
        const rows = await migrationRows(handle, 'kysely_migration');
        assert.deepEqual(rows.map((row) => row.name), Object.keys(migrations));
      } finally {
        await handle.close();
      }
    }
  });
});
