import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Invoice } from '../../src/modules/invoices/domain/model.js';
import { describeChanges, timelineOf } from '../../src/web/history-words.js';
import { applyFormOperation, blankLine, formOf, lineOperationsOf, parseInvoiceForm, reapplyEdits, writeOfForm, type InvoiceForm } from '../../src/web/invoice-form.js';
import { createFormatter, localeFrom } from '../../src/web/format.js';
import { safeNext } from '../../src/web/routes/account.js';
import { loadConfig } from '../../src/config.js';

const line = (id: string, description: string, quantity: string) => ({
  id, position: 1, parent_line_id: null, description, quantity, unit: null, unit_price: '100', discount: null, tax_rate: '24', tax_code: null,
  account_code: null, item_code: null, tracking: null, amount_before_discount: '0', discount_amount: '0', net_amount: '0', tax_amount: '0', gross_amount: '0',
});
const invoice = (version: number, lines: ReturnType<typeof line>[], memo: string | null = null) =>
  ({ id: 'inv_1', version, currency: 'EUR', customer_id: null, number: null, reference: null, purchase_order: null, issue_date: null, due_date: null, payment_terms: null, memo, internal_note: null, lines }) as unknown as Invoice;

test('changes read as sentences, lines named by their description at the time', () => {
  const created = { path: '', from: null, to: { lines: { lin_a: { description: 'Consulting', quantity: '3' } } } };
  const timeline = timelineOf([
    { version: 1, action: 'create', actor_key_id: 'usr_1', request_id: null, reason: null, created_at: '2026-01-01T00:00:00Z', changes: [created] },
    { version: 2, action: 'update', actor_key_id: 'key_1', request_id: null, reason: 'fewer hours', created_at: '2026-01-02T00:00:00Z', changes: [
      { path: '/lines/lin_a/quantity', from: '3', to: '2.5' },
      { path: '/lines/lin_a/net_amount', from: '300', to: '250' },
      { path: '/total', from: '372', to: '310' },
      { path: '/payment_terms', from: null, to: { net_days: 14 } },
    ] },
  ], (actor) => (actor === 'usr_1' ? 'ann@acme.test' : `API key ${actor}`));
  assert.equal(timeline[0].version, 2);
  assert.deepEqual(timeline[0].sentences, ["quantity of 'Consulting' 3 → 2.5", 'total 372 → 310', 'payment terms set to net 14 days']);
  assert.equal(timeline[0].actor, 'API key key_1');
  assert.deepEqual(timeline[1].sentences, ['created with 1 line']);
  assert.deepEqual(describeChanges([{ path: '/lines/lin_b', from: null, to: { description: 'Travel', quantity: '1', unit_price: '50' } }], new Map()), ["added line 'Travel' (1 × 50)"]);
  assert.deepEqual(describeChanges([{ path: '/lines/lin_a/description', from: 'Consulting', to: 'Senior consulting' }], new Map([['lin_a', 'Consulting']])), ["line 'Consulting' renamed → 'Senior consulting'"]);
});

test('only the lines a person moved are "moved"; lines renumbered by an add, a removal or a move are not', () => {
  const names = new Map([['a', 'A'], ['b', 'B'], ['c', 'C'], ['d', 'D'], ['e', 'E']]);
  const position = (id: string, from: number, to: number) => ({ path: `/lines/${id}/position`, from, to });
  // A removed from the top: B..E shift up by one, nobody moved.
  assert.deepEqual(describeChanges([{ path: '/lines/a', from: { description: 'A', position: 1, quantity: '1', unit_price: '1' }, to: null }, position('b', 2, 1), position('c', 3, 2), position('d', 4, 3), position('e', 5, 4)], names), ["removed line 'A' (1 × 1)"]);
  // D moved to the top of A..E: A, B, C shift down; only D moved.
  assert.deepEqual(describeChanges([position('a', 1, 2), position('b', 2, 3), position('c', 3, 4), position('d', 4, 1)], names), ["moved 'D' from place 4 to 1"]);
  // B and D swap around C (unchanged, not in the diff): one of them moved past C and the other.
  assert.equal(describeChanges([position('b', 2, 4), position('d', 4, 2)], names).length, 1);
  // A line added at the top renumbers everything below it.
  assert.deepEqual(describeChanges([{ path: '/lines/n', from: null, to: { description: 'New', position: 1, quantity: '1', unit_price: '2' } }, position('a', 1, 2), position('b', 2, 3)], names), ["added line 'New' (1 × 2)"]);
});

