import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase } from '../../src/db/database.js';
import { createApiKey } from '../../src/modules/tenants/service.js';
import { engine } from '../helpers/harness.js';
import { checkInvoiceIntegrity, profile, recordFigures, scaled } from '../helpers/reliability.js';
import { freePort, startServerProcess, type ServerProcess } from '../helpers/server-process.js';

/**
 * The database goes away (long profile, PostgreSQL engine): a private PostgreSQL instance —
 * never the machine's shared one — is killed with SIGKILL under load, then restarted. While
 * it is down the service answers 503 problem+json with Retry-After and does not crash; when
 * it is back, writes succeed again and every acknowledged write is still there.
 */
const outages = scaled(2, 5);
const enabled = engine === 'postgres' && (profile === 'long' || process.env.FOLIO_TEST_DB_OUTAGE === '1');

function postgresBinDir(): string {
  if (process.env.FOLIO_TEST_PG_BIN) return process.env.FOLIO_TEST_PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  if (versions.length === 0) throw new Error('no PostgreSQL binaries found; set FOLIO_TEST_PG_BIN');
  return path.join(root, versions[0], 'bin');
}

/** PostgreSQL refuses to run as root: as root, run its binaries as the postgres user. */
const asRoot = process.getuid?.() === 0;
const command = (binary: string, args: string[]) => (asRoot ? { file: 'runuser', args: ['-u', 'postgres', '--', binary, ...args] } : { file: binary, args });

class PrivatePostgres {
  process: ChildProcess | null = null;
  constructor(readonly dataDir: string, readonly port: number, readonly binDir: string) {}

  static async create(): Promise<PrivatePostgres> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-pg-'));
    if (asRoot) spawnSync('chown', ['-R', 'postgres', dataDir]);
    const instance = new PrivatePostgres(dataDir, await freePort(), postgresBinDir());
    const init = command(path.join(instance.binDir, 'initdb'), ['-D', path.join(dataDir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    const result = spawnSync(init.file, init.args, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`initdb failed: ${result.stderr}`);
    return instance;
  }

  get url() {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async start(): Promise<void> {
    const start = command(path.join(this.binDir, 'postgres'), ['-D', path.join(this.dataDir, 'data'), '-p', String(this.port), '-k', this.dataDir, '-c', 'listen_addresses=127.0.0.1']);
    for (let attempt = 0; attempt < 100; attempt += 1) {
      this.process = spawn(start.file, start.args, { stdio: 'ignore' });
      if (await this.waitReady(15_000)) return;
      this.process.kill('SIGKILL');
      await sleep(200); // e.g. orphaned backends of the killed server still hold the shared memory
    }
    throw new Error('private PostgreSQL did not start');
  }

  private async waitReady(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    this.process!.once('exit', () => (exited = true));
    while (Date.now() < deadline && !exited) {
      const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 1000 });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return true;
      } catch {
        await client.end().catch(() => {});
        await sleep(100);
      }
    }
    return false;
  }

  /** SIGKILL of the postmaster (the PID in postmaster.pid), as a crash or an OOM kill would do. */
  async kill(): Promise<void> {
    const pidFile = path.join(this.dataDir, 'data', 'postmaster.pid');
    const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    await new Promise((resolve) => (this.process && this.process.exitCode === null ? this.process.once('exit', resolve) : resolve(null)));
  }

