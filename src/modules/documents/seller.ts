import type { Address } from '../invoices/domain/model.js';

/**
 * The seller as printed on documents: a tenant setting (PATCH /v1/tenant/settings,
 * `document_seller`). Every field is optional so a tenant can fill it in over time; the
 * renderers leave out what is missing.
 */
export interface SellerDetails {
  name: string | null;
  address: Address | null;
  /** VAT identifier with its country prefix (BT-31), e.g. "FI12345678". */
  vat_id: string | null;
  /** Finnish business id (Y-tunnus, "1234567-8"): Finvoice's SellerPartyIdentifier. */
  business_id: string | null;
  /** Finnish OVT / e-invoice address (Finvoice SellerOrganisationUnitNumber, Peppol endpoint 0216). */
  ovt: string | null;
  iban: string | null;
  bic: string | null;
  email: string | null;
  phone: string | null;
  /** An uploaded image (PNG or JPEG) in the blob store; set through PUT /v1/tenant/settings/logo. */
  logo_sha256: string | null;
}

export const emptySeller: SellerDetails = {
  name: null,
  address: null,
  vat_id: null,
  business_id: null,
  ovt: null,
  iban: null,
  bic: null,
  email: null,
  phone: null,
  logo_sha256: null,
};

/** What a renderer gets besides the invoice: the seller and the logo's bytes, if any. */
export interface DocumentParty {
  seller: SellerDetails;
  logo: Buffer | null;
}
