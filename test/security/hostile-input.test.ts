import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectStatus, startTestApp, type Client, type Reply, type TestApp } from '../helpers/harness.js';
import { AnswerTally, dumpTenant, recordFigures, tenantIdOf } from '../helpers/reliability.js';

/**
 * A list of hostile requests against every write route. Each one is answered with a 4xx
 * problem+json (or, where the body is in fact valid, a 2xx) — never a 5xx — and a refused
 * request leaves the tenant's rows exactly as they were.
 */
interface HostileCase {
  name: string;
  /** Raw bytes or text sent as the body; `body` is JSON-encoded instead. */
  raw?: string | Buffer;
  body?: unknown;
  contentType?: string | null;
  headers?: Record<string, string>;
  /** 'refused' (default): must be a 4xx. 'either': a 2xx is fine too (valid but odd input). */
  outcome?: 'refused' | 'either';
  /** The exact status expected, when it matters (413, 415, …). */
  status?: number;
}

let t: TestApp;
let api: Client;
let tenantId: string;
let invoiceId: string;
let customerId: string;
let lineId: string;

before(async () => {
  t = await startTestApp({ FOLIO_RATE_LIMIT_PER_MINUTE: '0' });
  api = t.client(await t.key('hostile'));
  tenantId = await tenantIdOf(t.database.db, 'hostile');
  customerId = expectStatus(await api.post('/v1/customers', { name: 'Hostile Customer' }), 201).id;
  const invoice = expectStatus(await api.post('/v1/invoices', { currency: 'EUR', lines: [{ description: 'Seed', quantity: '1', unit_price: '5.00' }] }), 201);
  invoiceId = invoice.id;
  lineId = invoice.lines[0].id;
});
after(() => t.close());

const nested = (depth: number, open: string, close: string, inner = '1') => open.repeat(depth) + inner + close.repeat(depth);
const tenMegabytes = 'x'.repeat(10 * 1024 * 1024);

/** Requests that are hostile whatever the route: framing, encoding and structure. */
/** {"a": {"a": … 1}} with `levels` levels. */
function nestedValue(levels: number): unknown {
  let value: unknown = 1;
  for (let level = 1; level < levels; level++) value = { a: value };
  return value;
}

function genericCases(): HostileCase[] {
  return [
    { name: 'empty body', raw: '' },
    { name: 'whitespace body', raw: '   \n ' },
    { name: 'JSON null', raw: 'null' },
    { name: 'JSON array', raw: '[]' },
    { name: 'JSON string', raw: '"hello"' },
    { name: 'JSON number', raw: '42' },
    { name: 'JSON true', raw: 'true' },
    { name: 'truncated JSON', raw: '{"memo":' },
    { name: 'trailing garbage', raw: '{"memo":"a"} x' },
    { name: 'single quotes', raw: "{'memo':'a'}" },
    { name: 'comments in JSON', raw: '{/* hi */"memo":"a"}' },
    { name: 'NaN literal', raw: '{"memo":NaN}' },
    { name: 'Infinity literal', raw: '{"total":Infinity}' },
    { name: 'object nested 10,000 deep', raw: `{"metadata":${nested(10_000, '{"a":', '}', '"x"')}}` },
    { name: 'array nested 100,000 deep', raw: `{"lines":${nested(100_000, '[', ']')}}` },
    { name: 'object nested 40 deep', raw: `{"metadata":${nested(40, '{"a":', '}', '"x"')}}` },
    { name: 'duplicate keys', raw: '{"name":"A","name":"B","memo":"x","memo":"y"}' },
    { name: '__proto__ key at top', raw: '{"__proto__":{"isAdmin":true}}' },
    { name: 'constructor.prototype key', raw: '{"constructor":{"prototype":{"isAdmin":true}}}' },
    { name: '__proto__ inside metadata', raw: '{"metadata":{"__proto__":"x"}}' },
    { name: 'prototype key nested in lines', raw: '{"lines":[{"prototype":{"x":1}}]}' },
    { name: 'invalid UTF-8 bytes in a string', raw: Buffer.from([0x7b, 0x22, 0x6d, 0x65, 0x6d, 0x6f, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]) },
    { name: 'UTF-16 body declared as JSON', raw: Buffer.from('{"memo":"a"}', 'utf16le') },
    { name: 'lone surrogate escape', raw: '{"memo":"\\ud800"}', outcome: 'either' },
    { name: 'NUL byte escaped in a string', raw: '{"memo":"a\\u0000b","name":"a\\u0000b"}' },
    { name: 'raw control characters in a string', raw: '{"memo":"a\u0001\u0002b"}' },
    { name: '10 MB string', raw: `{"memo":"${tenMegabytes}","name":"${tenMegabytes}"}`, status: 413 },
    { name: 'text/plain content type', raw: '{"memo":"a"}', contentType: 'text/plain', status: 415 },
    { name: 'form content type', raw: 'memo=a', contentType: 'application/x-www-form-urlencoded', status: 415 },
    { name: 'multipart content type', raw: '--x\r\n\r\n--x--', contentType: 'multipart/form-data; boundary=x', status: 415 },
    { name: 'no content type with a body', raw: '{"memo":"a"}', contentType: null },
    { name: 'garbage content type', raw: '{"memo":"a"}', contentType: '%%%/;;;' },
    { name: 'JSON declared as UTF-16 charset', raw: '{"memo":"a"}', contentType: 'application/json; charset=utf-16', outcome: 'either' },
    { name: 'unknown top-level field', body: { memo: 'x', name: 'x', surprise: true } },
    { name: 'header If-Match garbage', body: { memo: 'x', name: 'x' }, headers: { 'if-match': 'garbage' } },
    { name: 'header If-Match huge version', body: { memo: 'x', name: 'x' }, headers: { 'if-match': '"9999999999999999999"' } },
    { name: 'header If-Match 10 kB', body: { memo: 'x', name: 'x' }, headers: { 'if-match': `"${'1'.repeat(10_000)}"` } },
  ];
}

