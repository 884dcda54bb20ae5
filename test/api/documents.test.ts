import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { PDFParse } from 'pdf-parse';
import { expectProblem, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { bluePng } from '../helpers/document-fixtures.js';
import { multipartBody, pdfBytes } from '../helpers/multipart.js';
import { isValidFinnishReference } from '../../src/modules/documents/payment-reference.js';
import { documentSellerStore } from '../../src/modules/documents/store.js';
import { documentRendererRevision } from '../../src/modules/documents/render.js';
import { brokenRules } from '../helpers/en16931-rules.js';
import fc from 'fast-check';

let t: TestApp;
let api: Client;
let adminKey: string;

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', removeNSPrefix: true, parseTagValue: false });

const seller = {
  name: 'Kärkkäinen Øy',
  address: { line1: 'Esplanadi 1', city: 'Helsinki', postal_code: '00130', country: 'FI' },
  vat_id: 'FI12345678',
  business_id: '1234567-8',
  ovt: '003712345678',
  iban: 'FI21 1234 5600 0007 85',
  bic: 'NDEAFIHH',
};

before(async () => {
  t = await startTestApp();
  adminKey = await t.key('documents', ['admin', 'invoices:read', 'invoices:write']);
  api = t.client(adminKey);
  expectStatus(await api.patch('/v1/tenant/settings', { document_seller: seller }), 200);
});
after(() => t.close());

async function fetchDocument(url: string, headers: Record<string, string> = {}, key = adminKey) {
  const response = await t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}`, ...headers } });
  return { status: response.statusCode, headers: response.headers, bytes: response.rawPayload, text: response.body };
}

async function pdfText(bytes: Buffer): Promise<string> {
  const pdf = new PDFParse({ data: new Uint8Array(bytes) });
  try {
    return (await pdf.getText()).text.replace(/\s+/g, ' ');
  } finally {
    await pdf.destroy();
  }
}

async function openInvoice(lines = [{ description: 'Suunnittelu ä ö', quantity: '2', unit_price: '1250.00', tax_rate: '25.5' }]) {
  const draft = expectStatus(await api.post('/v1/invoices', { currency: 'EUR', due_date: '2999-01-31', bill_to: { name: 'Åsa Łukasz AB', address: { country: 'SE' } }, lines }), 201);
  return expectStatus(await api.post(`/v1/invoices/${draft.id}/finalize`), 200);
}

describe('seller settings', () => {
  test('PATCH /v1/tenant/settings keeps the seller (absent: unchanged, null: cleared); bad input is a 400 and writes nothing', async () => {
    const settings = expectStatus(await api.get('/v1/tenant/settings'), 200);
    assert.equal(settings.document_seller.name, 'Kärkkäinen Øy');
    assert.equal(settings.document_seller.address.city, 'Helsinki');
    const changed = expectStatus(await api.patch('/v1/tenant/settings', { document_seller: { phone: '+358 40 123', address: { line2: 'B 4' } } }), 200);
    assert.equal(changed.document_seller.phone, '+358 40 123');
    assert.equal(changed.document_seller.address.line2, 'B 4');
    assert.equal(changed.document_seller.address.city, 'Helsinki');
    assert.equal(changed.document_seller.iban, seller.iban);
    const cleared = expectStatus(await api.patch('/v1/tenant/settings', { document_seller: { phone: null } }), 200);
    assert.equal(cleared.document_seller.phone, null);
    // Each change is a revision of the seller's history; a PATCH that changes nothing is none.
    const { tenant_id: tenantId } = await t.database.db.selectFrom('tenants').select('id as tenant_id').where('name', '=', 'documents').executeTakeFirstOrThrow();
    const revisions = async () => (await t.database.db.selectFrom('document_seller_history').select('revision').where('tenant_id', '=', tenantId).execute()).length;
    const before = await revisions();
    expectStatus(await api.patch('/v1/tenant/settings', { document_seller: { phone: null, name: seller.name } }), 200);
    assert.equal(await revisions(), before);
    expectStatus(await api.patch('/v1/tenant/settings', { document_seller: { phone: '+358 9 1' } }), 200);
    assert.equal(await revisions(), before + 1);
    expectStatus(await api.patch('/v1/tenant/settings', { document_seller: { phone: null } }), 200);

    expectProblem(await api.patch('/v1/tenant/settings', { document_seller: { iban: 'not an iban' } }), 400, 'validation-error');
    const badCheck = expectProblem(await api.patch('/v1/tenant/settings', { document_seller: { iban: 'FI22 1234 5600 0007 85' } }), 400, 'validation-error');
    assert.equal(badCheck.errors[0].pointer, '/document_seller/iban');
    expectProblem(await api.patch('/v1/tenant/settings', { document_seller: { colour: 'red' } }), 400, 'validation-error');
    assert.equal(expectStatus(await api.get('/v1/tenant/settings'), 200).document_seller.iban, seller.iban);

    const reader = t.client(await t.key('documents', ['invoices:read']));
    expectProblem(await reader.patch('/v1/tenant/settings', { document_seller: { name: 'x' } }), 403, 'forbidden');
  });

  test('a logo is an uploaded PNG or JPEG attachment; it is drawn on the PDF; another type is refused', async () => {
    const invoice = await openInvoice();
    const upload = async (file: { filename: string; contentType: string; bytes: Buffer }) => {
      const { headers, payload } = multipartBody(file);
      const response = await t.app.inject({ method: 'POST', url: `/v1/invoices/${invoice.id}/attachments`, headers: { authorization: `Bearer ${adminKey}`, ...headers }, payload });
      return JSON.parse(response.body).attachment ?? JSON.parse(response.body);
    };
    const png = await upload({ filename: 'logo.png', contentType: 'image/png', bytes: bluePng() });
    const pdf = await upload({ filename: 'terms.pdf', contentType: 'application/pdf', bytes: pdfBytes });
    expectProblem(await api.patch('/v1/tenant/settings', { document_seller: { logo: { invoice_id: invoice.id, attachment_id: pdf.id } } }), 400, 'validation-error');
    expectProblem(await api.patch('/v1/tenant/settings', { document_seller: { logo: { invoice_id: invoice.id, attachment_id: 'att_missing' } } }), 404, 'not-found');
    const withLogo = expectStatus(await api.patch('/v1/tenant/settings', { document_seller: { logo: { invoice_id: invoice.id, attachment_id: png.id } } }), 200);
    assert.match(withLogo.document_seller.logo_sha256, /^[0-9a-f]{64}$/);

    // The invoice's version was written before the logo was set: its document keeps no logo;
    // today's seller (and every version written from now on) has it.
    const asWritten = await fetchDocument(`/v1/invoices/${invoice.id}/document?format=pdf`);
    assert.ok(!asWritten.bytes.includes('/Subtype /Image'), 'no logo on the version written before it');
    const document = await fetchDocument(`/v1/invoices/${invoice.id}/document?format=pdf&seller=current`);
    assert.equal(document.status, 200);
    assert.ok(document.bytes.includes('/Subtype /Image'), 'the logo is drawn');
    const later = await openInvoice();
    assert.ok((await fetchDocument(`/v1/invoices/${later.id}/document?format=pdf`)).bytes.includes('/Subtype /Image'), 'a version written after it has the logo');
    expectStatus(await api.patch('/v1/tenant/settings', { document_seller: { logo: null } }), 200);
    const without = await fetchDocument(`/v1/invoices/${invoice.id}/document?format=pdf&seller=current`);
    assert.ok(!without.bytes.includes('/Subtype /Image'), 'no logo');
    // The logo stays in the history: the blob sweep keeps its bytes for the versions that show it.
    assert.ok((await documentSellerStore.logoSha256s(t.database.db)).has(withLogo.document_seller.logo_sha256), 'a former logo is still referenced');
    assert.ok((await fetchDocument(`/v1/invoices/${later.id}/document?format=pdf`)).bytes.includes('/Subtype /Image'), 'still drawn on that version');
  });
});

describe('invoice documents', () => {
  test('PDF by ?format=pdf or Accept: application/pdf: number, lines, total in the currency\'s format, the seller; same bytes twice', async () => {
    const invoice = await openInvoice([
      { description: 'Suunnittelu ä ö', quantity: '2', unit_price: '1250.00', tax_rate: '25.5' },
      { description: 'Matka €', quantity: '1', unit_price: '99.90', tax_rate: '14' },
    ]);
    const first = await fetchDocument(`/v1/invoices/${invoice.id}/document?format=pdf`);
    assert.equal(first.status, 200);
    assert.equal(first.headers['content-type'], 'application/pdf');
    assert.equal(first.headers['x-invoice-version'], String(invoice.version));
    const text = await pdfText(first.bytes);
    assert.ok(text.includes(invoice.number));
    assert.ok(text.includes('Suunnittelu ä ö') && text.includes('Matka €'));
    assert.equal(invoice.total, '3251.39');
    assert.ok(text.includes('3,251.39 EUR'));
    assert.ok(text.includes('Kärkkäinen Øy') && text.includes('Åsa Łukasz AB'));

    const byAccept = await fetchDocument(`/v1/invoices/${invoice.id}/document`, { accept: 'application/pdf' });
    assert.ok(byAccept.bytes.equals(first.bytes), 'identical bytes');
    assert.equal(byAccept.headers.etag, first.headers.etag);
    const unchanged = await fetchDocument(`/v1/invoices/${invoice.id}/document?format=pdf`, { 'if-none-match': String(first.headers.etag) });
    assert.equal(unchanged.status, 304);
    assert.equal(unchanged.bytes.length, 0);
    assert.equal((await fetchDocument(`/v1/invoices/${invoice.id}/document?format=pdf`, { 'if-none-match': '"other"' })).status, 200);
  });

  test('UBL by ?format=ubl or Accept: application/xml; Finvoice by ?format=finvoice; other Accept is a 406', async () => {
    const invoice = await openInvoice();
    const ubl = await fetchDocument(`/v1/invoices/${invoice.id}/document`, { accept: 'application/xml' });
    assert.equal(ubl.status, 200);
    assert.match(String(ubl.headers['content-type']), /^application\/xml/);
    assert.equal(XMLValidator.validate(ubl.text), true);
    const parsed = parser.parse(ubl.text).Invoice;
    assert.equal(parsed.ID, invoice.number);
    assert.equal(parsed.LegalMonetaryTotal.PayableAmount['#text'], invoice.balance);
    assert.equal(parsed.AccountingSupplierParty.Party.PartyName.Name, 'Kärkkäinen Øy');

    const finvoice = await fetchDocument(`/v1/invoices/${invoice.id}/document?format=finvoice`);
    assert.equal(finvoice.status, 200);
    const epi = parser.parse(finvoice.text).Finvoice.EpiDetails;
    assert.ok(isValidFinnishReference(epi.EpiPaymentInstructionDetails.EpiRemittanceInfoIdentifier['#text']));

    expectProblem(await api.get(`/v1/invoices/${invoice.id}/document`, { accept: 'text/html' }), 406, 'not-acceptable');
    // Accept by q-values: the preferred type wins, q=0 means "not this".
    const contentTypeFor = async (accept: string) => String((await fetchDocument(`/v1/invoices/${invoice.id}/document`, { accept })).headers['content-type']);
    assert.match(await contentTypeFor('application/pdf;q=0.5, application/xml'), /^application\/xml/);
    assert.equal(await contentTypeFor('application/xml;q=0.2, application/pdf;q=0.9'), 'application/pdf');
    assert.equal(await contentTypeFor('text/html, */*;q=0.1'), 'application/pdf');
    expectProblem(await api.get(`/v1/invoices/${invoice.id}/document`, { accept: 'application/pdf;q=0' }), 406, 'not-acceptable');
    expectProblem(await api.get(`/v1/invoices/${invoice.id}/document?format=docx`), 400, 'validation-error');
  });

  test('an earlier version\'s document is that version\'s, byte for byte, after later edits', async () => {
    const draft = expectStatus(await api.post('/v1/invoices', { currency: 'EUR', lines: [{ description: 'First wording', quantity: '1', unit_price: '100', tax_rate: '24' }] }), 201);
    const v1Pdf = await fetchDocument(`/v1/invoices/${draft.id}/document?format=pdf`);
    const v1Ubl = await fetchDocument(`/v1/invoices/${draft.id}/document?format=ubl`);
    assert.ok((await pdfText(v1Pdf.bytes)).includes('DRAFT'), 'a draft is watermarked');

    const lineId = draft.lines[0].id;
    expectStatus(await api.patch(`/v1/invoices/${draft.id}`, { lines: [{ id: lineId, description: 'Second wording', quantity: '3', unit_price: '100', tax_rate: '24' }] }), 200);
    expectStatus(await api.post(`/v1/invoices/${draft.id}/finalize`), 200);

    const oldPdf = await fetchDocument(`/v1/invoices/${draft.id}/document?format=pdf&version=1`);
    assert.equal(oldPdf.headers['x-invoice-version'], '1');
    assert.ok(oldPdf.bytes.equals(v1Pdf.bytes), 'version 1 renders as it did when it was current');
    assert.ok((await fetchDocument(`/v1/invoices/${draft.id}/document?format=ubl&version=1`)).bytes.equals(v1Ubl.bytes));

    const current = await pdfText((await fetchDocument(`/v1/invoices/${draft.id}/document?format=pdf`)).bytes);
    assert.ok(current.includes('Second wording') && !current.includes('First wording') && !current.includes('DRAFT'));
    expectProblem(await api.get(`/v1/invoices/${draft.id}/document?format=pdf&version=99`), 404, 'not-found');
  });

  test('rendered bytes are kept in the blob store and served again; a changed seller or a swept blob renders anew', async () => {
    const invoice = await openInvoice();
    const url = `/v1/invoices/${invoice.id}/document?format=pdf`;
    const first = await fetchDocument(url);
    const cached = await t.database.db.selectFrom('document_cache').selectAll().where('document_key', 'like', `invoice:${invoice.id}:%`).execute();
    assert.equal(cached.length, 1);
    assert.match(cached[0].document_key, new RegExp(`^invoice:${invoice.id}:v${invoice.version}:pdf:r${documentRendererRevision}:[0-9a-f]{16}$`));
    assert.equal(createHash('sha256').update(first.bytes).digest('hex'), cached[0].sha256);
    assert.ok((await fetchDocument(url)).bytes.equals(first.bytes));

    // The blob went (e.g. swept): rendered again, the same bytes.
    const blobPath = path.join(t.config.dataDir, 'blobs', 'sha256', cached[0].sha256.slice(0, 2), cached[0].sha256);
    fs.rmSync(blobPath);
    assert.ok((await fetchDocument(url)).bytes.equals(first.bytes));
    assert.ok(fs.existsSync(blobPath), 'cached again');

    // The seller used is part of the key: with today's seller asked for, a new name is there at once.
    expectStatus(await api.patch('/v1/tenant/settings', { document_seller: { name: 'Uusi Nimi Oy' } }), 200);
    try {
      const renamed = await pdfText((await fetchDocument(`${url}&seller=current`)).bytes);
      assert.ok(renamed.includes('Uusi Nimi Oy') && !renamed.includes('Kärkkäinen Øy'));
      assert.ok((await fetchDocument(url)).bytes.equals(first.bytes), 'the version as written is unchanged');
    } finally {
      expectStatus(await api.patch('/v1/tenant/settings', { document_seller: { name: seller.name } }), 200);
    }
  });

  test('a version keeps the seller in force when it was written, after the settings change; ?seller=current and drafts show today\'s', async () => {
    const invoice = await openInvoice();
    const url = `/v1/invoices/${invoice.id}/document`;
    const pdf = await fetchDocument(`${url}?format=pdf`);
    const ubl = await fetchDocument(`${url}?format=ubl`);
    const finvoice = await fetchDocument(`${url}?format=finvoice`);
    const draft = expectStatus(await api.post('/v1/invoices', { currency: 'EUR', lines: [{ description: 'Luonnos', quantity: '1', unit_price: '10', tax_rate: '24' }] }), 201);

    const moved = { name: 'Muuttanut Oy', iban: 'DE89 3704 0044 0532 0130 00', address: { line1: 'Uusikatu 9', city: 'Tampere' } };
    expectStatus(await api.patch('/v1/tenant/settings', { document_seller: moved }), 200);
    try {
      // The document the customer received, byte for byte, in every format.
      assert.ok((await fetchDocument(`${url}?format=pdf`)).bytes.equals(pdf.bytes), 'PDF as sent');
      assert.ok((await fetchDocument(`${url}?format=ubl`)).bytes.equals(ubl.bytes), 'UBL as sent');
      assert.ok((await fetchDocument(`${url}?format=finvoice`)).bytes.equals(finvoice.bytes), 'Finvoice as sent');
      assert.ok((await fetchDocument(`${url}?format=pdf&version=${invoice.version}`)).bytes.equals(pdf.bytes));

      // Today's seller on request (a re-sent copy with the new bank account).
      const today = await fetchDocument(`${url}?format=ubl&seller=current`);
      const account = parser.parse(today.text).Invoice.PaymentMeans.PayeeFinancialAccount;
      assert.equal(account.ID, 'DE89370400440532013000');
      assert.ok((await pdfText((await fetchDocument(`${url}?format=pdf&seller=current`)).bytes)).includes('Muuttanut Oy'));
      expectProblem(await api.get(`${url}?format=pdf&seller=yesterday`), 400, 'validation-error');

      // A draft is not issued yet: it shows today's seller.
      assert.ok((await pdfText((await fetchDocument(`/v1/invoices/${draft.id}/document?format=pdf`)).bytes)).includes('Muuttanut Oy'));

      // The next version is written under the new settings, the earlier one keeps the old.
      const next = expectStatus(await api.patch(`/v1/invoices/${invoice.id}`, { memo: 'Uusi muistio' }), 200);
      const nextText = await pdfText((await fetchDocument(`${url}?format=pdf`)).bytes);
      assert.ok(nextText.includes('Muuttanut Oy') && nextText.includes('Uusi muistio'));
      assert.equal(next.version, invoice.version + 1);
      const oldText = await pdfText((await fetchDocument(`${url}?format=pdf&version=${invoice.version}`)).bytes);
      assert.ok(oldText.includes('Kärkkäinen Øy') && !oldText.includes('Muuttanut Oy'));
    } finally {
      expectStatus(await api.patch('/v1/tenant/settings', { document_seller: { name: seller.name, iban: seller.iban, address: { ...seller.address, line1: seller.address.line1, line2: null } } }), 200);
    }
  });

  test('a 1,000-line invoice renders through the route as a multi-page PDF (pages counted), every line and the total in it', async () => {
    const lines = Array.from({ length: 1000 }, (_, index) => ({ description: `Rivi ${index + 1} – työ`, quantity: String((index % 5) + 1), unit_price: '12.34', tax_rate: index % 2 ? '25.5' : '14' }));
    const invoice = await openInvoice(lines);
    const document = await fetchDocument(`/v1/invoices/${invoice.id}/document?format=pdf`);
    assert.equal(document.status, 200);
    const parsed = new PDFParse({ data: new Uint8Array(document.bytes) });
    try {
      const result = await parsed.getText();
      assert.ok(result.total >= 20, `${result.total} pages`);
      assert.equal(result.pages.length, result.total);
      const text = result.text.replace(/\s+/g, ' ');
      for (const line of lines) assert.ok(text.includes(`${line.description} `), line.description);
      assert.ok(text.includes(`Page ${result.total} of ${result.total}`));
      assert.ok(text.includes(`Total ${invoice.total.replace(/\B(?=(\d{3})+(?!\d))/g, ',')} EUR`), invoice.total);
    } finally {
      await parsed.destroy();
    }
  });

  test('another tenant\'s invoice is a 404; an unknown one too', async () => {
    const invoice = await openInvoice();
    const other = t.client(await t.key('documents-other'));
    expectProblem(await other.get(`/v1/invoices/${invoice.id}/document?format=pdf`), 404, 'not-found');
    expectProblem(await api.get('/v1/invoices/inv_missing/document?format=pdf'), 404, 'not-found');
  });
});

describe('EN 16931 rules on documents served by the route', () => {
  test('random invoices made through the API (mixed rates, discounts, inclusive tax, JPY/BHD, payments, partial credit notes): every UBL Invoice and CreditNote served keeps the rules', async () => {
    const rate = fc.constantFrom('0', '10', '14', '24', '25.5');
    const line = fc.record({
      description: fc.constantFrom('Työ', 'Tavara ø', 'Rahti €'),
      quantity: fc.constantFrom('1', '3', '0.125', '7'),
      unit_price: fc.constantFrom('0.05', '19.99', '1250', '0.333'),
      tax_rate: rate,
      discount: fc.option(fc.constantFrom({ type: 'percent', value: '12.5' }, { type: 'amount', value: '0.5' }), { nil: undefined }),
    }).map((entry) => (entry.discount?.type === 'amount' && Number(entry.quantity) * Number(entry.unit_price) < 1 ? { ...entry, discount: undefined } : entry));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('EUR', 'JPY', 'BHD'),
        fc.constantFrom('exclusive', 'inclusive'),
        fc.constantFrom('half_up', 'half_even', 'down'),
        fc.array(line, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        async (currency, taxMode, roundingMode, lines, pay) => {
          const draft = expectStatus(await api.post('/v1/invoices', { currency, tax_mode: taxMode, rounding_mode: roundingMode, bill_to: { name: 'Ostaja Oy', address: { country: 'FI' } }, lines }), 201);
          const invoice = expectStatus(await api.post(`/v1/invoices/${draft.id}/finalize`), 200);
          const documents = [(await fetchDocument(`/v1/invoices/${invoice.id}/document?format=ubl`)).text];
          // The credit (0.99 + up to 25.5% tax = 1.24) and the payment (0.50) must fit in what is left.
          if (Number(invoice.total) > 2) {
            if (pay) expectStatus(await api.post(`/v1/invoices/${invoice.id}/payments`, { amount: currency === 'JPY' ? '1' : '0.50', date: '2026-03-02', method: 'bank_transfer' }), 201);
            const note = expectStatus(await api.post('/v1/credit-notes', { invoice_id: invoice.id, reason: 'Osahyvitys', lines: [{ description: 'Hyvitys', quantity: '1', unit_price: currency === 'JPY' ? '1' : '0.99', tax_rate: lines[0]!.tax_rate }] }), 201);
            documents.push((await fetchDocument(`/v1/credit-notes/${note.id}/document?format=ubl`)).text);
            documents.push((await fetchDocument(`/v1/invoices/${invoice.id}/document?format=ubl`)).text); // with paid and credited amounts
          }
          for (const xml of documents) assert.deepEqual(brokenRules(xml), [], xml.slice(0, 200));
        },
      ),
      { numRuns: 12 },
    );
  });
});

describe('credit note documents', () => {
  test('PDF titled CREDIT NOTE with the credited number; UBL CreditNote with BG-3; Finvoice is not offered', async () => {
    const invoice = await openInvoice();
    const note = expectStatus(await api.post('/v1/credit-notes', { invoice_id: invoice.id, reason: 'Palautus', lines: [{ description: 'Returned', quantity: '1', unit_price: '100', tax_rate: '25.5' }] }), 201);
    const pdf = await fetchDocument(`/v1/credit-notes/${note.id}/document?format=pdf`);
    assert.equal(pdf.status, 200);
    const text = await pdfText(pdf.bytes);
    assert.ok(text.includes('CREDIT NOTE') && text.includes(note.number) && text.includes(`credits invoice ${invoice.number}`));
    assert.ok(text.includes('125.50 EUR'));

    const ubl = await fetchDocument(`/v1/credit-notes/${note.id}/document`, { accept: 'application/xml' });
    const credit = parser.parse(ubl.text).CreditNote;
    assert.equal(credit.ID, note.number);
    assert.equal(credit.BillingReference.InvoiceDocumentReference.ID, invoice.number);
    assert.equal(credit.LegalMonetaryTotal.PayableAmount['#text'], '125.50');
    assert.ok((await fetchDocument(`/v1/credit-notes/${note.id}/document?format=pdf`)).bytes.equals(pdf.bytes));
    expectProblem(await api.get(`/v1/credit-notes/${note.id}/document?format=finvoice`), 400, 'validation-error');
  });

  test('a credit note keeps the credited invoice and the seller as they were when it was issued', async () => {
    const invoice = await openInvoice();
    const note = expectStatus(await api.post('/v1/credit-notes', { invoice_id: invoice.id, reason: 'Hyvitys', lines: [{ description: 'Alennus', quantity: '1', unit_price: '10', tax_rate: '25.5' }] }), 201);
    const url = `/v1/credit-notes/${note.id}/document`;
    const pdf = await fetchDocument(`${url}?format=pdf`);
    const ubl = await fetchDocument(`${url}?format=ubl`);

    // Later: the invoice's buyer and purchase order are edited, and the seller moves.
    expectStatus(await api.patch(`/v1/invoices/${invoice.id}`, { bill_to: { name: 'Toinen Ostaja Ab', address: { country: 'SE' } }, purchase_order: 'PO-LATER' }), 200);
    expectStatus(await api.patch('/v1/tenant/settings', { document_seller: { name: 'Muuttanut Oy' } }), 200);
    try {
      assert.ok((await fetchDocument(`${url}?format=pdf`)).bytes.equals(pdf.bytes), 'the credit note as sent');
      assert.ok((await fetchDocument(`${url}?format=ubl`)).bytes.equals(ubl.bytes));
      const credit = parser.parse(ubl.text).CreditNote;
      assert.equal(credit.AccountingCustomerParty.Party.PartyName.Name, 'Åsa Łukasz AB');
      const today = await pdfText((await fetchDocument(`${url}?format=pdf&seller=current`)).bytes);
      assert.ok(today.includes('Muuttanut Oy') && today.includes('Åsa Łukasz AB'), 'today\'s seller; the buyer as credited');
    } finally {
      expectStatus(await api.patch('/v1/tenant/settings', { document_seller: { name: seller.name } }), 200);
    }
  });
});
