import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { expectStatus, startTestApp, type Client, type Reply, type TestApp } from '../helpers/harness.js';
import { AnswerTally, dumpTenant, recordFigures, scaled, tenantIdOf } from '../helpers/reliability.js';
import { arbitraryFromSchema } from '../helpers/schema-arbitrary.js';

/**
 * Property-based fuzzing of every write route, generated at run time from /openapi.json:
 * whatever the body, the answer is a 2xx or a 4xx problem+json — never a 5xx — and a
 * refused request (or a dry run) leaves the tenant's rows exactly as they were.
 */
const totalBodies = scaled(2000, 20000);
const totalUrls = scaled(400, 4000);

let t: TestApp;
let api: Client;
let tenantId: string;
let openapi: Record<string, any>;

interface WriteRoute {
  method: string;
  path: string;
  bodySchema: Record<string, any>;
  hasDryRun: boolean;
}

before(async () => {
  t = await startTestApp({ FOLIO_RATE_LIMIT_PER_MINUTE: '0' });
  api = t.client(await t.key('fuzz'));
  tenantId = await tenantIdOf(t.database.db, 'fuzz');
  openapi = expectStatus(await api.get('/openapi.json'), 200);
  // Seed one resource of each kind so that routes with ids have something real to change.
  expectStatus(await api.post('/v1/customers', { name: 'Fuzz Customer', email: 'fuzz@example.com' }), 201);
  expectStatus(await api.post('/v1/invoices', { currency: 'EUR', lines: [{ description: 'Seed', quantity: '2', unit_price: '10.00', tax_rate: '20' }] }), 201);
});
after(() => t.close());

function writeRoutes(): WriteRoute[] {
  const routes: WriteRoute[] = [];
  for (const [path, operations] of Object.entries<Record<string, any>>(openapi.paths)) {
    for (const [method, operation] of Object.entries<any>(operations)) {
      const bodySchema = operation?.requestBody?.content?.['application/json']?.schema;
      if (!['post', 'put', 'patch', 'delete'].includes(method) || !bodySchema) continue;
      const hasDryRun = (operation.parameters ?? []).some((parameter: any) => parameter.in === 'query' && parameter.name === 'dry_run');
      routes.push({ method: method.toUpperCase(), path, bodySchema, hasDryRun });
    }
  }
  return routes;
}

/** Fills each `{param}` with the id of a real resource from the collection it follows (or a made-up id). */
async function concretePaths(route: WriteRoute): Promise<string[]> {
  let paths = [''];
  for (const segment of route.path.split('/').slice(1)) {
    if (!/^\{.+\}$/.test(segment)) {
      paths = paths.map((prefix) => `${prefix}/${segment}`);
      continue;
    }
    const next: string[] = [];
    for (const prefix of paths) {
      const list = await api.get(`${prefix}?limit=5`);
      const ids: string[] = list.status === 200 && Array.isArray(list.body?.data) ? list.body.data.map((item: any) => item.id) : [];
      next.push(...ids.slice(0, 2).map((id) => `${prefix}/${id}`), `${prefix}/zzz_doesnotexist`);
    }
    paths = next;
  }
  return paths;
}

/** Ids a body may mention (so generated bodies sometimes reference real rows). */
async function knownIds(): Promise<Record<string, unknown[]>> {
  const customers = (await api.get('/v1/customers?limit=5')).body.data.map((customer: any) => customer.id);
  const invoices = (await api.get('/v1/invoices?limit=5')).body.data;
  const lineIds = invoices.flatMap((invoice: any) => invoice.lines.map((line: any) => line.id));
  return { customer_id: customers, id: lineIds, parent_line_id: lineIds, invoice_id: invoices.map((invoice: any) => invoice.id) };
}

/** The seed dialects under /compat answer refusals in their own systems' error shapes (their tests check those). */
const isDialect = (url: string) => url.startsWith('/compat/');

function isProblem(reply: Reply): boolean {
  const type = String(reply.headers['content-type'] ?? '');
  return type.startsWith('application/problem+json') && typeof reply.body?.type === 'string' && reply.body.status === reply.status;
}

