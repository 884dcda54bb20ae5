// EN 16931 / UBL 2.1 checks recomputed from a parsed document, shared by the renderers' property
// tests (test/unit/documents-xml.test.ts) and the route tests on both engines (test/api/documents.test.ts).
import assert from 'node:assert/strict';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { Dec } from '../../src/shared/money.js';

const repeated = new Set(['TaxSubtotal', 'InvoiceLine', 'CreditNoteLine', 'AllowanceCharge', 'InvoiceRow', 'VatSpecificationDetails']);
export const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', removeNSPrefix: true, parseTagValue: false, isArray: (name) => repeated.has(name) });

export type Node = Record<string, any>;
export const amountOf = (node: any): Dec => new Dec(typeof node === 'object' ? node['#text'] : node);
const optionalAmount = (node: any): Dec => (node === undefined ? new Dec(0) : amountOf(node));

/** Every element carrying currencyID, with its path (for BR-DEC: at most 2 decimals on amounts). */
function amounts(node: any, path: string, out: { path: string; text: string }[] = []) {
  if (Array.isArray(node)) {
    node.forEach((child, index) => {
      amounts(child, `${path}[${index}]`, out);
    });
  } else if (node && typeof node === 'object') {
    if ('@currencyID' in node) out.push({ path, text: node['#text'] });
    for (const [key, child] of Object.entries(node)) if (!key.startsWith('@') && key !== '#text') amounts(child, `${path}/${key}`, out);
  }
  return out;
}

/**
 * The EN 16931 arithmetic business rules, recomputed from the parsed document. Returns the
 * broken rules (empty when the document is sound).
 */
/** Well-formed, and no character XML 1.0 forbids (fast-xml-parser's validator does not check those). */
export function assertWellFormed(xml: string) {
  assert.equal(XMLValidator.validate(xml), true, 'well-formed');
  assert.doesNotMatch(xml, /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u, 'only XML 1.0 characters');
}

/**
 * The UBL 2.1 schema's element sequences (UBL-Invoice-2.1.xsd, UBL-CreditNote-2.1.xsd and the
 * common aggregate types), for the elements Folio writes and their schema neighbours. No copy of the
 * XSDs can be installed from the registries (docs/documents.md), so the order is checked here.
 */
