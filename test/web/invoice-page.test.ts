import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { startWebTestApp, type WebTestApp } from '../helpers/web.js';

/**
 * The invoice page and editor in a real browser beyond the main flow: grouped lines and the tax
 * breakdown, reordering/adding/removing lines with the server's totals, the change reason on
 * payments and attachments, credit notes on the page, and editing a customer (with a stale form).
 */
let web: WebTestApp;
let ann: { context: BrowserContext; page: Page };
let api: ReturnType<WebTestApp['client']>;
let invoiceId = '';
let customerId = '';

before(async () => {
  web = await startWebTestApp();
  await web.user('acme', 'ann@acme.test', 'editor');
  api = web.client(await web.key('acme'));
  customerId = (await api.post('/v1/customers', { name: 'Initech Oy', email: 'ap@initech.test', address: { line1: 'Ratapiha 1', city: 'Tampere', postal_code: '33100', country: 'FI' } })).body.id;
  const created = await api.post('/v1/invoices', {
    customer_id: customerId,
    lines: [
      { ref: 'project', description: 'Website project', quantity: '1', unit_price: '100', tax_rate: '24' },
      { parent_ref: 'project', description: 'Design', quantity: '2', unit_price: '300', tax_rate: '24' },
      { parent_ref: 'project', description: 'Hosting', quantity: '12', unit_price: '10', tax_rate: '14' },
      { description: 'Travel', quantity: '1', unit_price: '80', tax_rate: '0' },
    ],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  invoiceId = created.body.id;
  ann = await web.signedIn('acme', 'ann@acme.test');
  ann.page.on('dialog', (dialog) => void dialog.accept());
});

after(async () => {
  await web?.close();
});

test('the invoice page shows the header, bill-to, grouped lines and the tax breakdown', async () => {
  const { page } = ann;
  await page.goto(`/invoices/${invoiceId}`);
  assert.match(await page.locator('h1').innerText(), /Invoice \(draft\) draft unpaid/);
  assert.match(await page.locator('address').innerText(), /Initech Oy\s+Ratapiha 1\s+33100 Tampere, FI\s+ap@initech\.test/);
  const rows = page.locator('section[aria-labelledby="h-lines"] table.list tbody tr');
  assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => [tr.querySelector('td')?.textContent?.trim(), tr.className])), [
    ['Website project', ''],
    ['Design', 'child'],
    ['Hosting', 'child'],
    ['Travel', ''],
  ]);
  const totals = await page.locator('table.totals').innerText();
  assert.match(totals, /Subtotal\s+€900\.00/);
  assert.match(totals, /Tax 24 % on €700\.00\s+€168\.00/);
  assert.match(totals, /Tax 14 % on €120\.00\s+€16\.80/);
  assert.match(totals, /Tax 0 % on €80\.00\s+€0\.00/);
  assert.match(totals, /Total\s+€1,084\.80/);
  await web.shoot(page, 'invoice-grouped-lines');
  assert.deepEqual(await web.axe(page), []);
});

test('the editor reorders, adds and removes lines; the totals are the server\'s; history says what moved', async () => {
  const { page } = ann;
  await page.goto(`/invoices/${invoiceId}/edit`);
  // Travel (line 4) to the top: each move is a round trip that re-renders the form on the server.
  for (const n of [4, 3, 2]) await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: `Move line ${n} up` }).click()]);
  await page.getByLabel('Description of line 1').waitFor();
  assert.equal(await page.getByLabel('Description of line 1').inputValue(), 'Travel');
  assert.equal(await page.getByLabel('Description of line 2').inputValue(), 'Website project');
  await page.getByRole('button', { name: 'Remove line 4' }).click(); // Hosting
  await page.getByRole('button', { name: 'Add a line' }).click();
  await page.getByLabel('Description of line 4').fill('Support');
  await page.getByLabel('Unit price of line 4').fill('50');
  await page.getByLabel('Tax rate of line 4').fill('24');
  // 80 + 124 + 744 + 62: the server's dry run of the whole form.
  await page.locator('#live-totals [data-total]', { hasText: '€1,010.00' }).waitFor();
  await expectNothingWritten();
  await page.getByLabel('Reason for this change').fill('travel first, hosting billed separately');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/notice=saved/);
  const descriptions = await page.locator('section[aria-labelledby="h-lines"] table.list tbody tr td:first-child').allInnerTexts();
  assert.deepEqual(descriptions.map((text) => text.trim()), ['Travel', 'Website project', 'Design', 'Support']);
  const history = await page.locator('.timeline > li').first().innerText();
  assert.match(history, /v2 · Edited by ann@acme\.test/);
  assert.match(history, /Why: travel first, hosting billed separately/);
  assert.match(history, /moved 'Travel' from place 4 to 1/);
  assert.doesNotMatch(history, /moved 'Website project'|moved 'Design'/, 'lines renumbered by the move are not "moved"');
  assert.match(history, /removed line 'Hosting' \(12 × 10\.00\)/);
  assert.match(history, /added line 'Support' \(1 × 50\.00\)/);
  assert.match(await page.locator('table.totals').innerText(), /Total\s+€1,010\.00/);
});

