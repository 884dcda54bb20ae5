import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PDFParse } from 'pdf-parse';
import { renderPdf } from '../../src/modules/documents/pdf.js';
import { creditNoteSource, invoiceSource } from '../../src/modules/documents/source.js';
import { formatMoney } from '../../src/modules/documents/format.js';
import { fullCreditFor } from '../../src/modules/credit-notes/domain.js';
import { bluePng, buildInvoice, longInvoice, sampleParty } from '../helpers/document-fixtures.js';

async function pdfText(bytes: Buffer): Promise<{ text: string; pages: string[] }> {
  const parser = new PDFParse({ data: new Uint8Array(bytes) });
  try {
    const result = await parser.getText();
    return { text: result.text, pages: result.pages.map((page) => page.text) };
  } finally {
    await parser.destroy();
  }
}

/** Extracted text may break lines differently; compare with whitespace collapsed. */
const flat = (text: string) => text.replace(/\s+/g, ' ');

const invoice = buildInvoice({
  lines: [
    { description: 'Konsultointi – Järvinen', quantity: '3', unitPrice: '1200.50', taxRate: '25.5', unit: 'h' },
    { description: 'Søknad € Łódź', quantity: '1', unitPrice: '20', taxRate: '10', discount: { type: 'percent', value: '10' } },
  ],
});

