/**
 * bench:web — how long the server takes to answer the invoice page of a 200-line invoice
 * (target: under 50 ms). In process (app.inject: the whole Fastify pipeline, the session
 * lookup, the service reads — invoice, editability, payments, credit notes, history — and the
 * template render; no sockets), on the embedded SQLite default. The invoice has a few versions
 * so the history timeline has something to say. Also the editor page and a live-totals preview.
 */
import fs from 'node:fs';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { buildApp } from '../src/http/app.js';
import { createApiKey } from '../src/modules/tenants/service.js';
import { createUserService } from '../src/modules/users/service.js';
import { freshDataDir, intSetting, printTable, round, runMain, writeResults } from './lib/common.js';

const lineCount = intSetting('BENCH_WEB_LINES', 200, 200);
const iterations = intSetting('BENCH_WEB_ITERATIONS', 200, 20);
const password = 'bench password 123';

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

runMain(async () => {
  const dataDir = freshDataDir('web');
  const config = loadConfig({ NODE_ENV: 'production', FOLIO_DATA_DIR: dataDir, FOLIO_LOG_LEVEL: 'silent', FOLIO_WEBHOOK_DISPATCHER: 'off', FOLIO_RATE_LIMIT_PER_MINUTE: '0' });
  const database = await openDatabase({ dataDir, databaseUrl: undefined });
  const app = await buildApp({ config, database });
  await app.ready();
  try {
    const { key } = await createApiKey(database.db, { tenantName: 'bench', scopes: ['invoices:write'] });
    await createUserService(database.db).create({ tenantName: 'bench', email: 'bench@example.com', role: 'editor', password });
    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const lines = Array.from({ length: lineCount }, (_, i) => ({ description: `Line ${i + 1} <consulting & travel>`, quantity: String((i % 7) + 1), unit_price: `${100 + i}.50`, tax_rate: i % 3 === 0 ? '24' : '14', ...(i % 10 === 0 ? { discount: { type: 'percent', value: '5' } } : {}) }));
    const created = await app.inject({ method: 'POST', url: '/v1/invoices', headers: auth, payload: JSON.stringify({ lines }) });
    const invoice = JSON.parse(created.body);
    for (let version = 1; version <= 4; version++) {
      await app.inject({ method: 'PATCH', url: `/v1/invoices/${invoice.id}`, headers: { ...auth, 'if-match': `"${version}"` }, payload: JSON.stringify({ memo: `memo ${version}`, line_operations: [{ op: 'update', id: invoice.lines[version].id, quantity: '9' }] }) });
    }

    // Sign in as a person, as the browser would.
    const form = await app.inject({ method: 'GET', url: '/sign-in' });
    const signInToken = String(form.cookies.find((cookie) => cookie.name === 'folio_signin_csrf')?.value);
    const signedIn = await app.inject({
      method: 'POST', url: '/sign-in',
      headers: { cookie: `folio_signin_csrf=${signInToken}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: signInToken, tenant: 'bench', email: 'bench@example.com', password }).toString(),
    });
    const cookie = `folio_session=${signedIn.cookies.find((c) => c.name === 'folio_session')?.value}`;
    const editor = await app.inject({ method: 'GET', url: `/invoices/${invoice.id}/edit`, headers: { cookie } });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(editor.body)?.[1] ?? '';
    // The editor's form as the browser sends it, with one quantity changed.
    const current = JSON.parse((await app.inject({ method: 'GET', url: `/v1/invoices/${invoice.id}`, headers: auth })).body) as { lines: Record<string, unknown>[] };
    const previewBody = new URLSearchParams({ _csrf: csrf, version: '5', currency: 'EUR' });
    current.lines.forEach((line, index) => {
      const discount = line.discount as { type: string; value: string } | null;
      const fields = { id: line.id, parent_line_id: '', description: line.description, quantity: index === 7 ? '3.5' : line.quantity, unit: '', unit_price: line.unit_price, discount_type: discount?.type ?? '', discount_value: discount?.value ?? '', tax_rate: line.tax_rate ?? '' };
      for (const [field, value] of Object.entries(fields)) previewBody.append(`line_${field}`, String(value ?? ''));
    });

    const pages = [
      { page: `invoice page (${lineCount} lines, 5 versions)`, request: { method: 'GET' as const, url: `/invoices/${invoice.id}`, headers: { cookie } } },
      { page: `editor page (${lineCount} lines, with a dry-run preview)`, request: { method: 'GET' as const, url: `/invoices/${invoice.id}/edit`, headers: { cookie } } },
      { page: `live totals preview (${lineCount} lines, dry run)`, request: { method: 'POST' as const, url: `/invoices/${invoice.id}/edit/preview`, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: previewBody.toString() } },
    ];
    const rows: Record<string, unknown>[] = [];
    for (const { page, request } of pages) {
      const first = await app.inject(request);
      if (first.statusCode !== 200) throw new Error(`${page}: HTTP ${first.statusCode} ${first.body.slice(0, 300)}`);
      for (let i = 0; i < 10; i++) await app.inject(request); // warm-up: JIT, template cache, statement cache
      const timesMs: number[] = [];
      const cpuBefore = process.cpuUsage();
      for (let i = 0; i < iterations; i++) {
        const startedAt = performance.now();
        const reply = await app.inject(request);
        timesMs.push(performance.now() - startedAt);
        if (reply.statusCode !== 200) throw new Error(`${page}: HTTP ${reply.statusCode}`);
      }
      const cpu = process.cpuUsage(cpuBefore);
      timesMs.sort((a, b) => a - b);
      // CPU time per request is the steadier figure on a shared machine (wall time includes waiting for a core).
      rows.push({ page, runs: iterations, 'cpu ms/request': round((cpu.user + cpu.system) / 1000 / iterations), 'median ms': round(percentile(timesMs, 50)), 'p95 ms': round(percentile(timesMs, 95)), 'max ms': round(timesMs[timesMs.length - 1]), 'html KB': round(first.body.length / 1024, 1) });
    }
    printTable(`Web pages, server time per request (in process, SQLite; target < 50 ms for the invoice page)`, rows);
    writeResults('web', { settings: { lineCount, iterations, engine: 'sqlite' }, rows });
  } finally {
    await app.close();
    await database.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