describe('fuzzing every write route from the OpenAPI document', () => {
  test(`${totalBodies} generated bodies: never a 5xx; refused requests and dry runs change nothing`, async () => {
    const routes = writeRoutes();
    assert.ok(routes.length >= 4, `found write routes: ${routes.map((route) => `${route.method} ${route.path}`).join(', ')}`);
    const hints = await knownIds();
    const tally = new AnswerTally();
    const perRoute = Math.ceil(totalBodies / routes.length);
    let accepted = 0;
    let refused = 0;
    let state = await dumpTenant(t.database.db, tenantId);

    for (const route of routes) {
      const paths = await concretePaths(route);
      const body = arbitraryFromSchema(route.bodySchema, { document: openapi, hints });
      const ifMatch = fc.option(fc.oneof(fc.constantFrom('"1"', '"2"', '*', 'W/"1"', 'garbage', '"99999999999"'), fc.string({ maxLength: 20 })), { freq: 4 });
      const dryRun = route.hasDryRun ? fc.boolean() : fc.constant(false);
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...paths), body, ifMatch, dryRun, async (path, generated, ifMatchValue, dry) => {
          const headers: Record<string, string> = {};
          if (ifMatchValue !== null) headers['if-match'] = ifMatchValue;
          const url = dry ? `${path}?dry_run=true` : path;
          const reply = await api.request(route.method, url, { body: generated, headers });
          tally.see(reply.status, `${route.method} ${url} → ${reply.status}: ${reply.text.slice(0, 300)}`);
          assert.ok(reply.status < 500, `5xx for ${route.method} ${url} ${JSON.stringify(generated).slice(0, 500)}: ${reply.text.slice(0, 300)}`);
          const after = await dumpTenant(t.database.db, tenantId);
          if (reply.status >= 400) {
            refused += 1;
            assert.ok(isDialect(url) || isProblem(reply), `a ${reply.status} must be problem+json: ${reply.text.slice(0, 300)}`);
            assert.equal(after, state, `refused ${route.method} ${url} changed the database: ${JSON.stringify(generated).slice(0, 500)}`);
          } else {
            accepted += 1;
            if (dry) assert.equal(after, state, 'a dry run changed the database');
            state = after;
          }
        }),
        { numRuns: perRoute, endOnFailure: true },
      );
    }
    recordFigures('hostile-input/fuzz', { inputsTried: tally.tried, serverErrors: tally.serverErrors, accepted, refused });
    assert.equal(tally.serverErrors, 0, tally.samples.join('\n'));
    assert.ok(tally.tried >= 2000 || totalBodies < 2000);
    assert.ok(accepted > 0, 'some generated bodies are valid (the generator reaches past validation)');
  });

  test(`${totalUrls} generated path ids and query strings on every route: never a 5xx`, async () => {
    const routes: Array<{ method: string; path: string; query: string[] }> = [];
    for (const [path, operations] of Object.entries<Record<string, any>>(openapi.paths)) {
      for (const [method, operation] of Object.entries<any>(operations)) {
        const query = (operation.parameters ?? []).filter((parameter: any) => parameter.in === 'query').map((parameter: any) => parameter.name);
        if (method === 'get' || /\{/.test(path)) routes.push({ method: method.toUpperCase(), path, query });
      }
    }
    const tally = new AnswerTally();
    const value = fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('', '0', '-1', '101', '1e3', 'null', '%00', '2026-02-30T25:61:00Z', 'Zm9v', '../..', "' OR 1=1 --"));
    const perRoute = Math.ceil(totalUrls / routes.length);
    let state = await dumpTenant(t.database.db, tenantId);
    for (const route of routes) {
      const names = [...route.query, 'unknown_param'];
      await fc.assert(
        fc.asyncProperty(value, fc.dictionary(fc.constantFrom(...names), value, { maxKeys: 3 }), async (id, query) => {
          const path = route.path.replace(/\{[^}]+\}/g, encodeURIComponent(id) || 'x');
          const search = new URLSearchParams(query as Record<string, string>).toString();
          const url = search ? `${path}?${search}` : path;
          const reply = await api.request(route.method, url, route.method === 'GET' ? {} : { body: {} });
          tally.see(reply.status, `${route.method} ${url} → ${reply.status}`);
          assert.ok(reply.status < 500, `5xx for ${route.method} ${url}: ${reply.text.slice(0, 300)}`);
          if (reply.status >= 400) {
            assert.ok(isDialect(url) || isProblem(reply), `a ${reply.status} must be problem+json: ${reply.text.slice(0, 300)}`);
            const after = await dumpTenant(t.database.db, tenantId);
            assert.equal(after, state, `refused ${route.method} ${url} changed the database`);
          } else if (route.method !== 'GET') {
            state = await dumpTenant(t.database.db, tenantId);
          }
        }),
        { numRuns: perRoute, endOnFailure: true },
      );
    }
    recordFigures('hostile-input/urls', { inputsTried: tally.tried, serverErrors: tally.serverErrors });
    assert.equal(tally.serverErrors, 0, tally.samples.join('\n'));
  });
});
