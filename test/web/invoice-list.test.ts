import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { startWebTestApp, type WebTestApp } from '../helpers/web.js';

/**
 * The invoice list in a real browser: every filter the issue names (status, payment status with
 * overdue, customer, issue/due date ranges, number, text), sorting, pagination with the page's
 * totals, formatting by the browser's locale, reading with JavaScript off, and the keyboard.
 */
let web: WebTestApp;
let ann: { context: BrowserContext; page: Page };
const ids: Record<string, string> = {};

before(async () => {
  web = await startWebTestApp();
  await web.user('acme', 'ann@acme.test', 'editor');
  const api = web.client(await web.key('acme'));
  const customer = (await api.post('/v1/customers', { name: 'Globex Oy' })).body.id as string;
  const create = async (name: string, body: Record<string, unknown>) => {
    const created = await api.post('/v1/invoices', body);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    ids[name] = created.body.id;
    return created.body.id as string;
  };
  await create('alpha', { lines: [{ description: 'Alpha consulting', quantity: '1', unit_price: '100' }] });
  // Issued in January, due in January: open and unpaid after its due date, so overdue.
  const bravo = await create('bravo', { customer_id: customer, issue_date: '2026-01-10', due_date: '2026-01-20', lines: [{ description: 'Bravo hosting', quantity: '2', unit_price: '100' }] });
  assert.equal((await api.post(`/v1/invoices/${bravo}/finalize`, {})).status, 200);
  // Issued in March, due far ahead, partly paid.
  const charlie = await create('charlie', { issue_date: '2026-03-05', due_date: '2099-01-01', lines: [{ description: 'Charlie design', quantity: '1', unit_price: '50' }] });
  assert.equal((await api.post(`/v1/invoices/${charlie}/finalize`, {})).status, 200);
  assert.equal((await api.post(`/v1/invoices/${charlie}/payments`, { amount: '10', date: '2026-03-10', method: 'card' })).status, 201);
  await create('yen', { currency: 'JPY', exchange_rate: '0.0062', lines: [{ description: 'Tokyo workshop', quantity: '1', unit_price: '1500' }] });
  // 22 small drafts that share a word, for pagination.
  for (let i = 1; i <= 22; i++) await create(`bulk${i}`, { lines: [{ description: `Bulk item ${i}`, quantity: '1', unit_price: '1.5' }] });
  ann = await web.signedIn('acme', 'ann@acme.test');
});

after(async () => {
  await web?.close();
});

const numbersOnPage = async (page: Page) => (await page.locator('table.list tbody tr td:first-child').allInnerTexts()).map((text) => text.trim());
const rowsText = async (page: Page) => page.locator('table.list tbody').innerText();

async function filter(page: Page, fields: Record<string, string>) {
  await page.goto('/invoices');
  for (const [label, value] of Object.entries(fields)) {
    const control = page.getByLabel(label, { exact: true });
    if ((await control.evaluate((element) => element.tagName)) === 'SELECT') await control.selectOption(value);
    else await control.fill(value);
  }
  await Promise.all([page.waitForURL(/\/invoices\?/), page.getByRole('button', { name: 'Filter' }).click()]);
}

test('payment status "overdue" finds the open invoice past its due date, and only it', async () => {
  const { page } = ann;
  await filter(page, { Payment: 'overdue' });
  assert.match(page.url(), /payment_status=overdue/);
  assert.equal(await page.locator('table.list tbody tr').count(), 1);
  const rows = await rowsText(page);
  assert.match(rows, /Globex Oy\s+open\s+overdue/);
  assert.match(await page.locator('table.list tfoot').innerText(), /This page: 1 in EUR\s+€200\.00\s+€200\.00/);
  await filter(page, { Payment: 'partially_paid' });
  assert.match(await rowsText(page), /open\s+partially paid[\s\S]*€50\.00\s+€40\.00/);
  await web.shoot(page, 'invoices-filtered');
  assert.deepEqual(await web.axe(page), []);
});

test('status, customer, number, issue and due date ranges narrow the list', async () => {
  const { page } = ann;
  await filter(page, { 'Issued from': '2026-03-01', 'Issued to': '2026-03-31' });
  assert.equal(await page.locator('table.list tbody tr').count(), 1);
  assert.match(await rowsText(page), /5 Mar 2026/);
  await filter(page, { 'Due from': '2026-01-01', 'Due to': '2026-01-31' });
  assert.match(await rowsText(page), /20 Jan 2026/);
  assert.equal(await page.locator('table.list tbody tr').count(), 1);
  await filter(page, { Customer: 'Globex Oy' });
  assert.equal(await page.locator('table.list tbody tr').count(), 1);
  await filter(page, { Status: 'open' });
  assert.equal(await page.locator('table.list tbody tr').count(), 2);
  const [number] = await numbersOnPage(page);
  await filter(page, { Number: number });
  assert.deepEqual(await numbersOnPage(page), [number]);
  // The form keeps what was asked for.
  await filter(page, { 'Issued from': '2026-01-01', Status: 'open' });
  assert.equal(await page.getByLabel('Issued from').inputValue(), '2026-01-01');
  assert.equal(await page.getByLabel('Status').inputValue(), 'open');
});