describe('PDF', () => {
  test('parses; its text holds the number, every line, the seller and buyer (full Unicode) and the total in the currency\'s format', async () => {
    const bytes = await renderPdf(invoiceSource(invoice), sampleParty);
    assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-');
    assert.match(bytes.toString('latin1'), /\/FontFile2/, 'the TrueType font is embedded');
    const text = flat((await pdfText(bytes)).text);
    assert.ok(text.includes('INV-000042'));
    for (const line of invoice.lines) assert.ok(text.includes(line.description!), line.description!);
    assert.equal(formatMoney(invoice.total, 'EUR'), '4,539.68 EUR');
    assert.ok(text.includes('4,539.68 EUR'), 'total');
    assert.ok(text.includes('Järvinen & Søn Łódź Oy'));
    assert.ok(text.includes('Folio Öy Äb'));
    assert.ok(text.includes('INVOICE'));
    assert.ok(!text.includes('DRAFT'));
  });

  test('holds every part the customer needs: parties, dates, terms, references, each line\'s figures, the tax breakdown, totals, amount due, payment details, notes', async () => {
    const paid = buildInvoice({
      reference: '1232',
      amountPaid: '100.00',
      lines: [
        { description: 'Konsultointi', quantity: '3', unitPrice: '1200.50', taxRate: '25.5', unit: 'h', discount: { type: 'percent', value: '10' } },
        { description: 'Kirja', quantity: '2', unitPrice: '20', taxRate: '10', discount: { type: 'amount', value: '2' } },
      ],
    });
    const text = flat((await pdfText(await renderPdf(invoiceSource(paid), sampleParty))).text);
    const money = (amount: string) => formatMoney(amount, 'EUR');
    const expected = [
      'From Folio Öy Äb Aleksanterinkatu 5 00100 Helsinki FI VAT FI12345678 Business ID 1234567-8',
      'Bill to Järvinen & Søn Łódź Oy Mannerheimintie 1 00100 Helsinki FI VAT FI87654321',
      'Number INV-000042',
      'Issue date 2026-03-01',
      'Due date 2026-03-31',
      'Payment terms Net 30 days',
      'Reference 1232',
      'Purchase order PO-7',
      'Description Qty Unit price Disc. Tax % Tax Net',
      // Each line: description, quantity and unit, unit price, discount, tax rate, tax, net.
      `Konsultointi 3 h 1,200.50 10 % 25.5 ${money(paid.lines[0]!.tax_amount).replace(' EUR', '')} ${money(paid.lines[0]!.net_amount).replace(' EUR', '')}`,
      `Kirja 2 20 2 10 ${money(paid.lines[1]!.tax_amount).replace(' EUR', '')} ${money(paid.lines[1]!.net_amount).replace(' EUR', '')}`,
      'Tax rate Taxable Tax',
      ...paid.tax_breakdown.map((row) => `${row.tax_rate} % ${money(row.taxable_amount)} ${money(row.tax_amount)}`),
      `Subtotal ${money(paid.subtotal)}`,
      `Discounts included ${money(paid.discount_total)}`,
      `Tax ${money(paid.tax_total)}`,
      `Total ${money(paid.total)}`,
      'Paid 100.00 EUR',
      `Amount due ${money(paid.balance)}`,
      'Pay to IBAN FI21 1234 5600 0007 85',
      'BIC NDEAFIHH',
      'Payment reference 1232',
      `Notes ${paid.memo}`,
    ];
    for (const part of expected) assert.ok(text.includes(part), `missing: ${part}`);
    assert.equal(paid.balance, '4009.69');
  });

  test('amounts follow the currency: no decimals for JPY, three for BHD', async () => {
    const yen = buildInvoice({ currency: 'JPY', lines: [{ description: 'Ramen', quantity: '1234', unitPrice: '1000', taxRate: '10' }] });
    assert.ok(flat((await pdfText(await renderPdf(invoiceSource(yen), sampleParty))).text).includes('1,357,400 JPY'));
    const dinar = buildInvoice({ currency: 'BHD', lines: [{ description: 'Dates', quantity: '1', unitPrice: '1.125', taxRate: '10' }] });
    assert.ok(flat((await pdfText(await renderPdf(invoiceSource(dinar), sampleParty))).text).includes('1.238 BHD'));
  });

  test('two renders of the same version are identical bytes', async () => {
    const first = await renderPdf(invoiceSource(invoice), sampleParty);
    const second = await renderPdf(invoiceSource(invoice), sampleParty);
    assert.ok(first.equals(second));
  });

  test('a draft carries a DRAFT watermark on every page, a void invoice VOID, an open one neither', async () => {
    const lines = Array.from({ length: 120 }, (_, index) => ({ description: `Rivi ${index + 1}`, quantity: '1', unitPrice: '10', taxRate: '24' }));
    const draft = buildInvoice({ status: 'draft', lines });
    const { pages } = await pdfText(await renderPdf(invoiceSource(draft), sampleParty));
    assert.ok(pages.length >= 2);
    for (const [index, page] of pages.entries()) assert.ok(flat(page).includes('DRAFT'), `DRAFT on page ${index + 1}`);
    const voided = flat((await pdfText(await renderPdf(invoiceSource({ ...buildInvoice({ lines }), status: 'void' }), sampleParty))).text);
    assert.ok(voided.includes('VOID') && !voided.includes('DRAFT'));
    const open = flat((await pdfText(await renderPdf(invoiceSource(buildInvoice({ lines })), sampleParty))).text);
    assert.ok(!open.includes('VOID') && !open.includes('DRAFT'));
  });

  test('a credit note is titled CREDIT NOTE and names the credited invoice', async () => {
    const note = fullCreditFor(invoice, { id: 'crn_1', number: 'CN-000003', reason: 'Returned goods', revisionId: null, issueDate: '2026-03-05', now: '2026-03-05T00:00:00Z' });
    const text = flat((await pdfText(await renderPdf(creditNoteSource(note, invoice), sampleParty))).text);
    assert.ok(text.includes('CREDIT NOTE'));
    assert.ok(text.includes('CN-000003'));
    assert.ok(text.includes('credits invoice INV-000042'));
    assert.ok(text.includes('Returned goods'));
  });

  test('the logo is drawn on every page and embedded once; an unreadable logo is left out', async () => {
    const bytes = await renderPdf(invoiceSource(longInvoice(150)), { ...sampleParty, logo: bluePng() });
    const { pages } = await pdfText(bytes);
    assert.ok(pages.length >= 3);
    assert.equal(bytes.toString('latin1').split('/Subtype /Image').length - 1, 1, 'one image object');
    const broken = await renderPdf(invoiceSource(invoice), { ...sampleParty, logo: Buffer.from('not an image') });
    assert.ok(flat((await pdfText(broken)).text).includes('INV-000042'));
  });

  test('a 1,000-line invoice runs over many pages, each with the header and the table heading repeated', async () => {
    const long = longInvoice(1000);
    const { pages } = await pdfText(await renderPdf(invoiceSource(long), sampleParty));
    assert.ok(pages.length >= 20, `${pages.length} pages`);
    pages.forEach((page, index) => {
      const text = flat(page);
      assert.ok(text.includes('INVOICE') && text.includes('INV-000042') && text.includes('Folio Öy Äb'), `header on page ${index + 1}`);
      assert.ok(text.includes(`Page ${index + 1} of ${pages.length}`), `page number on page ${index + 1}`);
    });
    // The table heading starts every page that holds lines; the last line and the total are there.
    const all = flat(pages.join(' '));
    assert.ok(pages.filter((page) => flat(page).includes('Description Qty Unit price')).length >= pages.length - 1);
    assert.ok(all.includes('Line 1000: työtunnit'));
    assert.ok(all.includes(formatMoney(long.total, 'EUR')));
  });

  test('any text renders: long descriptions and memos, any Unicode (glyphs the font lacks included), every currency', async () => {
    const text = (maxLength: number) => fc.string({ unit: fc.constantFrom('a', 'Ł', 'ø', '€', ' ', '\n', '漢', '😀', 'W', '-'), maxLength });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ description: text(2000), quantity: fc.constantFrom('1', '2.5', '-1', '1000000'), unitPrice: fc.constantFrom('0.01', '99999999.99', '12.3456'), taxRate: fc.constantFrom('0', '24', null) }), { minLength: 1, maxLength: 6 }),
        fc.constantFrom('EUR', 'JPY', 'BHD'),
        text(5000),
        async (lines, currency, memo) => {
          const invoice = { ...buildInvoice({ currency, lines }), memo };
          const bytes = await renderPdf(invoiceSource(invoice), sampleParty);
          const { pages } = await pdfText(bytes);
          assert.ok(pages.length >= 1 && pages.length <= 20, `${pages.length} pages`);
          for (const [index, page] of pages.entries()) assert.ok(flat(page).includes(`Page ${index + 1} of ${pages.length}`));
        },
      ),
      { numRuns: 12 },
    );
  });
});
