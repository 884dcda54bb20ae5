import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig, type Config } from '../../src/config.js';
import { openDatabase, type DatabaseHandle, type Engine } from '../../src/db/database.js';
import { buildApp, type App } from '../../src/http/app.js';
import { createApiKey } from '../../src/modules/tenants/service.js';
import type { Clock } from '../../src/shared/time.js';

/**
 * Test harness: a real database per test file (a fresh SQLite file, or a fresh database on
 * the PostgreSQL server), never a mock. FOLIO_TEST_ENGINE picks the engine.
 */
export const engine: Engine = process.env.FOLIO_TEST_ENGINE === 'postgres' ? 'postgres' : 'sqlite';
export const postgresAdminUrl = process.env.FOLIO_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  dataDir: string;
  databaseUrl: string | undefined;
  drop(): Promise<void>;
}

/** A fresh, empty database; `forEngine` lets a test that compares engines make one of each. */
export async function createTestDatabase(forEngine: Engine = engine): Promise<TestDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-test-'));
  if (forEngine === 'sqlite') {
    return { dataDir, databaseUrl: undefined, drop: async () => fs.rmSync(dataDir, { recursive: true, force: true }) };
  }
  const name = `folio_t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: postgresAdminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(postgresAdminUrl);
  url.pathname = `/${name}`;
  return {
    dataDir,
    databaseUrl: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: postgresAdminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestApp {
  app: App;
  database: DatabaseHandle;
  config: Config;
  testDb: TestDatabase;
  /** A new API key (and its tenant, created when new). */
  key(tenant: string, scopes?: string[]): Promise<string>;
  client(key: string): Client;
  close(): Promise<void>;
}

/** An app on `testDb` with the test settings (`env` overrides them), ready for requests. */
async function appOn(testDb: TestDatabase, env: Record<string, string>, clock: Clock | undefined) {
  const config = loadConfig({
    NODE_ENV: 'test',
    FOLIO_DATA_DIR: testDb.dataDir,
    ...(testDb.databaseUrl ? { DATABASE_URL: testDb.databaseUrl } : {}),
    FOLIO_DB_POOL_SIZE: '10',
    // Tests send bursts far above any real client's rate; the rate-limit test turns it on itself.
    FOLIO_RATE_LIMIT_PER_MINUTE: '0',
    ...env,
  });
  const database = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, poolSize: config.databasePoolSize });
  const app = await buildApp({ config, database, clock });
  await app.ready();
  return {
    app,
    database,
    config,
    close: async () => {
      await app.close();
      await database.close();
    },
  };
}

/**
 * One more app instance on an existing test database, as another process would be (no background
 * workers, pool of 4); `env` overrides settings. The caller closes it (`close`).
 */
export function startAppInstance(testDb: TestDatabase, env: Record<string, string> = {}, options: { clock?: Clock } = {}) {
  return appOn(testDb, { FOLIO_DB_POOL_SIZE: '4', FOLIO_WEBHOOK_DISPATCHER: 'off', FOLIO_JOB_WORKER: 'off', ...env }, options.clock);
}

/** `clock` fixes the time the app's use cases see (default: the system clock). */
export async function startTestApp(env: Record<string, string> = {}, options: { clock?: Clock } = {}): Promise<TestApp> {
  const testDb = await createTestDatabase();
  const { app, database, config, close } = await appOn(testDb, env, options.clock);
  return {
    app,
    database,
    config,
    testDb,
    key: async (tenant, scopes = ['invoices:read', 'invoices:write']) =>
      (await createApiKey(database.db, { tenantName: tenant, scopes })).key,
    client: (key) => new Client(app, key),
    close: async () => {
      await close();
      await testDb.drop();
    },
  };
}

export interface Reply<T = any> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
  text: string;
}

/** A thin API client over Fastify's inject (no sockets; the full HTTP pipeline runs). */
export class Client {
  constructor(readonly app: App, readonly key: string | null) {}

  async request<T = any>(method: string, url: string, options: { body?: unknown; headers?: Record<string, string>; rawBody?: string | Buffer } = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...(this.key ? { authorization: `Bearer ${this.key}` } : {}), ...options.headers };
    let payload: string | Buffer | undefined = options.rawBody;
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await this.app.inject({ method: method as any, url, headers, payload });
    const type = String(response.headers['content-type'] ?? '');
    const body = type.includes('json') && response.body.length > 0 ? JSON.parse(response.body) : response.body;
    return { status: response.statusCode, headers: response.headers as Reply['headers'], body, text: response.body };
  }

  get = <T = any>(url: string, headers?: Record<string, string>) => this.request<T>('GET', url, { headers });
  post = <T = any>(url: string, body?: unknown, headers?: Record<string, string>) => this.request<T>('POST', url, { body, headers });
  patch = <T = any>(url: string, body?: unknown, headers?: Record<string, string>) => this.request<T>('PATCH', url, { body, headers });
  put = <T = any>(url: string, body?: unknown, headers?: Record<string, string>) => this.request<T>('PUT', url, { body, headers });
  delete = <T = any>(url: string, headers?: Record<string, string>) => this.request<T>('DELETE', url, { headers });
}

/** Asserts a problem+json answer with the given status and type slug; returns the body. */
export function expectProblem(reply: Reply, status: number, typeSlug?: string) {
  const type = String(reply.headers['content-type'] ?? '');
  if (reply.status !== status || !type.startsWith('application/problem+json')) {
    throw new Error(`expected ${status} problem+json, got ${reply.status} ${type}: ${reply.text.slice(0, 500)}`);
  }
  if (typeSlug && reply.body.type !== `/problems/${typeSlug}`) {
    throw new Error(`expected problem type ${typeSlug}, got ${reply.body.type}: ${reply.text.slice(0, 500)}`);
  }
  return reply.body;
}

export function expectStatus(reply: Reply, status: number) {
  if (reply.status !== status) throw new Error(`expected ${status}, got ${reply.status}: ${reply.text.slice(0, 800)}`);
  return reply.body;
}
