import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { helpText, runCli } from '../../src/cli.js';
import { describeDatabase, loadEnvFile } from '../../src/config.js';
import { createTestDatabase, expectProblem, expectStatus, startTestApp } from '../helpers/harness.js';

/** Runs the CLI in process with the given environment; returns exit code and what it printed. */
async function cli(args: string[], env: Record<string, string | undefined>) {
  const saved = { ...process.env };
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...parts: unknown[]) => out.push(parts.join(' '));
  console.error = (...parts: unknown[]) => err.push(parts.join(' '));
  try {
    delete process.env.DATABASE_URL;
    delete process.env.FOLIO_DATA_DIR;
    for (const [name, value] of Object.entries(env)) if (value !== undefined) process.env[name] = value;
    const code = await runCli(args);
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
    process.env = saved;
  }
}

test('--help exits 0 and lists every command; each command has its own help; mistakes exit 2 with a hint', async () => {
  const help = await cli(['--help'], {});
  assert.equal(help.code, 0);
  for (const command of ['keys create', 'keys list', 'keys revoke', 'tenants list', 'invoices get', 'customers get', 'migrate', 'blobs sweep']) {
    assert.ok(help.stdout.includes(command), `help lists ${command}`);
    const own = await cli([...command.split(' '), '--help'], {});
    assert.equal(own.code, 0, command);
    assert.match(own.stdout, /^usage: npm run folio -- /, command);
  }
  assert.equal(helpText().split('\n')[0].includes('--help'), true);
  const unknown = await cli(['keys', 'rotate'], {});
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "keys rotate"; try: keys create, keys list, keys revoke/);
  assert.equal((await cli(['keys', 'create'], {})).code, 2, '--tenant is required');
  assert.equal((await cli(['keys', 'revoke'], {})).code, 2, 'needs KEY_ID');
});

test('keys create/list/revoke and tenants list against the configured database; a revoked key is refused by the API', async () => {
  const t = await startTestApp();
  const env = { FOLIO_DATA_DIR: t.testDb.dataDir, DATABASE_URL: t.testDb.databaseUrl };
  try {
    const created = await cli(['keys', 'create', '--tenant', 'cli-co', '--scopes', 'invoices:read,invoices:write'], env);
    assert.equal(created.code, 0, created.stderr);
    const key = created.stdout.split('\n').at(-1) ?? '';
    assert.match(key, /^folio_sk_/);
    assert.match(created.stderr, new RegExp(`using ${t.database.engine === 'sqlite' ? 'SQLite file' : 'PostgreSQL'}`));
    const keyId = /key (key_\w+)/.exec(created.stdout)?.[1] ?? '';

    const listed = await cli(['keys', 'list', '--tenant', 'cli-co'], env);
    assert.equal(listed.code, 0);
    assert.ok(listed.stdout.includes(keyId));
    assert.ok(!listed.stdout.includes(key), 'the key itself is never listed');
    assert.match((await cli(['tenants', 'list'], env)).stdout, /cli-co/);

    const client = t.client(key);
    const invoice = expectStatus(await client.post('/v1/invoices', { currency: 'EUR' }), 201);
    const shown = await cli(['invoices', 'get', invoice.id, '--tenant', 'cli-co'], env);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(JSON.parse(shown.stdout).id, invoice.id);

    assert.equal((await cli(['keys', 'revoke', keyId], env)).code, 0);
    assert.equal((await cli(['keys', 'revoke', keyId], env)).code, 1, 'already revoked');
    assert.match((await cli(['keys', 'list'], env)).stdout, new RegExp(`${keyId}.*\\d{4}-\\d\\d-\\d\\dT.*\\d{4}-\\d\\d-\\d\\dT`));
    // A fresh app (no auth cache) refuses it at once.
    const fresh = await startTestApp({ FOLIO_DATA_DIR: t.testDb.dataDir, ...(t.testDb.databaseUrl ? { DATABASE_URL: t.testDb.databaseUrl } : {}) });
    try {
      expectProblem(await fresh.client(key).get(`/v1/invoices/${invoice.id}`), 401, 'unauthorized');
    } finally {
      await fresh.app.close();
      await fresh.database.close();
      fs.rmSync(fresh.testDb.dataDir, { recursive: true, force: true });
      if (fresh.testDb.databaseUrl) {
        // the fresh harness created its own empty database; drop it
        await fresh.testDb.drop();
      }
    }
  } finally {
    await t.close();
  }
});

test('the server and the CLI read one settings file (.env or FOLIO_ENV_FILE); the environment wins over it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-env-'));
  try {
    fs.writeFileSync(path.join(dir, '.env'), 'FOLIO_DATA_DIR=/srv/folio-data\nFOLIO_LOG_LEVEL=warn\n');
    const env: NodeJS.ProcessEnv = { FOLIO_LOG_LEVEL: 'debug' };
    assert.equal(loadEnvFile(env, dir), path.join(dir, '.env'));
    assert.equal(env.FOLIO_DATA_DIR, '/srv/folio-data');
    assert.equal(env.FOLIO_LOG_LEVEL, 'debug', 'a variable already set is not overridden');
    assert.equal(loadEnvFile({}, fs.mkdtempSync(path.join(os.tmpdir(), 'folio-noenv-'))), undefined);
    assert.throws(() => loadEnvFile({ FOLIO_ENV_FILE: 'missing.env' }, dir), /does not exist/);
    assert.equal(describeDatabase({ dataDir: '/d', databaseUrl: 'postgres://u:secret@h:5432/db' }), 'PostgreSQL postgres://u:***@h:5432/db');
    assert.equal(describeDatabase({ dataDir: '/d', databaseUrl: undefined }), 'SQLite file /d/folio.sqlite');

    // The CLI, started with only FOLIO_ENV_FILE, uses the database that file names.
    const testDb = await createTestDatabase();
    try {
      const envFile = path.join(dir, 'cli.env');
      fs.writeFileSync(envFile, testDb.databaseUrl ? `DATABASE_URL=${testDb.databaseUrl}\n` : `FOLIO_DATA_DIR=${testDb.dataDir}\n`);
      const created = await cli(['keys', 'create', '--tenant', 'from-env-file'], { FOLIO_ENV_FILE: envFile });
      assert.equal(created.code, 0, created.stderr);
      assert.ok(created.stderr.includes(`settings from ${envFile}`));
      assert.match((await cli(['tenants', 'list'], { FOLIO_ENV_FILE: envFile })).stdout, /from-env-file/);
    } finally {
      await testDb.drop();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
