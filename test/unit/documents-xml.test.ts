import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { XMLValidator } from 'fast-xml-parser';
import { Dec, currencyMinorUnits } from '../../src/shared/money.js';
import { renderUbl } from '../../src/modules/documents/ubl.js';
import { renderFinvoice } from '../../src/modules/documents/finvoice.js';
import { creditNoteSource, invoiceSource } from '../../src/modules/documents/source.js';
import { fullCreditFor, partialCreditFor } from '../../src/modules/credit-notes/domain.js';
import { finnishCheckDigit, isValidFinnishReference, isValidIban, isValidRfReference, paymentReferenceFor, rfReferenceFor } from '../../src/modules/documents/payment-reference.js';
import { buildInvoice, sampleParty, type FixtureLine } from '../helpers/document-fixtures.js';
import { amountOf, assertWellFormed, brokenRules, parser, type Node } from '../helpers/en16931-rules.js';
import { emptySeller } from '../../src/modules/documents/seller.js';

const rates = ['0', '10', '14', '24', '25.5', '7.7'];
const decimalText = (maxInteger: number, places: number) =>
  fc.tuple(fc.integer({ min: 0, max: maxInteger }), fc.integer({ min: 0, max: 10 ** places - 1 })).map(([integer, fraction]) => (places === 0 ? String(integer) : `${integer}.${String(fraction).padStart(places, '0')}`));

const lineArbitrary: fc.Arbitrary<FixtureLine> = fc.record({
  description: fc.string({ maxLength: 30, unit: fc.oneof(fc.constantFrom('\u0001', '\u0008', '\uFFFE', '\uD800', '&', '<', ']]>', '"', 'ä', 'Ł', '€'), fc.string({ minLength: 1, maxLength: 1 })) }),
  quantity: fc.oneof(decimalText(50, 0), decimalText(20, 3), decimalText(5, 0).map((text) => (text === '0' ? '-1' : `-${text}`))),
  unitPrice: fc.oneof(decimalText(5000, 2), decimalText(200, 4), decimalText(100_000, 0)),
  taxRate: fc.option(fc.constantFrom(...rates), { nil: null }),
  discount: fc.option(
    fc.oneof(
      decimalText(100, 2).map((value) => ({ type: 'percent' as const, value })),
      decimalText(3, 2).map((value) => ({ type: 'amount' as const, value })),
    ),
    { nil: null },
  ),
  unit: fc.constantFrom(null, 'h', 'pcs', 'kg', 'XYZ'),
});

const invoiceArbitrary = fc.record({
  currency: fc.constantFrom('EUR', 'JPY', 'BHD', 'USD', 'KWD', 'SEK'),
  taxMode: fc.constantFrom('exclusive' as const, 'inclusive' as const),
  roundingMode: fc.constantFrom('half_up' as const, 'half_even' as const, 'half_down' as const, 'up' as const, 'down' as const),
  lines: fc.array(lineArbitrary, { minLength: 1, maxLength: 15 }),
  paidShare: fc.constantFrom(0, 0, 0.5),
  terms: fc.constantFrom('due date and net days', 'due date', 'net days', 'neither'),
});

