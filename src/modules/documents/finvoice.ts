import { Dec, formatDecimal } from '../../shared/money.js';
import type { Address } from '../invoices/domain/model.js';
import { unitCodeFor } from './en16931.js';
import { paymentReferenceFor } from './payment-reference.js';
import type { DocumentParty } from './seller.js';
import type { SourceDocument } from './source.js';
import { documentNumber } from './ubl.js';
import { leaf, newXmlDocument, serialize, type XmlNode } from './xml-writer.js';

/**
 * Finvoice 3.0 (Finance Finland) for Finnish receivers. Finvoice states VAT per row and per
 * rate as Folio does, so Folio's own figures go in unchanged. Amounts use a decimal comma,
 * dates are CCYYMMDD. Element order follows the Finvoice 3.0 schema.
 */
const decimalComma = (text: string) => text.replace('.', ',');
const finvoiceDate = (date: string) => date.replaceAll('-', '');

function postalAddress(parent: XmlNode, prefix: 'Seller' | 'Buyer', address: Address | null | undefined) {
  const node = parent.ele(`${prefix}PostalAddressDetails`);
  leaf(node, `${prefix}StreetName`, address?.line1 || '-');
  leaf(node, `${prefix}StreetName`, address?.line2);
  leaf(node, `${prefix}TownName`, address?.city || '-');
  leaf(node, `${prefix}PostCodeIdentifier`, address?.postal_code || '-');
  leaf(node, 'CountryCode', address?.country);
}

