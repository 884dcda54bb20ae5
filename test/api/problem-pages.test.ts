import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { problemTypes, type ProblemType } from '../../src/shared/errors.js';
import { Client, expectProblem, expectStatus, startTestApp } from '../helpers/harness.js';

const slugs = Object.keys(problemTypes) as ProblemType[];

test('every problem type URI resolves on the service itself: HTML for people, JSON for code', async () => {
  const t = await startTestApp();
  const anonymous = new Client(t.app, null);
  try {
    for (const slug of slugs) {
      const html = await anonymous.get(`/problems/${slug}`);
      assert.equal(html.status, 200, slug);
      assert.match(String(html.headers['content-type']), /^text\/html/, slug);
      assert.ok(html.text.includes(problemTypes[slug].title.replace(/'/g, '&#39;')), `${slug}: page shows its title`);
      const json = expectStatus(await anonymous.get(`/problems/${slug}`, { accept: 'application/json' }), 200);
      assert.deepEqual(json, { type: `/problems/${slug}`, slug, status: problemTypes[slug].status, title: problemTypes[slug].title, hint: problemTypes[slug].hint });
    }
    const index = expectStatus(await anonymous.get('/problems', { accept: 'application/json' }), 200);
    assert.deepEqual(index.data.map((entry: { slug: string }) => entry.slug), slugs);
    expectProblem(await anonymous.get('/problems/no-such-type'), 404, 'not-found');
  } finally {
    await t.close();
  }
});

test('the type of a real error answer is a URI the same service resolves; 422s carry rule = the type slug', async () => {
  const t = await startTestApp();
  const client = t.client(await t.key('problem-pages'));
  try {
    const created = expectStatus(await client.post('/v1/invoices', { currency: 'EUR', lines: [{ description: 'A', quantity: '1', unit_price: '10' }] }), 201);
    const parent = created.lines[0].id;
    const child = expectStatus(await client.patch(`/v1/invoices/${created.id}`, { line_operations: [{ op: 'add', description: 'B', unit_price: '1', parent_line_id: parent }] }), 200);
    const childId = child.lines.find((line: { parent_line_id: string | null }) => line.parent_line_id === parent).id;
    const refused = expectProblem(await client.patch(`/v1/invoices/${created.id}`, { line_operations: [{ op: 'add', description: 'C', unit_price: '1', parent_line_id: childId }] }), 422, 'one-level-grouping');
    assert.equal(refused.rule, 'one-level-grouping');
    const page = await new Client(t.app, null).get(refused.type, { accept: 'application/json' });
    assert.equal(expectStatus(page, 200).status, 422);

    const notFound = expectProblem(await client.get('/v1/invoices/inv_missing'), 404, 'not-found');
    assert.equal(notFound.rule, undefined, 'only business-rule refusals (422) carry rule');
  } finally {
    await t.close();
  }
});

test('one problem convention: no generic business-rule type, every thrown type is in the table', () => {
  assert.ok(!('business-rule' in problemTypes));
  const sources: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (full.endsWith('.ts')) sources.push(fs.readFileSync(full, 'utf8'));
    }
  };
  walk('src');
  const thrown = new Set(sources.flatMap((text) => [...text.matchAll(/new AppError\(\s*'([a-z-]+)'/g)].map((match) => match[1])));
  assert.ok(thrown.size > 10);
  for (const type of thrown) assert.ok(type in problemTypes, `AppError type "${type}" is not in the problem table`);
  for (const slug of slugs) assert.ok(problemTypes[slug].hint.length > 20, `${slug} has a hint for its page`);
});