test('text search finds a line description; a search too short or a backwards range says why', async () => {
  const { page } = ann;
  await filter(page, { 'Text (memo, line, customer)': 'hosting' });
  assert.equal(await page.locator('table.list tbody tr').count(), 1);
  assert.match(await rowsText(page), /Globex Oy/);
  await filter(page, { 'Text (memo, line, customer)': 'ho' });
  assert.match(await page.getByRole('alert').innerText(), /Search for at least 3 characters/);
  assert.match(await rowsText(page), /No invoices match/);
  await filter(page, { 'Issued from': '2026-03-01', 'Issued to': '2026-02-01' });
  assert.match(await page.getByRole('alert').innerText(), /issue date range ends before it starts/);
});

test('sorting by total, both ways, and by issue date', async () => {
  const { page } = ann;
  await filter(page, { 'Sort by': '-total', 'Per page': '50' });
  const largestFirst = await page.locator('table.list tbody tr td:nth-child(7)').allInnerTexts();
  assert.deepEqual(largestFirst.slice(0, 4), ['JP¥1,500', '€200.00', '€100.00', '€50.00']);
  assert.equal(largestFirst.length, 26);
  await filter(page, { 'Sort by': 'total', 'Per page': '50' });
  const smallestFirst = await page.locator('table.list tbody tr td:nth-child(7)').allInnerTexts();
  assert.deepEqual(smallestFirst.slice(-4), ['€50.00', '€100.00', '€200.00', 'JP¥1,500']);
  await filter(page, { 'Sort by': 'issue_date' });
  const issued = await page.locator('table.list tbody tr td:nth-child(5)').allInnerTexts();
  assert.deepEqual(issued.slice(0, 2), ['10 Jan 2026', '5 Mar 2026']);
});

test('pages of 20 with a next page; each page shows its own totals', async () => {
  const { page } = ann;
  await filter(page, { 'Text (memo, line, customer)': 'Bulk item' });
  assert.equal(await page.locator('table.list tbody tr').count(), 20);
  assert.match(await page.locator('table.list tfoot').innerText(), /This page: 20 in EUR\s+€30\.00\s+€30\.00/);
  await page.getByRole('link', { name: 'Next page' }).click();
  await page.waitForURL(/cursor=/);
  assert.equal(await page.locator('table.list tbody tr').count(), 2);
  assert.match(await page.locator('table.list tfoot').innerText(), /This page: 2 in EUR\s+€3\.00\s+€3\.00/);
  assert.equal(await page.getByLabel('Text (memo, line, customer)').inputValue(), 'Bulk item');
  assert.equal(await page.getByRole('link', { name: 'Next page' }).count(), 0);
  await page.getByRole('link', { name: 'First page' }).click();
  await page.waitForURL((url) => !url.search.includes('cursor='));
  assert.equal(await page.locator('table.list tbody tr').count(), 20);
});

test('amounts and dates follow the browser\'s locale (Intl), with the currency\'s minor units', async () => {
  const { context, page } = await web.signedIn('acme', 'ann@acme.test', { locale: 'de-DE' });
  await page.goto(`/invoices/${ids.bravo}`);
  assert.equal(await page.locator('html').getAttribute('lang'), 'de-DE');
  assert.match(await page.locator('table.totals').innerText(), /Total\s+200,00\s€/);
  assert.match(await page.locator('.card dl').first().innerText(), /10\.01\.2026/);
  // Yen have no minor unit: no decimals, in either locale.
  await page.goto(`/invoices/${ids.yen}`);
  assert.match(await page.locator('table.totals').innerText(), /Total\s+1\.500\s¥/);
  await context.close();
});

test('with JavaScript off the list, its filters and an invoice page read', async () => {
  const { context, page } = await web.signedIn('acme', 'ann@acme.test', { javaScriptEnabled: false });
  await filter(page, { Payment: 'overdue' });
  assert.equal(await page.locator('table.list tbody tr').count(), 1);
  await page.locator('table.list tbody a').click();
  await page.waitForURL(/\/invoices\/inv_/);
  assert.match(await page.locator('table.list').first().innerText(), /Bravo hosting/);
  assert.match(await page.locator('table.totals').innerText(), /Tax/);
  assert.match(await page.locator('.timeline').innerText(), /v2 · Finalized by API key key_\w+/);
  await context.close();
});

test('the list is usable by keyboard: skip link first, then the filters, Enter submits', async () => {
  const { page } = ann;
  await page.goto('/invoices');
  // Other pages of this browser may have had focus: key presses go to the focused page.
  await page.bringToFront();
  // Each step waits for its outcome (focus moves and URL changes reach Playwright a moment after
  // the key press resolves on a busy machine); a step whose outcome never comes fails on the timeout.
  await page.keyboard.press('Tab');
  await page.waitForFunction(() => document.activeElement?.textContent === 'Skip to content', null, { timeout: 5000 }).catch(() => undefined);
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
  await Promise.all([page.waitForURL(/#main$/, { timeout: 5000 }), page.keyboard.press('Enter')]);
  await page.getByLabel('Payment').focus();
  await page.keyboard.press('Tab');
  await page.waitForFunction(() => document.activeElement?.id === 'f-customer', null, { timeout: 5000 }).catch(() => undefined);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'f-customer');
  await page.getByLabel('Text (memo, line, customer)').focus();
  await page.keyboard.type('design');
  await Promise.all([page.waitForURL(/q=design/), page.keyboard.press('Enter')]);
  assert.equal(await page.locator('table.list tbody tr').count(), 1);
});
