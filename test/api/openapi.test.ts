import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { generateSchemaTypes, schemaFile } from '../../clients/typescript/generate.js';
import { engine, startTestApp, type TestApp } from '../helpers/harness.js';

/**
 * The OpenAPI document is made for code generators, and cannot silently regress: operationIds,
 * named schemas, problem answers, a clean lint, and types generated from it that a small
 * openapi-fetch program type-checks against. The document does not depend on the engine.
 */
const skip = engine === 'postgres' ? 'the document is the same on both engines' : false;

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const workDir = path.join(repoRoot, '.tmp', `openapi-${process.pid}`);
let t: TestApp;
let document: any;

before(async () => {
  t = await startTestApp();
  document = JSON.parse((await t.app.inject({ method: 'GET', url: '/openapi.json' })).body);
  fs.mkdirSync(workDir, { recursive: true });
});
after(async () => {
  await t.close();
  fs.rmSync(workDir, { recursive: true, force: true });
});

const operations = () =>
  Object.entries(document.paths as Record<string, Record<string, any>>).flatMap(([url, item]) =>
    Object.entries(item).map(([method, operation]) => ({ url, method, operation })),
  );

describe('OpenAPI document', { skip }, () => {
  test('every operation has a unique operationId and a tag; the invoice ones are named as documented', () => {
    const ids = operations().map(({ method, url, operation }) => {
      assert.match(operation.operationId ?? '', /^[a-z][A-Za-z]+$/, `${method} ${url} has no operationId`);
      assert.ok(operation.tags?.length > 0, `${method} ${url} has no tag`);
      return operation.operationId;
    });
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    const byRoute = Object.fromEntries(operations().map(({ method, url, operation }) => [`${method} ${url}`, operation.operationId]));
    assert.equal(byRoute['get /v1/invoices'], 'listInvoices');
    assert.equal(byRoute['get /v1/invoices/{id}'], 'getInvoice');
    assert.equal(byRoute['post /v1/invoices'], 'createInvoice');
    assert.equal(byRoute['patch /v1/invoices/{id}'], 'updateInvoice');
    assert.equal(byRoute['put /v1/invoices/{id}'], 'replaceInvoice');
    assert.equal(byRoute['post /v1/invoices/{id}/finalize'], 'finalizeInvoice');
  });

  test('named component schemas, referenced with $ref', () => {
    for (const name of ['Invoice', 'InvoiceLine', 'InvoiceWrite', 'InvoiceList', 'Problem', 'Customer', 'Payment', 'CreditNote', 'Attachment']) {
      assert.ok(document.components.schemas[name], `components.schemas.${name}`);
    }
    const created = document.paths['/v1/invoices'].post;
    assert.deepEqual(created.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/InvoiceWrite' });
    assert.deepEqual(created.responses['201'].content['application/json'].schema, { $ref: '#/components/schemas/Invoice' });
    assert.deepEqual(document.components.schemas.Invoice.properties.lines.items, { $ref: '#/components/schemas/InvoiceLine' });
    assert.deepEqual(document.paths['/v1/invoices'].get.responses['200'].content['application/json'].schema, { $ref: '#/components/schemas/InvoiceList' });
    assert.ok(JSON.stringify(document).length < 400_000, 'no large inline copies');
  });

  test('every 4xx/5xx answer is a problem+json response; 412 on If-Match writes, 404 on ids', () => {
    for (const { method, url, operation } of operations()) {
      const statuses = Object.keys(operation.responses);
      assert.ok(statuses.some((status) => status.startsWith('2')), `${method} ${url} documents a success`);
      for (const status of ['400', '401', '500']) assert.ok(statuses.includes(status), `${method} ${url} documents ${status}`);
      if (url.includes('{')) assert.ok(statuses.includes('404'), `${method} ${url} documents 404`);
      for (const status of statuses.filter((s) => Number(s) >= 400)) {
        const ref = operation.responses[status].$ref as string;
        const response = document.components.responses[ref.split('/').pop()!];
        assert.deepEqual(response.content['application/problem+json'].schema, { $ref: '#/components/schemas/Problem' }, `${method} ${url} ${status}`);
      }
    }
    assert.ok('412' in document.paths['/v1/invoices/{id}'].patch.responses);
    assert.ok(document.components.responses.PreconditionFailed.content['application/problem+json'].example.current_version);
  });

  test('examples, the multipart upload body, servers, security, tags', () => {
    assert.ok(document.paths['/v1/invoices'].post.requestBody.content['application/json'].example.lines.length > 0);
    assert.ok(document.components.schemas.Invoice.examples[0].id.startsWith('inv_'));
    const upload = document.paths['/v1/invoices/{id}/attachments'].post.requestBody.content['multipart/form-data'].schema;
    assert.deepEqual(upload.properties.file, { type: 'string', format: 'binary', description: upload.properties.file.description });
    assert.ok(document.servers.length > 0);
    assert.equal(document.components.securitySchemes.bearer.scheme, 'bearer');
    assert.ok(document.tags.some((tag: any) => tag.name === 'invoices' && tag.description));
  });

  test('the document lints clean with Redocly (recommended rules)', () => {
    const file = path.join(workDir, 'openapi.json');
    fs.writeFileSync(file, JSON.stringify(document));
    const result = spawnSync(path.join(repoRoot, 'node_modules', '.bin', 'redocly'), ['lint', file, '--format=json', `--config=${path.join(repoRoot, 'redocly.yaml')}`], {
      encoding: 'utf8',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    const report = JSON.parse(result.stdout.slice(result.stdout.indexOf('{')));
    assert.deepEqual(report.problems.map((problem: any) => `${problem.ruleId}: ${problem.message}`), []);
    assert.equal(result.status, 0);
  });

  test('the committed client types are generated from this document', async () => {
    const fresh = await generateSchemaTypes(document);
    const committed = fs.readFileSync(schemaFile, 'utf8');
    assert.ok(committed.endsWith(fresh), 'clients/typescript/src/schema.ts is stale: run `npm run client:generate`');
  });

  test('openapi-typescript types + openapi-fetch: create, PATCH with If-Match, 412 handling type-check; misuse does not', async () => {
    fs.writeFileSync(path.join(workDir, 'schema.ts'), await generateSchemaTypes(document));
    const program = path.join(workDir, 'program.ts');
    fs.copyFileSync(path.join(repoRoot, 'test', 'fixtures', 'openapi-fetch-program.ts.txt'), program);
    const compiled = ts.createProgram([program], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      skipLibCheck: true,
      types: ['node'],
      lib: ['lib.es2022.d.ts'],
    });
    const diagnostics = ts.getPreEmitDiagnostics(compiled).map((diagnostic) => {
      const line = diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1 : 0;
      return `line ${line}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
    });
    assert.deepEqual(diagnostics, []);
  });
});