const line = (overrides: Record<string, unknown>) => ({ description: 'L', quantity: '1', unit_price: '1.00', ...overrides });
const withLine = (overrides: Record<string, unknown>) => ({ lines: [line(overrides)] });

/** Field-level hostility on invoice writes: numbers, dates, sizes, references. */
function invoiceCases(): HostileCase[] {
  const numberCases: HostileCase[] = [
    ...['quantity', 'unit_price', 'tax_rate'].flatMap((field) => [
      { name: `${field} 1e400 (JSON number)`, raw: `{"lines":[{"description":"L","quantity":"1","unit_price":"1","${field}":1e400}]}` },
      { name: `${field} "NaN"`, body: withLine({ [field]: 'NaN' }) },
      { name: `${field} "Infinity"`, body: withLine({ [field]: 'Infinity' }) },
      { name: `${field} "-Infinity"`, body: withLine({ [field]: '-Infinity' }) },
      { name: `${field} "1e999999999"`, body: withLine({ [field]: '1e999999999' }) },
      { name: `${field} 70 digits`, body: withLine({ [field]: '9'.repeat(70) }) },
      { name: `${field} 1e-400`, raw: `{"lines":[{"description":"L","quantity":"1","unit_price":"1","${field}":1e-400}]}` },
      { name: `${field} hex`, body: withLine({ [field]: '0x10' }) },
      { name: `${field} with comma`, body: withLine({ [field]: '1,5' }) },
      { name: `${field} boolean`, body: withLine({ [field]: true }) },
      { name: `${field} object`, body: withLine({ [field]: { value: 1 } }) },
      { name: `${field} 0.1 + 0.2 as JSON float`, raw: `{"lines":[{"description":"L","quantity":"1","unit_price":"1","${field}":0.30000000000000004}]}` },
    ]),
    { name: 'unsafe integer quantity 2^53 + 1', raw: '{"lines":[{"description":"L","quantity":9007199254740993,"unit_price":"1"}]}' },
    { name: 'tax rate negative', body: withLine({ tax_rate: '-5' }) },
    { name: 'tax rate 1000 %', body: withLine({ tax_rate: '1000' }) },
    { name: 'discount percent 150', body: withLine({ discount: { type: 'percent', value: '150' } }) },
    { name: 'discount percent negative', body: withLine({ discount: { type: 'percent', value: '-10' } }) },
    { name: 'discount amount negative', body: withLine({ discount: { type: 'amount', value: '-10' } }) },
    { name: 'discount unknown type', body: withLine({ discount: { type: 'bogo', value: '1' } }) },
    { name: 'payment terms negative days', body: { payment_terms: { net_days: -1 } } },
    { name: 'payment terms 10^9 days', body: { payment_terms: { net_days: 1_000_000_000 } } },
    { name: 'exchange rate negative', body: { exchange_rate: '-1.5' } },
    { name: 'exchange rate zero', body: { exchange_rate: '0' } },
    { name: 'exchange rate "Inf"', body: { exchange_rate: 'Inf' } },
    { name: 'client total mismatching', body: { ...withLine({}), total: '999.99' } },
    { name: 'client total "Infinity"', body: { total: 'Infinity' } },
  ];
  const dateCases: HostileCase[] = ['2026-02-30', '2026-13-01', '0000-00-00', '+275760-09-13', '2026-1-1', '99999-01-01', '2026-02-29', 'yesterday', '', '2026-01-01T00:00:00Z'].map(
    (date) => ({ name: `issue_date ${JSON.stringify(date)}`, body: { issue_date: date, due_date: date } }),
  );
  const sizeCases: HostileCase[] = [
    { name: '10,000 lines', body: { lines: Array.from({ length: 10_000 }, () => line({})) } },
    { name: '1,001 lines', body: { lines: Array.from({ length: 1001 }, () => line({})) } },
    { name: '1,001 line operations', body: { line_operations: Array.from({ length: 1001 }, () => ({ op: 'add', ...line({}) })) } },
    { name: 'metadata with 51 keys', body: { metadata: Object.fromEntries(Array.from({ length: 51 }, (_, index) => [`k${index}`, 'v'])) } },
    { name: 'metadata key of 41 characters', body: { metadata: { ['k'.repeat(41)]: 'v' } } },
    { name: 'metadata empty key', body: { metadata: { '': 'v' } } },
    { name: 'metadata over 32 KiB as JSON', body: { metadata: { k: Array.from({ length: 70 }, () => 'v'.repeat(500)) } } },
    { name: 'metadata nested 9 levels', body: { metadata: { k: nestedValue(9) } } },
    { name: 'metadata nested key of 101 characters', body: { metadata: { k: { ['n'.repeat(101)]: 1 } } } },
    { name: 'memo of 5,001 characters', body: { memo: 'm'.repeat(5001) } },
    { name: 'description of 2,001 characters', body: withLine({ description: 'd'.repeat(2001) }) },
    { name: 'custom fields with 51 keys', body: { custom_fields: Object.fromEntries(Array.from({ length: 51 }, (_, index) => [`f${index}`, { type: 'string', value: 'v' }])) } },
    { name: 'custom field number "NaN"', body: { custom_fields: { f: { type: 'number', value: 'NaN' } } } },
    { name: 'custom field date impossible', body: { custom_fields: { f: { type: 'date', value: '2026-02-31' } } } },
    { name: 'tracking with 11 keys', body: withLine({ tracking: Object.fromEntries(Array.from({ length: 11 }, (_, index) => [`t${index}`, 'v'])) }) },
  ];
  const referenceCases: HostileCase[] = [
    { name: 'currency lower case', body: { currency: 'eur' } },
    { name: 'currency unknown', body: { currency: 'ABC' } },
    { name: 'currency without minor unit (XAU)', body: { currency: 'XAU' } },
    { name: 'customer_id unknown', body: { customer_id: 'cus_doesnotexist' } },
    { name: 'customer_id SQL injection', body: { customer_id: "' OR '1'='1" } },
    { name: 'customer_id of 65 characters', body: { customer_id: 'c'.repeat(65) } },
    { name: 'line update of an unknown line', body: { line_operations: [{ op: 'update', id: 'lin_doesnotexist', quantity: '2' }] } },
    { name: 'line remove of an unknown line', body: { line_operations: [{ op: 'remove', id: 'lin_doesnotexist' }] } },
    { name: 'line add with an id', body: { line_operations: [{ op: 'add', id: 'lin_mine', ...line({}) }] } },
    { name: 'parent_line_id unknown', body: withLine({ parent_line_id: 'lin_doesnotexist' }) },
    { name: 'parent_line_id pointing at itself', body: { line_operations: [{ op: 'update', id: 'LINE', parent_line_id: 'LINE' }] } },
    { name: 'operation unknown', body: { line_operations: [{ op: 'explode', id: 'LINE' }] } },
    { name: 'line position 0', body: { line_operations: [{ op: 'add', position: 0, ...line({}) }] } },
    { name: 'status set by the client', body: { status: 'paid' } },
    { name: 'version set by the client', body: { version: 1 } },
    { name: 'id set by the client', body: { id: 'inv_mine' } },
    { name: 'tenant_id set by the client', body: { tenant_id: 'ten_other' } },
    { name: 'amount_paid set by the client', body: { amount_paid: '100' } },
    { name: 'tax_mode unknown', body: { tax_mode: 'sideways' } },
    { name: 'rounding_mode unknown', body: { rounding_mode: 'banker' } },
    { name: 'right-to-left override and emoji in memo', body: { memo: 'Total \u202E 00.001 🧾' }, outcome: 'either' },
  ];
  return [...numberCases, ...dateCases, ...sizeCases, ...referenceCases];
}

