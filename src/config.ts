import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';

/** Everything the service reads from its environment, parsed once at start. */
export interface Config {
  port: number;
  host: string;
  /** Embedded mode keeps its SQLite file (and blobs) here. */
  dataDir: string;
  /** When set, PostgreSQL is used instead of the embedded SQLite file. */
  databaseUrl: string | undefined;
  /** PostgreSQL pool size per process. */
  databasePoolSize: number;
  bodyLimitBytes: number;
  logLevel: string;
  /** Refuse invoices with more lines than this (a hard size limit). */
  maxLinesPerInvoice: number;
  /** Largest attachment accepted (bytes); a larger upload is a 413 and nothing is stored. */
  maxAttachmentBytes: number;
  /** Most attachments one invoice may hold. */
  maxAttachmentsPerInvoice: number;
  /** History, idempotency and webhooks (docs/history-and-webhooks.md). */
  idempotencyTtlHours: number;
  webhooks: WebhookConfig;
  /** Bulk-change jobs (docs/bulk-jobs.md). */
  jobs: JobWorkerConfig;
  /** Requests per minute per API key, per process (token bucket); 0 turns the limit off. */
  rateLimitPerMinute: number;
  /** Tokens a process takes from a key's shared bucket at once (PostgreSQL); 0 = by the limit (rate-limit.ts). */
  rateLimitLeaseTokens: number;
  /** Bytes of rendered GET /v1/invoices/{id} answers each process keeps (read-cache.ts); 0 turns the cache off. */
  invoiceReadCacheBytes: number;
  /** Invoice lines (plus one per invoice) each process keeps as bases for writes that skip the lock and read (write-base-cache.ts); 0 turns it off. */
  writeBaseCacheLines: number;
  /** When set, GET /metrics needs `Authorization: Bearer <token>`; otherwise it is open (scrape on a private network). */
  metricsToken: string | undefined;
  web: WebConfig;
}

/** The web app for finance staff (docs/web.md). */
export interface WebConfig {
  /** Mark the session cookie Secure (set when the app is served over https). */
  secureCookies: boolean;
  sessionHours: number;
  /** Wrong passwords within `lockoutMinutes` before sign-in is refused for the rest of that window. */
  maxFailedSignIns: number;
  lockoutMinutes: number;
}

export interface JobWorkerConfig {
  /** Run the job worker in this process (FOLIO_JOB_WORKER, default on). */
  workerEnabled: boolean;
  /** How often an idle worker looks for work. */
  pollMs: number;
  /** Items claimed per round. */
  batchSize: number;
}

