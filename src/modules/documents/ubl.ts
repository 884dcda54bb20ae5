import type { Dec } from '../../shared/money.js';
import type { Address, BillTo } from '../invoices/domain/model.js';
import { enAmount, toEn16931, type EnDocument } from './en16931.js';
import { paymentReferenceFor } from './payment-reference.js';
import type { DocumentParty, SellerDetails } from './seller.js';
import type { SourceDocument } from './source.js';
import { leaf, newXmlDocument, serialize, type XmlNode } from './xml-writer.js';

/**
 * UBL 2.1 Invoice / CreditNote per Peppol BIS Billing 3.0 (EN 16931). Element order follows
 * the UBL 2.1 schema; amounts come from toEn16931 (see its comment on rounding).
 */
const namespaces = {
  invoice: 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2',
  creditNote: 'urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2',
  cac: 'urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2',
  cbc: 'urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2',
};
export const peppolCustomizationId = 'urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0';
export const peppolProfileId = 'urn:fdc:peppol.eu:2017:poacc:billing:01:1.0';

/** The document's id: its number, or a stand-in for a draft that has none yet. */
export const documentNumber = (source: SourceDocument) => source.number ?? `DRAFT-${source.id}`;

function postalAddress(parent: XmlNode, address: Address | null | undefined) {
  const node = parent.ele('cac:PostalAddress');
  leaf(node, 'cbc:StreetName', address?.line1);
  leaf(node, 'cbc:AdditionalStreetName', address?.line2);
  leaf(node, 'cbc:CityName', address?.city);
  leaf(node, 'cbc:PostalZone', address?.postal_code);
  leaf(node, 'cbc:CountrySubentity', address?.region);
  // BT-40/BT-55 are mandatory; without a country on file the document cannot name one.
  node.ele('cac:Country').ele('cbc:IdentificationCode').txt(address?.country || 'ZZ');
}

function taxScheme(parent: XmlNode) {
  parent.ele('cac:TaxScheme').ele('cbc:ID').txt('VAT');
}

function supplierParty(root: XmlNode, seller: SellerDetails) {
  const party = root.ele('cac:AccountingSupplierParty').ele('cac:Party');
  // Peppol endpoint: the Finnish OVT code (ICD 0216) when the tenant has one.
  if (seller.ovt) leaf(party, 'cbc:EndpointID', seller.ovt, { schemeID: '0216' });
  if (seller.name) party.ele('cac:PartyName').ele('cbc:Name').txt(seller.name);
  postalAddress(party, seller.address);
  if (seller.vat_id) {
    const scheme = party.ele('cac:PartyTaxScheme');
    leaf(scheme, 'cbc:CompanyID', seller.vat_id);
    taxScheme(scheme);
  }
  const legal = party.ele('cac:PartyLegalEntity');
  legal.ele('cbc:RegistrationName').txt(seller.name || 'Seller');
  leaf(legal, 'cbc:CompanyID', seller.business_id);
  if (seller.email || seller.phone) {
    const contact = party.ele('cac:Contact');
    leaf(contact, 'cbc:Telephone', seller.phone);
    leaf(contact, 'cbc:ElectronicMail', seller.email);
  }
}

function customerParty(root: XmlNode, billTo: BillTo | null) {
  const party = root.ele('cac:AccountingCustomerParty').ele('cac:Party');
  if (billTo?.name) party.ele('cac:PartyName').ele('cbc:Name').txt(billTo.name);
  postalAddress(party, billTo?.address);
  if (billTo?.tax_id) {
    const scheme = party.ele('cac:PartyTaxScheme');
    leaf(scheme, 'cbc:CompanyID', billTo.tax_id);
    taxScheme(scheme);
  }
  party.ele('cac:PartyLegalEntity').ele('cbc:RegistrationName').txt(billTo?.name || 'Buyer');
  if (billTo?.email || billTo?.phone) {
    const contact = party.ele('cac:Contact');
    leaf(contact, 'cbc:Telephone', billTo.phone);
    leaf(contact, 'cbc:ElectronicMail', billTo.email);
  }
}

function taxCategory(parent: XmlNode, name: 'cac:TaxCategory' | 'cac:ClassifiedTaxCategory', category: string, rate: EnDocument['categories'][number]['rate']) {
  const node = parent.ele(name);
  node.ele('cbc:ID').txt(category);
  node.ele('cbc:Percent').txt(rate.toFixed());
  taxScheme(node);
}

/**
 * BT-20. BR-CO-25: a positive amount due needs a due date or payment terms, so an invoice with
 * neither says it is payable on receipt, and a credit note (which has no BT-9 in UBL 2.1) names
 * the invoice it is offset against.
 */
function paymentTermsNote(source: SourceDocument, en: EnDocument): string | null {
  if (source.netDays !== null) return `Net ${source.netDays} days`;
  if (!en.payableAmount.gt(0)) return null;
  if (source.precedingInvoice) return `Offset against invoice ${source.precedingInvoice.number ?? source.precedingInvoice.id}`;
  return source.dueDate ? null : 'Payable on receipt';
}

