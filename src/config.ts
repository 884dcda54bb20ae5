import path from 'node:path';

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
  /** Requests per minute per API key, per process (token bucket); 0 turns the limit off. */
  rateLimitPerMinute: number;
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
    rateLimitPerMinute: intFromEnv(env, 'FOLIO_RATE_LIMIT_PER_MINUTE', 6000),
  };
}
