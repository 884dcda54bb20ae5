import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { startWebTestApp, type WebTestApp } from '../helpers/web.js';

/**
 * The finance staff's day in a real browser: sign in, create an invoice, edit a line and watch
 * the server's live total, save, read the history in words, lose a race to a colleague and
 * re-apply, finalize, take a payment, meet a policy that forbids an edit. Each main page is
 * screenshotted (test-output/screenshots/) and checked with axe-core.
 */
let web: WebTestApp;
let ann: { context: BrowserContext; page: Page };
let invoiceUrl = '';

before(async () => {
  web = await startWebTestApp();
  await web.user('acme', 'ann@acme.test', 'admin');
  await web.user('acme', 'bob@acme.test', 'editor');
  ann = await web.signedIn('acme', 'ann@acme.test');
  ann.page.on('dialog', (dialog) => void dialog.accept());
});

after(async () => {
  await web?.close();
});

async function expectAccessible(page: Page, name: string) {
  await web.shoot(page, name);
  assert.deepEqual(await web.axe(page), [], `axe found serious problems on the ${name} page`);
}

test('sign-in page and invoice list render, accessibly', async () => {
  const anonymous = await web.browser.newContext({ baseURL: web.baseUrl });
  const page = await anonymous.newPage();
  await page.goto('/invoices');
  assert.match(page.url(), /\/sign-in\?next=%2Finvoices$/);
  await expectAccessible(page, 'sign-in');
  await anonymous.close();
  await ann.page.goto('/invoices');
  await ann.page.getByRole('heading', { name: 'Invoices' }).waitFor();
});

test('a customer is created in the browser', async () => {
  const { page } = ann;
  await page.goto('/customers/new');
  await page.getByLabel('Name').fill('Northwind Oy');
  await page.getByLabel('Email').fill('ap@northwind.test');
  await page.getByLabel('Address: city').fill('Helsinki');
  await page.getByRole('button', { name: 'Save customer' }).click();
  await page.waitForURL(/\/customers\/cus_/);
  await page.goto('/customers');
  await page.getByRole('link', { name: 'Northwind Oy' }).waitFor();
  await expectAccessible(page, 'customers');
});

test('an invoice is created with a line; the page shows the server totals', async () => {
  const { page } = ann;
  await page.goto('/invoices/new');
  await page.getByLabel('Customer', { exact: true }).selectOption({ label: 'Northwind Oy' });
  await page.getByLabel('Description of line 1').fill('Consulting');
  await page.getByLabel('Quantity of line 1').fill('3');
  await page.getByLabel('Unit price of line 1').fill('100');
  await page.getByLabel('Tax rate of line 1').fill('24');
  await page.locator('#live-totals [data-total]', { hasText: '372.00' }).waitFor();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/\/invoices\/inv_\w+\?notice=created$/);
  invoiceUrl = page.url().split('?')[0];
  await page.getByText('Invoice created.').waitFor();
  assert.match(await page.locator('table.totals').innerText(), /Total\s+€372\.00/);
  assert.match(await page.locator('address').innerText(), /Northwind Oy/);
});

test('editing a line shows the live total from the server; saving makes a new version with the change in words', async () => {
  const { page } = ann;
  await page.goto(`${invoiceUrl}/edit`);
  await expectAccessible(page, 'invoice-editor');
  await page.getByLabel('Quantity of line 1').fill('2.5');
  await page.locator('#live-totals [data-total]', { hasText: '310.00' }).waitFor();
  await page.locator('#line-amount-0', { hasText: '310.00' }).waitFor();
  // A live preview writes nothing: the stored invoice is still version 1.
  const stored = await web.database.db.selectFrom('invoices').select(['version', 'total']).executeTakeFirstOrThrow();
  assert.equal(stored.version, 1);
  await page.getByLabel('Reason for this change').fill('customer asked for fewer hours');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/notice=saved/);
  const history = await page.locator('.timeline').innerText();
  assert.match(history, /v2 · Edited by ann@acme\.test/);
  assert.match(history, /quantity of 'Consulting' 3 → 2\.5/);
  assert.match(history, /Why: customer asked for fewer hours/);
  await expectAccessible(page, 'invoice');
});

test('a save that lost the race shows what changed and re-applies the edits on top', async () => {
  const bob = await web.signedIn('acme', 'bob@acme.test');
  const { page } = ann;
  await page.goto(`${invoiceUrl}/edit`);
  await bob.page.goto(`${invoiceUrl}/edit`);
  await bob.page.getByLabel('Description of line 1').fill('Senior consulting');
  await bob.page.getByRole('button', { name: 'Save' }).click();
  await bob.page.waitForURL(/notice=saved/);

  await page.getByLabel('Quantity of line 1').fill('2');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: 'Someone else saved this invoice' }).waitFor();
  const conflict = await page.locator('main').innerText();
  assert.match(conflict, /by bob@acme\.test/);
  assert.match(conflict, /line 'Consulting' renamed → 'Senior consulting'/);
  await expectAccessible(page, 'conflict');

  await page.getByRole('button', { name: /Re-apply my edits/ }).click();
  await page.getByText(/Your edits are re-applied on top of version 3/).waitFor();
  assert.equal(await page.getByLabel('Description of line 1').inputValue(), 'Senior consulting');
  assert.equal(await page.getByLabel('Quantity of line 1').inputValue(), '2');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/notice=saved/);
  const history = await page.locator('.timeline').innerText();
  assert.match(history, /v4 · Edited by ann@acme\.test/);
  assert.match(history, /quantity of 'Senior consulting' 2\.5 → 2/);
  await bob.context.close();
});