function routes() {
  return [
    { method: 'POST', label: '/v1/invoices', path: () => '/v1/invoices', cases: [...genericCases(), ...invoiceCases()] },
    { method: 'PATCH', label: '/v1/invoices/:id', path: () => `/v1/invoices/${invoiceId}`, cases: [...genericCases(), ...invoiceCases()] },
    { method: 'PUT', label: '/v1/invoices/:id', path: () => `/v1/invoices/${invoiceId}`, cases: [...genericCases(), ...invoiceCases()] },
    { method: 'POST', label: '/v1/customers', path: () => '/v1/customers', cases: genericCases() },
    { method: 'PATCH', label: '/v1/customers/:id', path: () => `/v1/customers/${customerId}`, cases: genericCases() },
  ];
}

function isProblem(reply: Reply): boolean {
  return String(reply.headers['content-type'] ?? '').startsWith('application/problem+json') && reply.body?.status === reply.status;
}

/** The placeholder LINE stands for the seeded invoice's real line id. */
function withRealIds(body: unknown): unknown {
  return JSON.parse(JSON.stringify(body).replaceAll('"LINE"', JSON.stringify(lineId)));
}

describe('hostile input', () => {
  const tally = new AnswerTally();
  after(() => recordFigures('hostile-input/cases', { inputsTried: tally.tried, serverErrors: tally.serverErrors }));

  for (const route of routes()) {
    test(`${route.method} ${route.label}: ${route.cases.length} hostile cases`, async () => {
      const failures: string[] = [];
      for (const hostile of route.cases) {
        const url = route.path();
        const before = await dumpTenant(t.database.db, tenantId);
        const headers: Record<string, string> = { ...hostile.headers };
        if (hostile.contentType !== null) headers['content-type'] = hostile.contentType ?? 'application/json';
        const rawBody = hostile.raw ?? JSON.stringify(withRealIds(hostile.body));
        const reply = await api.request(route.method, url, { rawBody, headers });
        tally.see(reply.status, `${route.method} ${url} ${hostile.name} → ${reply.status} ${reply.text.slice(0, 200)}`);
        const after = await dumpTenant(t.database.db, tenantId);
        const label = `${hostile.name} → ${reply.status} ${reply.text.slice(0, 200)}`;
        if (reply.status >= 500) failures.push(`5xx: ${label}`);
        else if (hostile.status !== undefined && reply.status !== hostile.status) failures.push(`expected ${hostile.status}: ${label}`);
        else if (reply.status >= 400) {
          if (!isProblem(reply)) failures.push(`not problem+json: ${label}`);
          if (after !== before) failures.push(`refused but changed the database: ${label}`);
        } else if ((hostile.outcome ?? 'refused') === 'refused') failures.push(`accepted: ${label}`);
      }
      assert.deepEqual(failures, []);
    });
  }

  test('no stored amount is NaN, Infinity or in exponent notation', async () => {
    const amount = /^-?\d+(\.\d+)?$/;
    const invoices = await t.database.db.selectFrom('invoices').selectAll().where('tenant_id', '=', tenantId).execute();
    const lines = await t.database.db.selectFrom('invoice_lines').selectAll().where('tenant_id', '=', tenantId).execute();
    const bad: string[] = [];
    for (const row of invoices) for (const field of ['subtotal', 'tax_total', 'total', 'balance', 'amount_paid'] as const) if (!amount.test(String(row[field]))) bad.push(`${row.id}.${field}=${row[field]}`);
    for (const row of lines) for (const field of ['quantity', 'unit_price', 'net_amount', 'gross_amount'] as const) if (!amount.test(String(row[field]))) bad.push(`${row.id}.${field}=${row[field]}`);
    assert.deepEqual(bad, []);
    assert.ok(invoices.length >= 1);
  });

  test('the list has at least 100 cases', () => {
    assert.ok(routes().reduce((sum, route) => sum + route.cases.length, 0) >= 100);
  });
});
