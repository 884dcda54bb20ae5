/**
 * The "raw over HTTP" side of bench:issue18: the least any Node HTTP API can do for Folio's PATCH.
 * A bare Fastify server (no auth, validation, rules, logging or metrics) whose one route takes the
 * benchmark's PATCH body (`line_operations` + `memo`) and runs the raw minimal transaction of
 * bench/lib/pgbench.ts (`minimalUpdateScript`): BEGIN; lock the invoice; one CTE that updates the lines
 * with amounts recomputed in SQL, the header's totals, and inserts the audit row and the outbox event;
 * COMMIT — as named prepared statements through pg, one pooled client per request. It answers 200 with
 * the new version as ETag. Figures: the ceiling a Node server reaches on this machine, so Folio's own
 * overhead is Folio ÷ this, and the HTTP server's is this ÷ pgbench.
 * With RAW_HTTP_SQLITE_FILE, the same route runs the raw SQLite transaction instead (bench/lib/raw-sqlite.ts:
 * better-sqlite3 prepared statements, BEGIN IMMEDIATE … COMMIT per request, synchronous=FULL), the SQLite
 * side's ceiling for a Node HTTP server.
 * Environment: DATABASE_URL or RAW_HTTP_SQLITE_FILE, RAW_HTTP_TENANTS (JSON: API key → tenant id),
 * RAW_HTTP_POOL_SIZE (20). Prints `listening <port>` once ready.
 */
import Fastify from 'fastify';
import pg from 'pg';
import { openRawSqlite } from './raw-sqlite.js';

const tenantsByKey = new Map<string, string>(Object.entries(JSON.parse(process.env.RAW_HTTP_TENANTS ?? '{}') as Record<string, string>));
const sqliteFile = process.env.RAW_HTTP_SQLITE_FILE;
const pool = sqliteFile ? undefined : new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.RAW_HTTP_POOL_SIZE ?? 20) });
const sqlite = sqliteFile ? openRawSqlite(sqliteFile) : undefined;
let eventSequence = 0;
const eventIdPrefix = `evt_h${process.pid.toString(36).padStart(5, '0').slice(-5)}`;

const lock = { name: 'raw_http_lock', text: 'SELECT version FROM invoices WHERE tenant_id = $1 AND id = $2 FOR UPDATE' };
const amount = (expression: string) => `round(${expression}, 2)`;
const write = {
  name: 'raw_http_write',
  text: `WITH changed AS (SELECT * FROM unnest($3::text[], $4::numeric[]) AS c(id, quantity)),
lines AS (
  UPDATE invoice_lines l SET quantity = c.quantity, amount_before_discount = ${amount('c.quantity * l.unit_price')}, discount_amount = 0,
    net_amount = ${amount('c.quantity * l.unit_price')}, tax_amount = ${amount('c.quantity * l.unit_price * coalesce(l.tax_rate, 0) / 100')},
    gross_amount = ${amount('c.quantity * l.unit_price')} + ${amount('c.quantity * l.unit_price * coalesce(l.tax_rate, 0) / 100')}
  FROM changed c JOIN invoice_lines old ON old.tenant_id = $1 AND old.invoice_id = $2 AND old.id = c.id
  WHERE l.tenant_id = $1 AND l.invoice_id = $2 AND l.id = c.id
  RETURNING l.net_amount - old.net_amount AS d_net, l.tax_amount - old.tax_amount AS d_tax, l.gross_amount - old.gross_amount AS d_gross
),
header AS (
  UPDATE invoices SET memo = $5, subtotal = subtotal + d.net, tax_total = tax_total + d.tax, total = total + d.gross,
    balance = balance + d.gross, version = version + 1, updated_at = now()::text
  FROM (SELECT coalesce(sum(d_net), 0) AS net, coalesce(sum(d_tax), 0) AS tax, coalesce(sum(d_gross), 0) AS gross FROM lines) d
  WHERE tenant_id = $1 AND id = $2 RETURNING version
),
audit AS (
  INSERT INTO audit_events (tenant_id, invoice_id, version, action, actor_key_id, request_id, reason, changes, created_at)
  SELECT $1, $2, version, 'update', 'key_raw', 'req_raw', NULL, $6, now()::text FROM header
),
outbox AS (
  INSERT INTO events (tenant_id, id, type, resource_type, resource_id, resource_version, data, created_at)
  SELECT $1, 'evt_' || substr(md5(random()::text), 1, 26), 'invoice.updated', 'invoice', $2, version, $7, now()::text FROM header
)
SELECT version FROM header`,
};

interface PatchBody {
  memo?: string;
  line_operations?: { id: string; quantity: string }[];
}

const app = Fastify({ logger: false });
app.patch<{ Params: { id: string }; Body: PatchBody }>('/v1/invoices/:id', async (request, reply) => {
  const tenantId = tenantsByKey.get(String(request.headers.authorization ?? '').replace(/^Bearer /, ''));
  if (!tenantId) return reply.code(401).send({ error: 'unknown key' });
  const operations = request.body.line_operations ?? [];
  if (sqlite) {
    eventSequence += 1;
    const version = sqlite.update(tenantId, request.params.id, operations, request.body.memo ?? null, eventIdPrefix + String(eventSequence).padStart(20, '0'));
    if (version === undefined) return reply.code(404).send({ error: 'no such invoice' });
    return reply.header('etag', `"${version}"`).send({ id: request.params.id, version });
  }
  const changes = JSON.stringify([{ path: '/memo', to: request.body.memo }, ...operations.map((operation) => ({ path: `/lines/${operation.id}/quantity`, to: operation.quantity }))]);
  const client = await pool!.connect();
  try {
    await client.query('BEGIN');
    await client.query({ ...lock, values: [tenantId, request.params.id] });
    const written = await client.query<{ version: number }>({
      ...write,
      values: [tenantId, request.params.id, operations.map((operation) => operation.id), operations.map((operation) => operation.quantity), request.body.memo ?? null, changes, `{"changes":${changes}}`],
    });
    await client.query('COMMIT');
    const version = written.rows[0]?.version;
    if (version === undefined) return reply.code(404).send({ error: 'no such invoice' });
    return reply.header('etag', `"${version}"`).send({ id: request.params.id, version });
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
});

const address = await app.listen({ port: 0, host: '127.0.0.1' });
console.log(`listening ${new URL(address).port}`);
const stop = async () => {
  await app.close();
  await pool?.end();
  sqlite?.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