const ublSequences: Record<string, string[]> = {
  Invoice: ['UBLExtensions', 'UBLVersionID', 'CustomizationID', 'ProfileID', 'ProfileExecutionID', 'ID', 'CopyIndicator', 'UUID', 'IssueDate', 'IssueTime', 'DueDate', 'InvoiceTypeCode', 'Note', 'TaxPointDate', 'DocumentCurrencyCode', 'TaxCurrencyCode', 'PricingCurrencyCode', 'PaymentCurrencyCode', 'PaymentAlternativeCurrencyCode', 'AccountingCostCode', 'AccountingCost', 'LineCountNumeric', 'BuyerReference', 'InvoicePeriod', 'OrderReference', 'BillingReference', 'DespatchDocumentReference', 'ReceiptDocumentReference', 'StatementDocumentReference', 'OriginatorDocumentReference', 'ContractDocumentReference', 'AdditionalDocumentReference', 'ProjectReference', 'Signature', 'AccountingSupplierParty', 'AccountingCustomerParty', 'PayeeParty', 'BuyerCustomerParty', 'SellerSupplierParty', 'TaxRepresentativeParty', 'Delivery', 'DeliveryTerms', 'PaymentMeans', 'PaymentTerms', 'PrepaidPayment', 'AllowanceCharge', 'TaxExchangeRate', 'PricingExchangeRate', 'PaymentExchangeRate', 'PaymentAlternativeExchangeRate', 'TaxTotal', 'WithholdingTaxTotal', 'LegalMonetaryTotal', 'InvoiceLine'],
  CreditNote: ['UBLExtensions', 'UBLVersionID', 'CustomizationID', 'ProfileID', 'ProfileExecutionID', 'ID', 'CopyIndicator', 'UUID', 'IssueDate', 'IssueTime', 'TaxPointDate', 'CreditNoteTypeCode', 'Note', 'DocumentCurrencyCode', 'TaxCurrencyCode', 'PricingCurrencyCode', 'PaymentCurrencyCode', 'PaymentAlternativeCurrencyCode', 'AccountingCostCode', 'AccountingCost', 'LineCountNumeric', 'BuyerReference', 'InvoicePeriod', 'DiscrepancyResponse', 'OrderReference', 'BillingReference', 'DespatchDocumentReference', 'ReceiptDocumentReference', 'ContractDocumentReference', 'AdditionalDocumentReference', 'StatementDocumentReference', 'OriginatorDocumentReference', 'Signature', 'AccountingSupplierParty', 'AccountingCustomerParty', 'PayeeParty', 'BuyerCustomerParty', 'SellerSupplierParty', 'TaxRepresentativeParty', 'Delivery', 'DeliveryTerms', 'PaymentMeans', 'PaymentTerms', 'TaxExchangeRate', 'PricingExchangeRate', 'PaymentExchangeRate', 'PaymentAlternativeExchangeRate', 'AllowanceCharge', 'TaxTotal', 'LegalMonetaryTotal', 'CreditNoteLine'],
  Party: ['MarkCareIndicator', 'MarkAttentionIndicator', 'WebsiteURI', 'LogoReferenceID', 'EndpointID', 'IndustryClassificationCode', 'PartyIdentification', 'PartyName', 'Language', 'PostalAddress', 'PhysicalLocation', 'PartyTaxScheme', 'PartyLegalEntity', 'Contact', 'Person', 'AgentParty', 'ServiceProviderParty', 'PowerOfAttorney', 'FinancialAccount'],
  PostalAddress: ['ID', 'AddressTypeCode', 'AddressFormatCode', 'Postbox', 'Floor', 'Room', 'StreetName', 'AdditionalStreetName', 'BlockName', 'BuildingName', 'BuildingNumber', 'InhouseMail', 'Department', 'MarkAttention', 'MarkCare', 'PlotIdentification', 'CitySubdivisionName', 'CityName', 'PostalZone', 'CountrySubentity', 'CountrySubentityCode', 'Region', 'District', 'TimezoneOffset', 'AddressLine', 'Country', 'LocationCoordinate'],
  PartyTaxScheme: ['RegistrationName', 'CompanyID', 'TaxLevelCode', 'ExemptionReasonCode', 'ExemptionReason', 'RegistrationAddress', 'TaxScheme'],
  PartyLegalEntity: ['RegistrationName', 'CompanyID', 'RegistrationDate', 'RegistrationExpirationDate', 'CompanyLegalFormCode', 'CompanyLegalForm'],
  Contact: ['ID', 'Name', 'Telephone', 'Telefax', 'ElectronicMail', 'Note', 'OtherCommunication'],
  PaymentMeans: ['ID', 'PaymentMeansCode', 'PaymentDueDate', 'PaymentChannelCode', 'InstructionID', 'InstructionNote', 'PaymentID', 'CardAccount', 'PayerFinancialAccount', 'PayeeFinancialAccount', 'CreditAccount', 'PaymentMandate', 'TradeFinancing'],
  PayeeFinancialAccount: ['ID', 'Name', 'AliasName', 'AccountTypeCode', 'AccountFormatCode', 'CurrencyCode', 'PaymentNote', 'FinancialInstitutionBranch', 'Country'],
  TaxTotal: ['TaxAmount', 'RoundingAmount', 'TaxEvidenceIndicator', 'TaxIncludedIndicator', 'TaxSubtotal'],
  TaxSubtotal: ['TaxableAmount', 'TaxAmount', 'CalculationSequenceNumeric', 'TransactionCurrencyTaxAmount', 'Percent', 'BaseUnitMeasure', 'PerUnitAmount', 'TierRange', 'TierRatePercent', 'TaxCategory'],
  TaxCategory: ['ID', 'Name', 'Percent', 'BaseUnitMeasure', 'PerUnitAmount', 'TaxExemptionReasonCode', 'TaxExemptionReason', 'TierRange', 'TierRatePercent', 'TaxScheme'],
  LegalMonetaryTotal: ['LineExtensionAmount', 'TaxExclusiveAmount', 'TaxInclusiveAmount', 'AllowanceTotalAmount', 'ChargeTotalAmount', 'PrepaidAmount', 'PayableRoundingAmount', 'PayableAmount', 'PayableAlternativeAmount'],
  InvoiceLine: ['ID', 'UUID', 'Note', 'InvoicedQuantity', 'LineExtensionAmount', 'TaxPointDate', 'AccountingCostCode', 'AccountingCost', 'InvoicePeriod', 'OrderLineReference', 'DespatchLineReference', 'ReceiptLineReference', 'BillingReference', 'DocumentReference', 'PricingReference', 'OriginatorParty', 'Delivery', 'PaymentTerms', 'AllowanceCharge', 'TaxTotal', 'WithholdingTaxTotal', 'Item', 'Price', 'DeliveryTerms', 'SubInvoiceLine', 'ItemPriceExtension'],
  CreditNoteLine: ['ID', 'UUID', 'Note', 'CreditedQuantity', 'LineExtensionAmount', 'TaxPointDate', 'AccountingCostCode', 'AccountingCost', 'PaymentPurposeCode', 'FreeOfChargeIndicator', 'InvoicePeriod', 'OrderLineReference', 'DiscrepancyResponse', 'DespatchLineReference', 'ReceiptLineReference', 'BillingReference', 'DocumentReference', 'PricingReference', 'OriginatorParty', 'Delivery', 'PaymentTerms', 'TaxTotal', 'AllowanceCharge', 'Item', 'Price', 'DeliveryTerms', 'SubCreditNoteLine', 'ItemPriceExtension'],
  AllowanceCharge: ['ID', 'ChargeIndicator', 'AllowanceChargeReasonCode', 'AllowanceChargeReason', 'MultiplierFactorNumeric', 'PrepaidIndicator', 'SequenceNumeric', 'Amount', 'BaseAmount'],
  Item: ['Description', 'PackQuantity', 'PackSizeNumeric', 'CatalogueIndicator', 'Name', 'HazardousRiskIndicator', 'AdditionalInformation', 'Keyword', 'BrandName', 'ModelName', 'BuyersItemIdentification', 'SellersItemIdentification', 'ManufacturersItemIdentification', 'StandardItemIdentification', 'CatalogueItemIdentification', 'AdditionalItemIdentification', 'CatalogueDocumentReference', 'ItemSpecificationDocumentReference', 'OriginCountry', 'CommodityClassification', 'TransactionConditions', 'HazardousItem', 'ClassifiedTaxCategory', 'AdditionalItemProperty'],
};
ublSequences.ClassifiedTaxCategory = ublSequences.TaxCategory!;
const orderedParser = new XMLParser({ preserveOrder: true, ignoreAttributes: true, removeNSPrefix: true, parseTagValue: false });