async function expectNothingWritten() {
  const stored = await api.get(`/v1/invoices/${invoiceId}`);
  assert.equal(stored.body.version, 1);
  assert.equal(stored.body.lines.length, 4);
}

test('a payment, an attachment and its removal each take a reason, and the history shows it', async () => {
  const { page } = ann;
  await page.goto(`/invoices/${invoiceId}`);
  await page.getByLabel('Reason (kept in the history)').first().fill('approved by the customer');
  await page.getByRole('button', { name: 'Finalize' }).click();
  await page.waitForURL(/notice=finalized/);

  await page.getByLabel('Amount (EUR)').fill('500');
  await page.locator('#pay-reason').fill('first instalment, agreed by phone');
  await page.getByRole('button', { name: 'Record payment' }).click();
  await page.waitForURL(/notice=payment/);
  assert.match(await page.locator('.timeline > li').first().innerText(), /Payment recorded by ann@acme\.test[\s\S]*Why: first instalment, agreed by phone/);

  await page.locator('#attach-reason').fill('signed delivery note');
  await page.getByLabel('File (PDF, image, XML…)').setInputFiles({ name: 'note.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n') });
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.waitForURL(/notice=attached/);
  assert.match(await page.locator('.timeline > li').first().innerText(), /Why: signed delivery note[\s\S]*attached 'note\.pdf'/);
  await page.getByLabel('Reason for removing note.pdf').fill('wrong file');
  await page.getByRole('button', { name: 'Remove note.pdf' }).click();
  await page.waitForURL(/notice=detached/);
  assert.match(await page.locator('.timeline > li').first().innerText(), /Why: wrong file[\s\S]*removed attachment 'note\.pdf'/);

  await page.getByLabel('Description', { exact: true }).fill('Design discount');
  await page.getByLabel('Net amount').fill('100');
  await page.getByLabel('Tax %').fill('24');
  await page.locator('#cn-reason').fill('late delivery');
  await page.getByRole('button', { name: 'Issue credit note' }).click();
  await page.waitForURL(/notice=credited/);
  assert.match(await page.locator('section[aria-labelledby="h-credits"]').innerText(), /€124\.00 — late delivery/);
  assert.match(await page.locator('table.totals').innerText(), /Paid\s+€500\.00\s+Credited\s+€124\.00\s+Balance\s+€386\.00/);
  await web.shoot(page, 'invoice-with-payment-and-credit-note');
  // A draft takes no payment: the form is disabled and says why, tied to it for screen readers.
  await page.goto(`/invoices/${(await api.post('/v1/invoices', { lines: [{ description: 'Draft only', quantity: '1', unit_price: '1' }] })).body.id}`);
  const payment = page.locator('fieldset', { hasText: 'Record a payment' });
  assert.equal(await payment.getAttribute('disabled'), '');
  assert.match(await page.locator(`#${await payment.getAttribute('aria-describedby')}`).innerText(), /draft/i);
  assert.deepEqual(await web.axe(page), []);
  await page.goto(`/invoices/${invoiceId}`);
  assert.deepEqual(await web.axe(page), []);
});

test('a customer is edited; a form someone else saved meanwhile is refused with their version shown', async () => {
  const { page } = ann;
  await page.goto(`/customers/${customerId}`);
  await page.getByLabel('Email').fill('billing@initech.test');
  await page.getByRole('button', { name: 'Save customer' }).click();
  await page.waitForURL(/notice=saved/);
  await page.getByText('Customer saved.').waitFor();
  assert.equal(await page.getByLabel('Email').inputValue(), 'billing@initech.test');

  await page.reload();
  const current = await api.get(`/v1/customers/${customerId}`);
  assert.equal((await api.patch(`/v1/customers/${customerId}`, { phone: '+358 40 123' }, { 'if-match': `"${current.body.version}"` })).status, 200);
  await page.getByLabel('Address: city').fill('Espoo');
  await page.getByRole('button', { name: 'Save customer' }).click();
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').innerText(), /Someone else changed this customer/);
  assert.equal(await page.getByLabel('Phone').inputValue(), '+358 40 123');
  assert.equal(await page.getByLabel('Address: city').inputValue(), 'Tampere');
  assert.equal((await api.get(`/v1/customers/${customerId}`)).body.address.city, 'Tampere');
  await web.shoot(page, 'customer');
  assert.deepEqual(await web.axe(page), []);
});