  async destroy(): Promise<void> {
    try {
      await this.kill();
    } catch {
      // already gone
    }
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let database: PrivatePostgres;
let server: ServerProcess;
let key: string;
let tenantId: string;

describe('database outage', { skip: enabled ? false : 'long profile on PostgreSQL only (FOLIO_TEST_PROFILE=long, or FOLIO_TEST_DB_OUTAGE=1)' }, () => {
  before(async () => {
    database = await PrivatePostgres.create();
    await database.start();
    const handle = await openDatabase({ dataDir: os.tmpdir(), databaseUrl: database.url, poolSize: 1 });
    const created = await createApiKey(handle.db, { tenantName: 'outage', scopes: ['invoices:read', 'invoices:write'] });
    await handle.close();
    key = created.key;
    tenantId = created.tenantId;
    server = await startServerProcess({ DATABASE_URL: database.url, FOLIO_DB_POOL_SIZE: '4', FOLIO_RATE_LIMIT_PER_MINUTE: '0' });
  });
  after(async () => {
    await server?.kill('SIGKILL');
    await database?.destroy();
  });

  async function send(method: string, url: string, body?: unknown) {
    const response = await fetch(server.baseUrl + url, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  }

  test(`${outages} SIGKILLs of PostgreSQL under load: 503 while down, no crash, recovery, nothing acknowledged lost`, { timeout: 600_000 }, async () => {
    const invoice = (await send('POST', '/v1/invoices', { currency: 'EUR' })).body;
    const acked: string[] = [];
    let answersWhileDown = 0;
    let survived = 0;
    for (let outage = 1; outage <= outages; outage += 1) {
      // Load: sequential line additions, some acknowledged before the kill.
      for (let index = 0; index < 5; index += 1) {
        const description = `outage ${outage} line ${index}`;
        const reply = await send('PATCH', `/v1/invoices/${invoice.id}`, { line_operations: [{ op: 'add', description, quantity: '1', unit_price: '3.00' }] });
        assert.equal(reply.status, 200, JSON.stringify(reply.body));
        acked.push(description);
      }
      const inFlight = Array.from({ length: 4 }, (_, index) =>
        send('PATCH', `/v1/invoices/${invoice.id}`, { line_operations: [{ op: 'add', description: `in flight ${outage}/${index}`, quantity: '1', unit_price: '1.00' }] }),
      );
      await database.kill();
      for (const reply of await Promise.all(inFlight)) assert.ok([200, 503].includes(reply.status), JSON.stringify(reply.body));

      for (let index = 0; index < 10; index += 1) {
        const reply = index % 2 === 0 ? await send('GET', `/v1/invoices/${invoice.id}`) : await send('PATCH', `/v1/invoices/${invoice.id}`, { memo: 'while down' });
        assert.equal(reply.status, 503, JSON.stringify(reply.body));
        assert.equal(reply.headers.get('content-type')?.startsWith('application/problem+json'), true);
        assert.equal(reply.body.type, '/problems/service-unavailable');
        assert.ok(reply.headers.get('retry-after'));
        assert.doesNotMatch(JSON.stringify(reply.body), /ECONNREFUSED|127\.0\.0\.1|postgres/i, 'no internals in the answer');
        answersWhileDown += 1;
      }
      assert.equal(server.child.exitCode, null, `the service crashed: ${server.stderr()}`);

      await database.start();
      let recovered = false;
      for (let attempt = 0; attempt < 100 && !recovered; attempt += 1) {
        const reply = await send('GET', `/v1/invoices/${invoice.id}`);
        if (reply.status === 200) recovered = true;
        else {
          assert.equal(reply.status, 503, JSON.stringify(reply.body));
          await sleep(100);
        }
      }
      assert.ok(recovered, 'the service answers again once the database is back');
      const current = (await send('GET', `/v1/invoices/${invoice.id}`)).body;
      const descriptions = new Set(current.lines.map((line: any) => line.description));
      assert.deepEqual(acked.filter((description) => !descriptions.has(description)), [], 'no acknowledged line is lost');
      survived += 1;
    }
    assert.equal(server.child.exitCode, null, `the service crashed: ${server.stderr()}`);
    const handle = await openDatabase({ dataDir: os.tmpdir(), databaseUrl: database.url, poolSize: 1 });
    try {
      assert.deepEqual(await checkInvoiceIntegrity(handle.db, tenantId, invoice.id), []);
    } finally {
      await handle.close();
    }
    recordFigures('crash-safety/database-kill', { databaseKills: outages, databaseKillsSurvived: survived, answers503WhileDown: answersWhileDown, serviceCrashes: server.child.exitCode === null ? 0 : 1 });
  });
});