export function renderUbl(source: SourceDocument, party: DocumentParty): Buffer {
  const en = toEn16931(source);
  const isCredit = source.kind === 'credit_note';
  const currency = source.currency;
  const amount = (value: EnDocument['payableAmount']) => enAmount(value, en.amountPlaces);
  const money = (parent: XmlNode, name: string, value: EnDocument['payableAmount']) => {
    parent.ele(name, { currencyID: currency }).txt(amount(value));
  };

  const root = newXmlDocument(isCredit ? namespaces.creditNote : namespaces.invoice, isCredit ? 'CreditNote' : 'Invoice', {
    'xmlns:cac': namespaces.cac,
    'xmlns:cbc': namespaces.cbc,
  });
  leaf(root, 'cbc:CustomizationID', peppolCustomizationId);
  leaf(root, 'cbc:ProfileID', peppolProfileId);
  leaf(root, 'cbc:ID', documentNumber(source));
  leaf(root, 'cbc:IssueDate', source.issueDate);
  if (!isCredit) leaf(root, 'cbc:DueDate', source.dueDate);
  leaf(root, isCredit ? 'cbc:CreditNoteTypeCode' : 'cbc:InvoiceTypeCode', isCredit ? '381' : '380');
  leaf(root, 'cbc:Note', isCredit ? source.creditReason : source.memo);
  leaf(root, 'cbc:DocumentCurrencyCode', currency);
  // Peppol needs a buyer reference or an order reference (PEPPOL-EN16931-R003).
  leaf(root, 'cbc:BuyerReference', source.purchaseOrder ?? source.reference ?? documentNumber(source));
  if (source.purchaseOrder) root.ele('cac:OrderReference').ele('cbc:ID').txt(source.purchaseOrder);
  if (source.precedingInvoice) {
    const reference = root.ele('cac:BillingReference').ele('cac:InvoiceDocumentReference');
    reference.ele('cbc:ID').txt(source.precedingInvoice.number ?? source.precedingInvoice.id);
    leaf(reference, 'cbc:IssueDate', source.precedingInvoice.issueDate);
  }
  supplierParty(root, party.seller);
  customerParty(root, source.billTo);

  const means = root.ele('cac:PaymentMeans');
  means.ele('cbc:PaymentMeansCode').txt(party.seller.iban ? '58' : '30'); // 58 = SEPA credit transfer
  if (!isCredit) leaf(means, 'cbc:PaymentID', paymentReferenceFor(source).value);
  if (party.seller.iban) {
    const account = means.ele('cac:PayeeFinancialAccount');
    account.ele('cbc:ID').txt(party.seller.iban.replace(/\s+/g, ''));
    leaf(account, 'cbc:Name', party.seller.name);
    if (party.seller.bic) account.ele('cac:FinancialInstitutionBranch').ele('cbc:ID').txt(party.seller.bic);
  }
  const terms = paymentTermsNote(source, en);
  if (terms) root.ele('cac:PaymentTerms').ele('cbc:Note').txt(terms);

  const taxTotal = root.ele('cac:TaxTotal');
  money(taxTotal, 'cbc:TaxAmount', en.taxAmount);
  for (const entry of en.categories) {
    const subtotal = taxTotal.ele('cac:TaxSubtotal');
    money(subtotal, 'cbc:TaxableAmount', entry.taxableAmount);
    money(subtotal, 'cbc:TaxAmount', entry.taxAmount);
    taxCategory(subtotal, 'cac:TaxCategory', entry.category, entry.rate);
  }

  const totals = root.ele('cac:LegalMonetaryTotal');
  money(totals, 'cbc:LineExtensionAmount', en.lineExtensionAmount);
  money(totals, 'cbc:TaxExclusiveAmount', en.taxExclusiveAmount);
  money(totals, 'cbc:TaxInclusiveAmount', en.taxInclusiveAmount);
  if (!en.prepaidAmount.isZero()) money(totals, 'cbc:PrepaidAmount', en.prepaidAmount);
  if (!en.roundingAmount.isZero()) money(totals, 'cbc:PayableRoundingAmount', en.roundingAmount);
  money(totals, 'cbc:PayableAmount', en.payableAmount);

  for (const line of en.lines) {
    const node = root.ele(isCredit ? 'cac:CreditNoteLine' : 'cac:InvoiceLine');
    node.ele('cbc:ID').txt(line.id);
    node.ele(isCredit ? 'cbc:CreditedQuantity' : 'cbc:InvoicedQuantity', { unitCode: line.unitCode }).txt(line.quantity.toFixed());
    money(node, 'cbc:LineExtensionAmount', line.netAmount);
    if (!line.allowanceAmount.isZero()) {
      const isCharge = line.allowanceAmount.isNegative();
      const allowance = node.ele('cac:AllowanceCharge');
      allowance.ele('cbc:ChargeIndicator').txt(String(isCharge));
      allowance.ele('cbc:AllowanceChargeReason').txt(isCharge ? 'Rounding' : 'Discount');
      // Up to 2 decimals even for a 0-decimal currency: quantity × price may have cents (see en16931.ts).
      const precise = (value: Dec) => enAmount(value, Math.max(en.amountPlaces, value.decimalPlaces()));
      allowance.ele('cbc:Amount', { currencyID: currency }).txt(precise(line.allowanceAmount.abs()));
      allowance.ele('cbc:BaseAmount', { currencyID: currency }).txt(precise(line.baseAmount));
    }
    const item = node.ele('cac:Item');
    if (line.description && line.description !== line.name) leaf(item, 'cbc:Description', line.description);
    item.ele('cbc:Name').txt(line.name);
    if (line.itemCode) item.ele('cac:SellersItemIdentification').ele('cbc:ID').txt(line.itemCode);
    taxCategory(item, 'cac:ClassifiedTaxCategory', line.category, line.rate);
    node.ele('cac:Price').ele('cbc:PriceAmount', { currencyID: currency }).txt(line.netPrice.toFixed());
  }
  return serialize(root);
}