test('re-applying edits keeps the other save and the user\'s own changes', () => {
  const base = formOf(invoice(1, [line('lin_a', 'Consulting', '3'), line('lin_b', 'Travel', '1')]));
  const theirs = formOf(invoice(2, [line('lin_a', 'Senior consulting', '3'), line('lin_b', 'Travel', '1')], 'their memo'));
  const mine: InvoiceForm = structuredClone(base);
  mine.lines[0].quantity = '2';
  mine.lines.splice(1, 1); // removed Travel
  mine.lines.push({ ...blankLine(), description: 'Hotel' });
  const { form, dropped } = reapplyEdits(base, mine, theirs);
  assert.deepEqual(form.lines.map((l) => [l.description, l.quantity]), [['Senior consulting', '2'], ['Hotel', '1']]);
  assert.equal(form.header.memo, 'their memo');
  assert.equal(form.version, '2');
  assert.deepEqual(dropped, []);
});

test('re-applying keeps the user\'s new order of the lines; lines the other save added follow', () => {
  const base = formOf(invoice(1, [line('lin_a', 'A', '1'), line('lin_b', 'B', '1'), line('lin_c', 'C', '1')]));
  const theirs = formOf(invoice(2, [line('lin_a', 'A', '5'), line('lin_b', 'B', '1'), line('lin_c', 'C', '1'), line('lin_d', 'D', '1')]));
  const mine = applyFormOperation(applyFormOperation(structuredClone(base), 'up:2'), 'up:1'); // C, A, B
  mine.lines.push({ ...blankLine(), description: 'E' });
  const { form } = reapplyEdits(base, mine, theirs);
  assert.deepEqual(form.lines.map((l) => [l.description, l.quantity]), [['C', '1'], ['A', '5'], ['B', '1'], ['D', '1'], ['E', '1']]);
  // Without a reorder, the newer version's order stands.
  const unmoved = reapplyEdits(base, structuredClone(base), theirs).form;
  assert.deepEqual(unmoved.lines.map((l) => l.description), ['A', 'B', 'C', 'D']);
});

test('form lines become only the operations that change something; a reorder sends the full set', () => {
  const current = invoice(3, [line('lin_a', 'A', '1'), line('lin_b', 'B', '1'), line('lin_c', 'C', '1')]);
  const form = formOf(current);
  assert.deepEqual(lineOperationsOf(form.lines, current), []);
  form.lines[1].quantity = '4';
  form.lines.splice(2, 1);
  form.lines.push({ ...blankLine(), description: 'D' });
  const operations = lineOperationsOf(form.lines, current)!;
  assert.deepEqual(operations.map((op) => [op.op, op.id ?? op.description, op.position]), [['remove', 'lin_c', undefined], ['update', 'lin_b', undefined], ['add', 'D', 3]]);
  const moved = applyFormOperation(formOf(current), 'down:0');
  assert.equal(lineOperationsOf(moved.lines, current), null);
  assert.equal(writeOfForm(moved, undefined, current).lines?.length, 3);
});

test('the posted form is read as parallel line columns; a ragged form is refused', () => {
  const form = parseInvoiceForm({ currency: 'EUR', line_id: ['', ''], line_parent_line_id: ['', ''], line_description: ['a', 'b'], line_quantity: ['1', '2'], line_unit: ['', ''], line_unit_price: ['1', '2'], line_discount_type: ['percent', ''], line_discount_value: ['10', ''], line_tax_rate: ['', '24'] });
  assert.equal(form.lines.length, 2);
  const write = writeOfForm(form);
  assert.deepEqual(write.lines?.[0].discount, { type: 'percent', value: '10' });
  assert.equal(write.lines?.[1].tax_rate, '24');
  assert.throws(() => parseInvoiceForm({ line_description: ['a', 'b'], line_quantity: ['1'] }), /incomplete form/);
});

test('amounts are formatted exactly with the currency minor units; the locale comes from Accept-Language', () => {
  assert.equal(createFormatter('en').money('12345678901234567.5', 'EUR'), '€12,345,678,901,234,567.50');
  assert.equal(createFormatter('en').money('1500', 'JPY'), '¥1,500');
  assert.equal(createFormatter('de-DE').money('1234.5', 'EUR'), '1.234,50\u00a0€');
  assert.equal(localeFrom('fi-FI,fi;q=0.9,en;q=0.8'), 'fi-FI');
  assert.equal(localeFrom('not a tag!!, *'), 'en');
});

test('sign-in returns only to a path on this site', () => {
  assert.equal(safeNext('/invoices/inv_1'), '/invoices/inv_1');
  for (const bad of ['//evil.example', '/\\evil.example', 'https://evil.example', 'javascript:alert(1)', undefined]) assert.equal(safeNext(bad), '/invoices');
});

test('the session cookie is Secure when the setting says so or the public URL is https, not otherwise', () => {
  assert.equal(loadConfig({}).web.secureCookies, false);
  assert.equal(loadConfig({ FOLIO_WEB_SECURE_COOKIES: 'true' }).web.secureCookies, true);
  assert.equal(loadConfig({ FOLIO_PUBLIC_URL: 'https://folio.example' }).web.secureCookies, true);
  assert.equal(loadConfig({ FOLIO_PUBLIC_URL: 'http://localhost:3000' }).web.secureCookies, false);
});
