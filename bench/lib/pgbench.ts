/**
 * The raw-SQL limit: the same update transaction Folio performs, as a pgbench custom script
 * (prepared statements, no HTTP, no application code).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { round } from './common.js';

/** BENCH_PGBENCH, else pgbench on PATH, else the newest /usr/lib/postgresql/<v>/bin/pgbench; undefined when absent. */
export function findPgbench(): string | undefined {
  // BENCH_PGBENCH=none behaves as if pgbench were not installed (how the skip is tested).
  if (process.env.BENCH_PGBENCH === 'none') return undefined;
  if (process.env.BENCH_PGBENCH) return process.env.BENCH_PGBENCH;
  const onPath = spawnSync('sh', ['-c', 'command -v pgbench'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath;
  const base = '/usr/lib/postgresql';
  if (!fs.existsSync(base)) return undefined;
  const versions = fs.readdirSync(base).sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const candidate = path.join(base, version, 'bin', 'pgbench');
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * One transaction, as Folio runs it for "PATCH 3 of 10 lines + the memo":
 * lock and read the invoice, read its lines, update 3 lines (quantity and computed amounts),
 * update the header (memo, totals from the lines, version + 1), insert the audit event and
 * the outbox event. Ids follow bench/lib/seed.ts.
 */
export function updateScript(linesPerInvoice: number, linesToChange: number): string {
  const invoiceId = `'inv_' || :tag || lpad(:n::text, 21, '0')`;
  const lineId = (i: number) => `'lin_' || :tag || lpad(:n::text, 15, '0') || lpad(:p${i}::text, 6, '0')`;
  const where = `tenant_id = :tenant AND id = ${invoiceId}`;
  const positions = Array.from({ length: linesToChange }, (_, i) => {
    // Distinct positions: each change picks from its own slice of the invoice.
    const slice = Math.floor(linesPerInvoice / linesToChange);
    return `\\set p${i} random(${i * slice + 1}, ${(i + 1) * slice})\n\\set q${i} random(1, 999)`;
  });
  const lineUpdates = Array.from(
    { length: linesToChange },
    (_, i) => `UPDATE invoice_lines SET quantity = :q${i}, amount_before_discount = round(:q${i} * unit_price, 2),
  discount_amount = 0, net_amount = round(:q${i} * unit_price, 2),
  tax_amount = round(:q${i} * unit_price * coalesce(tax_rate, 0) / 100, 2),
  gross_amount = round(:q${i} * unit_price, 2) + round(:q${i} * unit_price * coalesce(tax_rate, 0) / 100, 2)
  WHERE tenant_id = :tenant AND invoice_id = ${invoiceId} AND id = ${lineId(i)};`,
  );
  const change = `{"path":"/lines/lin_x/quantity","from":"2","to":"17.5"},{"path":"/lines/lin_x/net_amount","from":"20.00","to":"175.00"}`;
  const changes = `[{"path":"/memo","from":"a","to":"b"},${Array(linesToChange).fill(change).join(',')},{"path":"/total","from":"1.00","to":"2.00"}]`;
  return `\\set n random(1, :ninv)
${positions.join('\n')}
BEGIN;
SELECT * FROM invoices WHERE ${where} FOR UPDATE;
SELECT * FROM invoice_lines WHERE tenant_id = :tenant AND invoice_id = ${invoiceId} ORDER BY position;
${lineUpdates.join('\n')}
UPDATE invoices SET memo = 'raw update ' || :q0, subtotal = s.net, tax_total = s.tax, total = s.gross, balance = s.gross - amount_paid,
  version = version + 1, updated_at = now()::text
  FROM (SELECT sum(net_amount) AS net, sum(tax_amount) AS tax, sum(gross_amount) AS gross FROM invoice_lines WHERE tenant_id = :tenant AND invoice_id = ${invoiceId}) s
  WHERE ${where} RETURNING version AS new_version \\gset
INSERT INTO audit_events (tenant_id, invoice_id, version, action, actor_key_id, request_id, reason, changes, created_at)
  VALUES (:tenant, ${invoiceId}, :new_version, 'update', 'key_raw', 'req_raw', NULL, '${changes}', now()::text);
INSERT INTO events (tenant_id, id, type, resource_type, resource_id, resource_version, data, created_at)
  VALUES (:tenant, 'evt_' || substr(md5(random()::text), 1, 26), 'invoice.updated', 'invoice', ${invoiceId}, :new_version, '{"changes":${changes}}', now()::text);
END;
`;
}

export interface PgbenchResult {
  clients: number;
  durationSec: number;
  perSec: number;
  transactions: number;
  failed: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * The minimal durable transaction for the same change (issue 18's raw comparator): BEGIN; lock-read
 * the invoice (SELECT … FOR UPDATE); ONE write statement — a CTE that updates the changed lines,
 * the header (memo, totals adjusted by the lines' differences, version + 1), and inserts the audit
 * row and the outbox event; COMMIT. Four round trips, each a prepared statement under
 * `pgbench -M prepared`. Uses :tenant, :tag and :ninv like updateScript.
 */
export function minimalUpdateScript(linesPerInvoice: number, linesToChange: number): string {
  const invoiceId = `'inv_' || :tag || lpad(:n::text, 21, '0')`;
  const lineId = (i: number) => `'lin_' || :tag || lpad(:n::text, 15, '0') || lpad(:p${i}::text, 6, '0')`;
  const slice = Math.floor(linesPerInvoice / linesToChange);
  const positions = Array.from({ length: linesToChange }, (_, i) => `\\set p${i} random(${i * slice + 1}, ${(i + 1) * slice})\n\\set q${i} random(1, 999)`);
  const values = Array.from({ length: linesToChange }, (_, i) => `(${lineId(i)}, :q${i}::numeric)`).join(', ');
  const change = `{"path":"/lines/lin_x/quantity","from":"2","to":"17.5"},{"path":"/lines/lin_x/net_amount","from":"20.00","to":"175.00"}`;
  const changes = `[{"path":"/memo","from":"a","to":"b"},${Array(linesToChange).fill(change).join(',')},{"path":"/total","from":"1.00","to":"2.00"}]`;
  const amount = (expression: string) => `round(${expression}, 2)`;
  return `\\set n random(1, :ninv)
${positions.join('\n')}
BEGIN;
SELECT version FROM invoices WHERE tenant_id = :tenant AND id = ${invoiceId} FOR UPDATE;
WITH changed(id, quantity) AS (VALUES ${values}),
lines AS (
  UPDATE invoice_lines l SET quantity = c.quantity, amount_before_discount = ${amount('c.quantity * l.unit_price')}, discount_amount = 0,
    net_amount = ${amount('c.quantity * l.unit_price')}, tax_amount = ${amount('c.quantity * l.unit_price * coalesce(l.tax_rate, 0) / 100')},
    gross_amount = ${amount('c.quantity * l.unit_price')} + ${amount('c.quantity * l.unit_price * coalesce(l.tax_rate, 0) / 100')}
  FROM changed c JOIN invoice_lines old ON old.tenant_id = :tenant AND old.invoice_id = ${invoiceId} AND old.id = c.id
  WHERE l.tenant_id = :tenant AND l.invoice_id = ${invoiceId} AND l.id = c.id
  RETURNING l.net_amount - old.net_amount AS d_net, l.tax_amount - old.tax_amount AS d_tax, l.gross_amount - old.gross_amount AS d_gross
),
header AS (
  UPDATE invoices SET memo = 'raw update ' || :q0, subtotal = subtotal + d.net, tax_total = tax_total + d.tax, total = total + d.gross,
    balance = balance + d.gross, version = version + 1, updated_at = now()::text
  FROM (SELECT coalesce(sum(d_net), 0) AS net, coalesce(sum(d_tax), 0) AS tax, coalesce(sum(d_gross), 0) AS gross FROM lines) d
  WHERE tenant_id = :tenant AND id = ${invoiceId} RETURNING version
),
audit AS (
  INSERT INTO audit_events (tenant_id, invoice_id, version, action, actor_key_id, request_id, reason, changes, created_at)
  SELECT :tenant, ${invoiceId}, version, 'update', 'key_raw', 'req_raw', NULL, '${changes}', now()::text FROM header
)
INSERT INTO events (tenant_id, id, type, resource_type, resource_id, resource_version, data, created_at)
  SELECT :tenant, 'evt_' || substr(md5(random()::text), 1, 26), 'invoice.updated', 'invoice', ${invoiceId}, version, '{"changes":${changes}}', now()::text FROM header;
COMMIT;
`;
}

/**
 * A script with its :tenant, :tag and :ninv written in as literals, so several scripts (one per
 * tenant) can run in one pgbench (each transaction picks one of them at random).
 */
export function withLiterals(script: string, values: { tenant: string; tag: string; ninv: number }): string {
  const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;
  return script.replace(/:(tenant|tag|ninv)\b/g, (_, name: 'tenant' | 'tag' | 'ninv') => (name === 'ninv' ? String(values.ninv) : literal(values[name])));
}

export function runPgbench(options: {
  pgbench: string;
  databaseUrl: string;
  script: string;
  clients: number;
  durationSec: number;
  variables: Record<string, string | number>;
}): PgbenchResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-pgbench-'));
  try {
    const args = pgbenchArgs(dir, [options.script], options);
    const run = spawnSync(options.pgbench, args, { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`pgbench failed (${run.status}): ${run.stderr}\n${run.stdout}`);
    return parsePgbench(dir, run.stdout, run.stderr, options);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The same as runPgbench, without blocking the event loop (so samplers keep running), and with several scripts (picked at random per transaction). */
export async function runPgbenchScripts(options: { pgbench: string; databaseUrl: string; scripts: string[]; clients: number; durationSec: number }): Promise<PgbenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-pgbench-'));
  try {
    const args = pgbenchArgs(dir, options.scripts, { ...options, variables: {} });
    const child = spawn(options.pgbench, args);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    if (code !== 0) throw new Error(`pgbench failed (${code}): ${stderr}\n${stdout}`);
    return parsePgbench(dir, stdout, stderr, options);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function pgbenchArgs(dir: string, scripts: string[], options: { databaseUrl: string; clients: number; durationSec: number; variables: Record<string, string | number> }): string[] {
  const files = scripts.map((script, index) => {
    const file = path.join(dir, `update-${index}.sql`);
    fs.writeFileSync(file, script);
    return file;
  });
  return [
    '-n',
    '-M', 'prepared',
    ...files.flatMap((file) => ['-f', file]),
    '-c', String(options.clients),
    '-j', String(Math.min(options.clients, 2)),
    '-T', String(options.durationSec),
    '-l', `--log-prefix=${path.join(dir, 'log')}`,
    ...Object.entries(options.variables).flatMap(([name, value]) => ['-D', `${name}=${value}`]),
    options.databaseUrl,
  ];
}

function parsePgbench(dir: string, stdout: string, stderr: string, options: { clients: number; durationSec: number }): PgbenchResult {
  const transactions = Number(/number of transactions actually processed: (\d+)/.exec(stdout)?.[1] ?? 0);
  const failed = Number(/number of failed transactions: (\d+)/.exec(stdout)?.[1] ?? 0);
  const latenciesUs: number[] = [];
  for (const file of fs.readdirSync(dir).filter((name) => name.startsWith('log'))) {
    for (const line of fs.readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      const fields = line.split(' ');
      if (fields.length >= 3) latenciesUs.push(Number(fields[2]));
    }
  }
  latenciesUs.sort((a, b) => a - b);
  const percentile = (p: number) => (latenciesUs.length === 0 ? 0 : round(latenciesUs[Math.min(latenciesUs.length - 1, Math.floor((p / 100) * latenciesUs.length))] / 1000, 2));
  if (transactions === 0) throw new Error(`pgbench processed no transactions:\n${stdout}\n${stderr}`);
  return {
    clients: options.clients,
    durationSec: options.durationSec,
    perSec: round(transactions / options.durationSec, 1),
    transactions,
    failed,
    p50Ms: percentile(50),
    p99Ms: percentile(99),
  };
}