test('finalize, then record a payment', async () => {
  const { page } = ann;
  await page.goto(invoiceUrl);
  await page.getByRole('button', { name: 'Finalize' }).click();
  await page.waitForURL(/notice=finalized/);
  assert.match(await page.locator('h1').innerText(), /Invoice INV-\d+ open unpaid/);

  await page.getByLabel('Amount (EUR)').fill('100');
  await page.getByRole('button', { name: 'Record payment' }).click();
  await page.waitForURL(/notice=payment/);
  assert.match(await page.locator('h1').innerText(), /partially paid/);
  assert.match(await page.locator('table.totals').innerText(), /Balance\s+€148\.00/);
  assert.match(await page.locator('.timeline').innerText(), /Payment recorded by ann@acme\.test/);

  await page.getByLabel('File (PDF, image, XML…)').setInputFiles({ name: 'delivery-note.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n') });
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.waitForURL(/notice=attached/);
  await page.getByRole('link', { name: 'delivery-note.pdf' }).waitFor();
  assert.match(await page.locator('.timeline').innerText(), /attached 'delivery-note\.pdf'/);
  await web.shoot(page, 'invoice-paid-partly');
  await page.getByRole('button', { name: 'Remove delivery-note.pdf' }).click();
  await page.waitForURL(/notice=detached/);
  assert.match(await page.locator('.timeline').innerText(), /removed attachment 'delivery-note\.pdf'/);
});

test('an edit the policy forbids is read-only with the reason shown', async () => {
  const { page } = ann;
  await page.goto('/settings');
  await page.getByLabel('Edit policy').selectOption('draft_only');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Settings saved.').waitFor();
  await expectAccessible(page, 'settings');

  await page.goto(`${invoiceUrl}/edit`);
  assert.match(await page.locator('#why-lines').innerText(), /edit policy \(draft_only\) allows financial edits on drafts only/);
  assert.equal(await page.getByLabel('Quantity of line 1').getAttribute('readonly'), '');
  assert.match(await page.locator('#why-number').innerText(), /fixed when the invoice was finalized/);
  // The internal note stays editable and saves.
  await page.getByLabel('Internal note').fill('called the customer');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/notice=saved/);
  assert.match(await page.locator('.timeline').innerText(), /internal note set to 'called the customer'/);
});

test('a description with markup stays text; the page sends a strict CSP and refuses framing', async () => {
  const key = await web.key('acme');
  const hostile = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">';
  const created = await web.client(key).post('/v1/invoices', { lines: [{ description: hostile, quantity: '1', unit_price: '5' }] });
  assert.equal(created.status, 201);
  const response = await ann.page.goto(`/invoices/${created.body.id}`);
  assert.ok(response);
  const csp = response.headers()['content-security-policy'];
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(response.headers()['x-frame-options'], 'DENY');
  assert.match(await ann.page.locator('table.list').first().innerText(), /<script>window.__xss = 1<\/script>/);
  assert.equal(await ann.page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
  // The history shows it as text too.
  assert.match(await ann.page.locator('.timeline').innerText(), /created with 1 line/);
});

test('the invoice list filters by status and shows the page totals', async () => {
  const { page } = ann;
  await page.goto('/invoices');
  await page.getByLabel('Status').selectOption('open');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/status=open/);
  const rows = await page.locator('table.list tbody tr').count();
  assert.equal(rows, 1);
  assert.match(await page.locator('table.list tfoot').innerText(), /This page: 1 in EUR\s+€248\.00\s+€148\.00/);
  await expectAccessible(page, 'invoices');
});

test('with JavaScript off the pages read and the editor still works by plain form posts', async () => {
  const context = await web.browser.newContext({ baseURL: web.baseUrl, javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto('/sign-in');
  await page.getByLabel('Organisation').fill('acme');
  await page.getByLabel('Email').fill('bob@acme.test');
  await page.getByLabel('Password').fill('correct horse battery staple');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/invoices');
  await page.goto('/invoices/new');
  await page.getByLabel('Description of line 1').fill('Offline work');
  await page.getByLabel('Unit price of line 1').fill('80');
  await page.getByRole('button', { name: 'Add a line' }).click();
  await page.getByLabel('Description of line 2').waitFor();
  assert.equal(await page.getByLabel('Description of line 1').inputValue(), 'Offline work');
  // The totals shown after the round trip are the server's dry run of the form.
  assert.match(await page.locator('#live-totals [data-total]').innerText(), /€80\.00/);
  await page.getByLabel('Description of line 2').fill('More');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/notice=created/);
  assert.match(await page.locator('table.list').first().innerText(), /Offline work[\s\S]*More/);
  await context.close();
});