describe('UBL 2.1 / Peppol BIS 3', () => {
  test('every generated invoice and credit note satisfies EN 16931 BR-CO-10/13/14/15/16/17/25, BR-S-08 (BR-Z-08), BR-DEC and keeps Folio\'s amount due (and its Finvoice is well-formed and adds up)', () => {
    fc.assert(
      fc.property(invoiceArbitrary, (input) => {
        const unpaid = buildInvoice(input);
        const places = currencyMinorUnits(input.currency);
        const paid = new Dec(unpaid.total).times(input.paidShare).toDecimalPlaces(places, Dec.ROUND_DOWN).toFixed(places);
        const built = buildInvoice({ ...input, amountPaid: paid });
        const invoice = {
          ...built,
          due_date: input.terms.includes('due date') ? built.due_date : null,
          payment_terms: input.terms.includes('net days') ? built.payment_terms : null,
        };
        const xml = renderUbl(invoiceSource(invoice), sampleParty).toString('utf8');
        assert.deepEqual(brokenRules(xml), []);
        const parsed = parser.parse(xml).Invoice;
        // The amount due is Folio's (to 2 decimals for 3-decimal currencies).
        const due = new Dec(invoice.balance).toDecimalPlaces(2, Dec.ROUND_HALF_UP);
        assert.ok(amountOf(parsed.LegalMonetaryTotal.PayableAmount).minus(due).abs().lte(places > 2 ? 0.01 : 0), `${parsed.LegalMonetaryTotal.PayableAmount['#text']} vs ${invoice.balance}`);

        const finvoice = renderFinvoice(invoiceSource(invoice), sampleParty).toString('utf8');
        assertWellFormed(finvoice);
        const finvoiceDetails = parser.parse(finvoice).Finvoice;
        const vatRows: Node[] = finvoiceDetails.InvoiceDetails.VatSpecificationDetails ?? [];
        const comma = (node: any) => new Dec(String(node['#text']).replace(',', '.'));
        assert.ok(vatRows.reduce((acc, row) => acc.plus(comma(row.VatRateAmount)), new Dec(0)).eq(comma(finvoiceDetails.InvoiceDetails.InvoiceTotalVatAmount)), 'Finvoice VAT rows add up');
        const remittance = finvoiceDetails.EpiDetails.EpiPaymentInstructionDetails.EpiRemittanceInfoIdentifier;
        assert.ok(remittance['@IdentificationSchemeName'] === 'SPY' ? isValidFinnishReference(remittance['#text']) : isValidRfReference(remittance['#text']));

        if (new Dec(invoice.total).gt(0)) {
          const note = fullCreditFor(invoice, { id: 'crn_1', number: 'CN-000001', reason: 'Returned', revisionId: null, issueDate: '2026-03-05', now: '2026-03-05T00:00:00Z' });
          assert.deepEqual(brokenRules(renderUbl(creditNoteSource(note, invoice), sampleParty).toString('utf8')), []);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('every partial credit note (random lines, both tax modes, every rounding mode, 0/2/3-decimal currencies) satisfies the same rules', () => {
    const creditLine = fc.record({
      description: fc.string({ maxLength: 20 }),
      quantity: fc.oneof(decimalText(20, 0), decimalText(5, 3)),
      unit_price: fc.oneof(decimalText(5000, 2), decimalText(200, 4)),
      tax_rate: fc.option(fc.constantFrom(...rates), { nil: null }),
      unit: fc.constantFrom(null, 'h', 'kg'),
    });
    let rendered = 0;
    fc.assert(
      fc.property(invoiceArbitrary, fc.array(creditLine, { minLength: 1, maxLength: 10 }), (input, lines) => {
        const credited = buildInvoice({ ...input, lines: [{ description: 'Iso tilaus', quantity: '1', unitPrice: '100000000', taxRate: '24' }] });
        let note: ReturnType<typeof partialCreditFor>;
        try {
          note = partialCreditFor(credited, lines, { id: 'crn_p', number: 'CN-000002', reason: 'Osahyvitys', issueDate: '2026-03-05', now: '2026-03-05T00:00:00Z' });
        } catch {
          return; // lines that credit nothing are refused before any document exists
        }
        assert.deepEqual(brokenRules(renderUbl(creditNoteSource(note, credited), sampleParty).toString('utf8')), []);
        rendered++;
      }),
      { numRuns: 200 },
    );
    assert.ok(rendered > 150, `${rendered} of 200 runs made a credit note`);
  });

  test('a 0.5-cent-per-line difference over many lines goes to the payable rounding amount, not to the lines', () => {
    const lines = Array.from({ length: 10 }, () => ({ description: 'Widget', quantity: '1', unitPrice: '0.05', taxRate: '10' }));
    const invoice = buildInvoice({ lines }); // per line: 0.005 tax → 0.01 each (half up) → 0.10 tax in Folio
    assert.equal(invoice.tax_total, '0.10');
    const parsed = parser.parse(renderUbl(invoiceSource(invoice), sampleParty).toString('utf8')).Invoice;
    assert.equal(parsed.TaxTotal.TaxAmount['#text'], '0.05'); // per category: 0.50 × 10 %
    assert.equal(parsed.LegalMonetaryTotal.PayableRoundingAmount['#text'], '0.05');
    assert.equal(parsed.LegalMonetaryTotal.PayableAmount['#text'], invoice.total);
  });

  test('the document carries Peppol ids, parties, payment means and (for a credit note) the credited invoice (BG-3)', () => {
    const invoice = buildInvoice({ lines: [{ description: 'Työ – ø', quantity: '2', unitPrice: '50', taxRate: '24', discount: { type: 'percent', value: '10' } }] });
    const parsed = parser.parse(renderUbl(invoiceSource(invoice), sampleParty).toString('utf8')).Invoice;
    assert.equal(parsed.CustomizationID, 'urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0');
    assert.equal(parsed.ID, 'INV-000042');
    assert.equal(parsed.InvoiceTypeCode, '380');
    assert.equal(parsed.AccountingSupplierParty.Party.PartyTaxScheme.CompanyID, 'FI12345678');
    assert.equal(parsed.AccountingCustomerParty.Party.PartyLegalEntity.RegistrationName, 'Järvinen & Søn Łódź Oy');
    assert.equal(parsed.PaymentMeans.PayeeFinancialAccount.ID, 'FI2112345600000785');
    assert.equal(parsed.InvoiceLine[0].AllowanceCharge[0].Amount['#text'], '10.00');
    assert.equal(parsed.InvoiceLine[0].Item.Name, 'Työ – ø');

    const note = fullCreditFor(invoice, { id: 'crn_1', number: 'CN-000007', reason: 'Cancelled', revisionId: null, issueDate: '2026-03-05', now: '2026-03-05T00:00:00Z' });
    const credit = parser.parse(renderUbl(creditNoteSource(note, invoice), sampleParty).toString('utf8')).CreditNote;
    assert.equal(credit.CreditNoteTypeCode, '381');
    assert.equal(credit.BillingReference.InvoiceDocumentReference.ID, 'INV-000042');
    assert.equal(credit.BillingReference.InvoiceDocumentReference.IssueDate, '2026-03-01');
    assert.equal(credit.LegalMonetaryTotal.PayableAmount['#text'], invoice.total);
  });

  test('the same invoice renders to the same bytes', () => {
    const invoice = buildInvoice({ lines: [{ description: 'A', quantity: '1', unitPrice: '10', taxRate: '24' }] });
    assert.ok(renderUbl(invoiceSource(invoice), sampleParty).equals(renderUbl(invoiceSource(invoice), sampleParty)));
  });
});

describe('payment references', () => {
  test('Finnish reference check digits (7-3-1) and RF references (ISO 11649) match published examples', () => {
    assert.equal(finnishCheckDigit('123'), 2);
    assert.ok(isValidFinnishReference('1232'));
    assert.ok(!isValidFinnishReference('1233'));
    assert.ok(isValidRfReference('RF18539007547034'));
    assert.ok(isValidRfReference('RF18 5390 0754 7034'));
    assert.ok(!isValidRfReference('RF19539007547034'));
    assert.equal(rfReferenceFor('539007547034'), 'RF18539007547034');
    assert.ok(isValidIban('FI21 1234 5600 0007 85') && isValidIban('DE89370400440532013000'));
    assert.ok(!isValidIban('FI22 1234 5600 0007 85') && !isValidIban('FI21'));
  });

  test('a reference derived from any reference, number and id is always valid', () => {
    fc.assert(
      fc.property(fc.option(fc.string({ maxLength: 40 }), { nil: null }), fc.option(fc.string({ maxLength: 30 }), { nil: null }), (reference, number) => {
        const derived = paymentReferenceFor({ reference, number, id: 'inv_01HXYZ' });
        assert.ok(derived.scheme === 'SPY' ? isValidFinnishReference(derived.value) : isValidRfReference(derived.value), JSON.stringify({ reference, number, derived }));
      }),
      { numRuns: 500 },
    );
    assert.deepEqual(paymentReferenceFor({ reference: null, number: 'INV-000042', id: 'x' }), { value: '1423', scheme: 'SPY' });
    assert.deepEqual(paymentReferenceFor({ reference: '1232', number: 'INV-1', id: 'x' }), { value: '1232', scheme: 'SPY' });
  });
});

describe('Finvoice 3.0', () => {
  test('is well-formed, has the required elements, Folio\'s figures and a payment reference with a valid check digit', () => {
    const invoice = buildInvoice({
      lines: [
        { description: 'Konsultointi', quantity: '3', unitPrice: '120.50', taxRate: '25.5', unit: 'h' },
        { description: 'Kirja', quantity: '1', unitPrice: '20', taxRate: '10', discount: { type: 'amount', value: '2' } },
      ],
    });
    const xml = renderFinvoice(invoiceSource(invoice), sampleParty).toString('utf8');
    assert.equal(XMLValidator.validate(xml), true);
    const finvoice = parser.parse(xml).Finvoice;
    assert.equal(finvoice['@Version'], '3.0');
    for (const element of ['SellerPartyDetails', 'BuyerPartyDetails', 'InvoiceDetails', 'InvoiceRow', 'EpiDetails']) assert.ok(finvoice[element], element);
    assert.equal(finvoice.SellerPartyDetails.SellerPartyIdentifier, '1234567-8');
    assert.equal(finvoice.SellerOrganisationUnitNumber, '003712345678');
    assert.equal(finvoice.BuyerPartyDetails.BuyerOrganisationName, 'Järvinen & Søn Łódź Oy');
    const details = finvoice.InvoiceDetails;
    assert.equal(details.InvoiceTypeCode, 'INV01');
    assert.equal(details.InvoiceNumber, 'INV-000042');
    assert.equal(details.InvoiceDate['#text'], '20260301');
    assert.equal(details.InvoiceTotalVatIncludedAmount['#text'], invoice.total.replace('.', ','));
    assert.equal(details.VatSpecificationDetails.length, 2);
    assert.equal(details.PaymentTermsDetails.InvoiceDueDate['#text'], '20260331');
    assert.equal(finvoice.InvoiceRow.length, 2);
    assert.equal(finvoice.InvoiceRow[0].DeliveredQuantity['@QuantityUnitCode'], 'HUR');
    const epi = finvoice.EpiDetails;
    assert.equal(epi.EpiPartyDetails.EpiBeneficiaryPartyDetails.EpiAccountID['#text'], 'FI2112345600000785');
    assert.equal(epi.EpiPartyDetails.EpiBfiPartyDetails.EpiBfiIdentifier['#text'], 'NDEAFIHH');
    const remittance = epi.EpiPaymentInstructionDetails.EpiRemittanceInfoIdentifier;
    assert.equal(remittance['@IdentificationSchemeName'], 'SPY');
    assert.ok(isValidFinnishReference(remittance['#text']));
    assert.equal(epi.EpiPaymentInstructionDetails.EpiInstructedAmount['#text'], invoice.balance.replace('.', ','));
  });

  test('an RF creditor reference is kept (scheme ISO, mod-97 valid), a draft without a number gets a derived RF reference; the same reference is in UBL', () => {
    const withRf = buildInvoice({ reference: 'RF18 5390 0754 7034', lines: [{ description: 'A', quantity: '1', unitPrice: '10', taxRate: '24' }] });
    const finvoice = parser.parse(renderFinvoice(invoiceSource(withRf), sampleParty).toString('utf8')).Finvoice;
    const remittance = finvoice.EpiDetails.EpiPaymentInstructionDetails.EpiRemittanceInfoIdentifier;
    assert.equal(remittance['@IdentificationSchemeName'], 'ISO');
    assert.equal(remittance['#text'], 'RF18539007547034');
    assert.ok(isValidRfReference(remittance['#text']));
    assert.equal(parser.parse(renderUbl(invoiceSource(withRf), sampleParty).toString('utf8')).Invoice.PaymentMeans.PaymentID, 'RF18539007547034');

    const draft = buildInvoice({ status: 'draft', lines: [{ description: 'A', quantity: '1', unitPrice: '10', taxRate: '24' }] });
    assert.equal(draft.number, null);
    const draftRemittance = parser.parse(renderFinvoice(invoiceSource(draft), sampleParty).toString('utf8')).Finvoice.EpiDetails.EpiPaymentInstructionDetails.EpiRemittanceInfoIdentifier;
    assert.equal(draftRemittance['@IdentificationSchemeName'], 'ISO');
    assert.ok(isValidRfReference(draftRemittance['#text']), draftRemittance['#text']);
  });

  test('the elements Finvoice 3.0 requires are there even when the seller and buyer have filled nothing in', () => {
    const bare = { ...buildInvoice({ lines: [{ description: '', quantity: '1', unitPrice: '10', taxRate: null }] }), bill_to: null, due_date: null, payment_terms: null, purchase_order: null, memo: null };
    const xml = renderFinvoice(invoiceSource(bare), { seller: emptySeller, logo: null }).toString('utf8');
    assert.equal(XMLValidator.validate(xml), true);
    const finvoice = parser.parse(xml).Finvoice;
    const at = (path: string) => path.split('/').reduce<any>((node, key) => (node === undefined ? undefined : Array.isArray(node[key]) ? node[key][0] : node[key]), finvoice);
    const required = [
      'SellerPartyDetails/SellerOrganisationName',
      'SellerPartyDetails/SellerPostalAddressDetails/SellerStreetName',
      'SellerPartyDetails/SellerPostalAddressDetails/SellerTownName',
      'SellerPartyDetails/SellerPostalAddressDetails/SellerPostCodeIdentifier',
      'BuyerPartyDetails/BuyerOrganisationName',
      'BuyerPartyDetails/BuyerPostalAddressDetails/BuyerStreetName',
      'BuyerPartyDetails/BuyerPostalAddressDetails/BuyerTownName',
      'BuyerPartyDetails/BuyerPostalAddressDetails/BuyerPostCodeIdentifier',
      'InvoiceDetails/InvoiceTypeCode',
      'InvoiceDetails/InvoiceTypeText',
      'InvoiceDetails/OriginCode',
      'InvoiceDetails/InvoiceNumber',
      'InvoiceDetails/InvoiceDate',
      'InvoiceDetails/InvoiceTotalVatIncludedAmount',
      'InvoiceRow/ArticleName',
      'EpiDetails/EpiIdentificationDetails/EpiDate',
      'EpiDetails/EpiIdentificationDetails/EpiReference',
      'EpiDetails/EpiPartyDetails/EpiBeneficiaryPartyDetails/EpiNameAddressDetails',
      'EpiDetails/EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier',
      'EpiDetails/EpiPaymentInstructionDetails/EpiInstructedAmount',
      'EpiDetails/EpiPaymentInstructionDetails/EpiCharge',
      'EpiDetails/EpiPaymentInstructionDetails/EpiDateOptionDate',
    ];
    const missing = required.filter((path) => {
      const node = at(path);
      const text = typeof node === 'object' && node !== null ? node['#text'] : node;
      return text === undefined || String(text).trim() === '';
    });
    assert.deepEqual(missing, []);
    // Without a due date, the payment date is the invoice date (payable at once).
    assert.equal(at('EpiDetails/EpiPaymentInstructionDetails/EpiDateOptionDate')['#text'], '20260301');
  });
});