export interface WebhookConfig {
  dispatcherEnabled: boolean;
  pollMs: number;
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  concurrency: number;
  /** Allow endpoints on loopback/private/link-local addresses (tests, trusted networks only). */
  allowPrivateTargets: boolean;
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: intFromEnv(env, 'PORT', 3000),
    host: env.HOST ?? '127.0.0.1',
    dataDir: path.resolve(env.FOLIO_DATA_DIR ?? './data'),
    databaseUrl: env.DATABASE_URL || undefined,
    databasePoolSize: intFromEnv(env, 'FOLIO_DB_POOL_SIZE', 20),
    bodyLimitBytes: intFromEnv(env, 'FOLIO_BODY_LIMIT_BYTES', 2 * 1024 * 1024),
    logLevel: env.FOLIO_LOG_LEVEL ?? (env.NODE_ENV === 'test' ? 'silent' : 'info'),
    maxLinesPerInvoice: intFromEnv(env, 'FOLIO_MAX_LINES', 1000),
    maxAttachmentBytes: intFromEnv(env, 'FOLIO_MAX_ATTACHMENT_BYTES', 25 * 1024 * 1024),
    maxAttachmentsPerInvoice: intFromEnv(env, 'FOLIO_MAX_ATTACHMENTS', 100),
    idempotencyTtlHours: Math.max(24, intFromEnv(env, 'FOLIO_IDEMPOTENCY_TTL_HOURS', 24)),
    webhooks: {
      dispatcherEnabled: (env.FOLIO_WEBHOOK_DISPATCHER ?? 'on') !== 'off',
      pollMs: Math.max(10, intFromEnv(env, 'FOLIO_WEBHOOK_POLL_MS', 1000)),
      timeoutMs: Math.max(100, intFromEnv(env, 'FOLIO_WEBHOOK_TIMEOUT_MS', 10_000)),
      maxAttempts: Math.max(1, intFromEnv(env, 'FOLIO_WEBHOOK_MAX_ATTEMPTS', 12)),
      retryBaseMs: intFromEnv(env, 'FOLIO_WEBHOOK_RETRY_BASE_MS', 5_000),
      retryMaxMs: intFromEnv(env, 'FOLIO_WEBHOOK_RETRY_MAX_MS', 6 * 60 * 60 * 1000),
      concurrency: Math.max(1, intFromEnv(env, 'FOLIO_WEBHOOK_CONCURRENCY', 8)),
      allowPrivateTargets: env.FOLIO_WEBHOOKS_ALLOW_PRIVATE === 'true',
    },
    jobs: {
      workerEnabled: (env.FOLIO_JOB_WORKER ?? 'on') !== 'off',
      pollMs: Math.max(10, intFromEnv(env, 'FOLIO_JOB_POLL_MS', 500)),
      batchSize: Math.max(1, intFromEnv(env, 'FOLIO_JOB_BATCH_SIZE', 50)),
    },
    rateLimitPerMinute: intFromEnv(env, 'FOLIO_RATE_LIMIT_PER_MINUTE', 6000),
    rateLimitLeaseTokens: Math.max(0, intFromEnv(env, 'FOLIO_RATE_LIMIT_LEASE_TOKENS', 0)),
    invoiceReadCacheBytes: intFromEnv(env, 'FOLIO_INVOICE_READ_CACHE_BYTES', 32 * 1024 * 1024),
    writeBaseCacheLines: Math.max(0, intFromEnv(env, 'FOLIO_WRITE_BASE_CACHE_LINES', 50_000)),
    web: {
      secureCookies: env.FOLIO_WEB_SECURE_COOKIES === 'true' || (env.FOLIO_PUBLIC_URL ?? '').startsWith('https://'),
      sessionHours: Math.max(1, intFromEnv(env, 'FOLIO_WEB_SESSION_HOURS', 12)),
      maxFailedSignIns: Math.max(1, intFromEnv(env, 'FOLIO_WEB_MAX_FAILED_SIGN_INS', 5)),
      lockoutMinutes: Math.max(1, intFromEnv(env, 'FOLIO_WEB_LOCKOUT_MINUTES', 15)),
    },
    metricsToken: env.FOLIO_METRICS_TOKEN || undefined,
  };
}

/**
 * The server and the CLI read the same settings file, so they cannot silently use different
 * databases: `FOLIO_ENV_FILE`, else `./.env` when it exists. Variables already set in the
 * environment win over the file. Returns the file read, if any.
 */
export function loadEnvFile(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string | undefined {
  const file = env.FOLIO_ENV_FILE ? path.resolve(cwd, env.FOLIO_ENV_FILE) : path.join(cwd, '.env');
  if (!fs.existsSync(file)) {
    if (env.FOLIO_ENV_FILE) throw new Error(`FOLIO_ENV_FILE names ${file}, which does not exist`);
    return undefined;
  }
  for (const [name, value] of Object.entries(parseEnv(fs.readFileSync(file, 'utf8')))) {
    if (env[name] === undefined) env[name] = value;
  }
  return file;
}

/** Which database a config uses, for people: the SQLite file, or the PostgreSQL URL without its password. */
export function describeDatabase(config: Pick<Config, 'dataDir' | 'databaseUrl'>): string {
  if (!config.databaseUrl) return `SQLite file ${path.join(config.dataDir, 'folio.sqlite')}`;
  try {
    const url = new URL(config.databaseUrl);
    if (url.password) url.password = '***';
    return `PostgreSQL ${url.toString()}`;
  } catch {
    return 'PostgreSQL (DATABASE_URL)';
  }
}