/** Children out of the UBL 2.1 schema's order, or unknown to it, anywhere in the document. */
function schemaOrderErrors(xml: string): string[] {
  const errors: string[] = [];
  const visit = (nodes: any[], name: string, path: string) => {
    const children = nodes.map((node) => Object.keys(node).find((key) => key !== ':@')!).filter((key) => key !== '#text');
    const sequence = ublSequences[name];
    if (sequence) {
      let last = -1;
      for (const child of children) {
        const index = sequence.indexOf(child);
        if (index === -1) errors.push(`${path}: ${child} is not a child of ${name} in UBL 2.1`);
        else if (index < last) errors.push(`${path}: ${child} comes after ${sequence[last]}, against the UBL 2.1 order`);
        last = Math.max(last, index);
      }
    }
    for (const node of nodes) {
      const key = Object.keys(node).find((candidate) => candidate !== ':@' && candidate !== '#text');
      if (key && Array.isArray(node[key])) visit(node[key], key, `${path}/${key}`);
    }
  };
  visit(orderedParser.parse(xml), '', '');
  return errors;
}

export function brokenRules(xml: string): string[] {
  assertWellFormed(xml);
  const parsed = parser.parse(xml);
  const doc: Node = parsed.Invoice ?? parsed.CreditNote;
  const lines: Node[] = doc.InvoiceLine ?? doc.CreditNoteLine ?? [];
  const totals = doc.LegalMonetaryTotal;
  const broken: string[] = schemaOrderErrors(xml);
  const check = (rule: string, ok: boolean, detail: string) => {
    if (!ok) broken.push(`${rule}: ${detail}`);
  };
  const sum = (values: Dec[]) => values.reduce((acc, value) => acc.plus(value), new Dec(0));

  const lineNet = sum(lines.map((line) => amountOf(line.LineExtensionAmount)));
  check('BR-CO-10', amountOf(totals.LineExtensionAmount).eq(lineNet), `${totals.LineExtensionAmount['#text']} ≠ Σ lines ${lineNet}`);
  const docAllowances = optionalAmount(totals.AllowanceTotalAmount);
  const docCharges = optionalAmount(totals.ChargeTotalAmount);
  check('BR-CO-13', amountOf(totals.TaxExclusiveAmount).eq(amountOf(totals.LineExtensionAmount).minus(docAllowances).plus(docCharges)), 'tax exclusive amount');
  const taxTotal = doc.TaxTotal;
  const subtotals: Node[] = taxTotal.TaxSubtotal ?? [];
  check('BR-CO-14', amountOf(taxTotal.TaxAmount).eq(sum(subtotals.map((entry) => amountOf(entry.TaxAmount)))), 'VAT total ≠ Σ category VAT');
  check('BR-CO-15', amountOf(totals.TaxInclusiveAmount).eq(amountOf(totals.TaxExclusiveAmount).plus(amountOf(taxTotal.TaxAmount))), 'total with VAT');
  check(
    'BR-CO-16',
    amountOf(totals.PayableAmount).eq(amountOf(totals.TaxInclusiveAmount).minus(optionalAmount(totals.PrepaidAmount)).plus(optionalAmount(totals.PayableRoundingAmount))),
    'amount due',
  );
  for (const entry of subtotals) {
    const category = entry.TaxCategory.ID;
    const rate = new Dec(entry.TaxCategory.Percent);
    const inCategory = lines.filter((line) => line.Item.ClassifiedTaxCategory.ID === category && new Dec(line.Item.ClassifiedTaxCategory.Percent).eq(rate));
    const taxable = sum(inCategory.map((line) => amountOf(line.LineExtensionAmount)));
    check(`BR-${category}-08`, amountOf(entry.TaxableAmount).eq(taxable), `category ${category} ${rate}: ${entry.TaxableAmount['#text']} ≠ ${taxable}`);
    // BR-CO-17: VAT = taxable × rate, rounded half up to two decimals. Held exactly wherever the
    // currency has 2 decimals (the older CEN schematron's strict test); a 0-decimal currency rounds
    // to whole units, within the current schematron's tolerance of 1.
    const expected = amountOf(entry.TaxableAmount).times(rate).div(100);
    const places = amountOf(entry.TaxableAmount).decimalPlaces() === 0 && amountOf(entry.TaxAmount).decimalPlaces() === 0 && !String(entry.TaxAmount['#text']).includes('.') ? 0 : 2;
    if (places === 2) check('BR-CO-17', amountOf(entry.TaxAmount).eq(expected.toDecimalPlaces(2, Dec.ROUND_HALF_UP)), `category VAT ${entry.TaxAmount['#text']} vs ${expected} rounded half up`);
    else check('BR-CO-17', amountOf(entry.TaxAmount).minus(expected).abs().lte(1), `category VAT ${entry.TaxAmount['#text']} vs ${expected}`);
    if (category === 'Z') check('BR-Z-09', amountOf(entry.TaxAmount).isZero(), 'zero-rated VAT');
  }
  // BR-CO-25: a positive amount due needs a due date (BT-9) or payment terms (BT-20). Checked on
  // credit notes too, as the older CEN schematron does (it applies the rule to both).
  check('BR-CO-25', !amountOf(totals.PayableAmount).gt(0) || doc.DueDate !== undefined || doc.PaymentTerms?.Note !== undefined, 'no due date and no payment terms');
  for (const line of lines) {
    const quantity = new Dec(line.InvoicedQuantity?.['#text'] ?? line.CreditedQuantity['#text']);
    const price = amountOf(line.Price.PriceAmount);
    check('BR-27', !price.isNegative(), `negative price ${price}`);
    const allowances: Node[] = line.AllowanceCharge ?? [];
    const adjustment = sum(allowances.map((entry) => (entry.ChargeIndicator === 'true' ? amountOf(entry.Amount) : amountOf(entry.Amount).neg())));
    const base = quantity.times(price);
    // PEPPOL-EN16931-R120 allows 0.02 of slack for the rounding of quantity × price.
    check('R120', amountOf(line.LineExtensionAmount).minus(base.plus(adjustment)).abs().lte(0.02), `line ${line.ID}: ${line.LineExtensionAmount['#text']} vs ${base} + ${adjustment}`);
  }
  for (const { path, text } of amounts(doc, '')) {
    if (path.endsWith('/PriceAmount')) continue; // BT-146 has no decimal limit
    check('BR-DEC', new Dec(text).decimalPlaces() <= 2, `${path} = ${text} has more than 2 decimals`);
  }
  return broken;
}