export function renderFinvoice(source: SourceDocument, party: DocumentParty): Buffer {
  const { seller } = party;
  const currency = { AmountCurrencyIdentifier: source.currency };
  const amount = (parent: XmlNode, name: string, value: string) => {
    parent.ele(name, currency).txt(decimalComma(value));
  };
  const reference = paymentReferenceFor(source);
  const isCredit = new Dec(source.total).isNegative();

  const root = newXmlDocument(null, 'Finvoice', {
    Version: '3.0',
    'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance',
    'xsi:noNamespaceSchemaLocation': 'Finvoice3.0.xsd',
  });

  const sellerParty = root.ele('SellerPartyDetails');
  leaf(sellerParty, 'SellerPartyIdentifier', seller.business_id);
  sellerParty.ele('SellerOrganisationName').txt(seller.name || '-');
  leaf(sellerParty, 'SellerOrganisationTaxCode', seller.vat_id);
  postalAddress(sellerParty, 'Seller', seller.address);
  leaf(root, 'SellerOrganisationUnitNumber', seller.ovt);
  if (seller.phone || seller.email) {
    const communication = root.ele('SellerCommunicationDetails');
    leaf(communication, 'SellerPhoneNumberIdentifier', seller.phone);
    leaf(communication, 'SellerEmailaddressIdentifier', seller.email);
  }
  const information = root.ele('SellerInformationDetails');
  leaf(information, 'SellerHomeTownName', seller.address?.city);
  if (seller.iban) {
    const account = information.ele('SellerAccountDetails');
    account.ele('SellerAccountID', { IdentificationSchemeName: 'IBAN' }).txt(seller.iban.replace(/\s+/g, ''));
    leaf(account, 'SellerBic', seller.bic, { IdentificationSchemeName: 'BIC' });
  }

  const buyer = source.billTo;
  const buyerParty = root.ele('BuyerPartyDetails');
  buyerParty.ele('BuyerOrganisationName').txt(buyer?.name || '-');
  leaf(buyerParty, 'BuyerOrganisationTaxCode', buyer?.tax_id);
  postalAddress(buyerParty, 'Buyer', buyer?.address);
  if (buyer?.phone || buyer?.email) {
    const communication = root.ele('BuyerCommunicationDetails');
    leaf(communication, 'BuyerPhoneNumberIdentifier', buyer.phone);
    leaf(communication, 'BuyerEmailaddressIdentifier', buyer.email);
  }

  const details = root.ele('InvoiceDetails');
  details.ele('InvoiceTypeCode').txt(isCredit ? 'INV02' : 'INV01');
  details.ele('InvoiceTypeText').txt(isCredit ? 'HYVITYSLASKU' : 'LASKU');
  details.ele('OriginCode').txt('Original');
  details.ele('InvoiceNumber').txt(documentNumber(source));
  details.ele('InvoiceDate', { Format: 'CCYYMMDD' }).txt(finvoiceDate(source.issueDate));
  leaf(details, 'OrderIdentifier', source.purchaseOrder);
  amount(details, 'InvoiceTotalVatExcludedAmount', source.subtotal);
  amount(details, 'InvoiceTotalVatAmount', source.taxTotal);
  amount(details, 'InvoiceTotalVatIncludedAmount', source.total);
  for (const row of source.taxBreakdown) {
    const vat = details.ele('VatSpecificationDetails');
    amount(vat, 'VatBaseAmount', row.taxable_amount);
    vat.ele('VatRatePercent').txt(decimalComma(row.tax_rate));
    vat.ele('VatCode').txt(new Dec(row.tax_rate).isZero() ? 'Z' : 'S');
    amount(vat, 'VatRateAmount', row.tax_amount);
  }
  leaf(details, 'InvoiceFreeText', source.memo);
  const terms = details.ele('PaymentTermsDetails');
  leaf(terms, 'PaymentTermsFreeText', source.netDays === null ? null : `${source.netDays} pv netto`);
  leaf(terms, 'InvoiceDueDate', source.dueDate ? finvoiceDate(source.dueDate) : null, { Format: 'CCYYMMDD' });

  for (const line of source.lines) {
    const row = root.ele('InvoiceRow');
    leaf(row, 'ArticleIdentifier', line.itemCode);
    row.ele('ArticleName').txt((line.description ?? '').slice(0, 100) || '-');
    row.ele('DeliveredQuantity', { QuantityUnitCode: unitCodeFor(line.unit) }).txt(decimalComma(line.quantity));
    const priceName = source.taxMode === 'inclusive' ? 'UnitPriceVatIncludedAmount' : 'UnitPriceAmount';
    amount(row, priceName, line.unitPrice);
    if (line.description && line.description.length > 100) leaf(row, 'RowFreeText', line.description.slice(0, 512));
    if (!new Dec(line.discountAmount).isZero()) amount(row, 'RowDiscountAmount', line.discountAmount);
    row.ele('RowVatRatePercent').txt(decimalComma(formatDecimal(new Dec(line.taxRate ?? 0))));
    amount(row, 'RowVatAmount', line.taxAmount);
    amount(row, 'RowVatExcludedAmount', line.netAmount);
    amount(row, 'RowAmount', line.grossAmount);
  }

  const epi = root.ele('EpiDetails');
  const identification = epi.ele('EpiIdentificationDetails');
  identification.ele('EpiDate', { Format: 'CCYYMMDD' }).txt(finvoiceDate(source.issueDate));
  identification.ele('EpiReference').txt(documentNumber(source));
  const epiParty = epi.ele('EpiPartyDetails');
  const bank = epiParty.ele('EpiBfiPartyDetails');
  leaf(bank, 'EpiBfiIdentifier', seller.bic, { IdentificationSchemeName: 'BIC' });
  const beneficiary = epiParty.ele('EpiBeneficiaryPartyDetails');
  beneficiary.ele('EpiNameAddressDetails').txt(seller.name || '-');
  leaf(beneficiary, 'EpiBei', seller.business_id);
  leaf(beneficiary, 'EpiAccountID', seller.iban?.replace(/\s+/g, ''), { IdentificationSchemeName: 'IBAN' });
  const instruction = epi.ele('EpiPaymentInstructionDetails');
  instruction.ele('EpiRemittanceInfoIdentifier', { IdentificationSchemeName: reference.scheme }).txt(reference.value);
  amount(instruction, 'EpiInstructedAmount', source.amountDue);
  instruction.ele('EpiCharge', { ChargeOption: 'SHA' }).txt('SHA');
  instruction.ele('EpiDateOptionDate', { Format: 'CCYYMMDD' }).txt(finvoiceDate(source.dueDate ?? source.issueDate));
  return serialize(root);
}
