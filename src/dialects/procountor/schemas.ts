import { Type, type Static } from '@sinclair/typebox';
import { DecimalInput, Nullable } from '../../core/schema-helpers.js';

/**
 * Procountor's REST invoice, in Procountor's field names (docs/dialects/procountor.md). A client
 * GETs it, changes fields and PUTs the document back: read-only members (id, status, totals…) are
 * accepted and ignored; computed totals may be omitted and, when sent, are checked.
 */
const Text = (maxLength: number) => Type.Optional(Nullable(Type.String({ maxLength })));
const Day = Type.Optional(Nullable(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })));

const ProcountorAddress = Type.Object(
  {
    name: Text(200),
    specifier: Text(200),
    street: Text(200),
    zip: Text(20),
    city: Text(100),
    country: Type.Optional(Nullable(Type.String({ pattern: '^[A-Za-z]{2}$', description: 'ISO 3166 alpha-2 (Procountor prints country names; Folio keeps codes).' }))),
  },
  { additionalProperties: false },
);

const ProcountorCounterParty = Type.Object(
  {
    contactPersonName: Text(200),
    identifier: Text(50),
    email: Text(254),
    phone: Text(50),
    counterPartyAddress: Type.Optional(Nullable(ProcountorAddress)),
  },
  { additionalProperties: false },
);

const ProcountorPaymentInfo = Type.Object(
  {
    paymentMethod: Text(40),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
    currencyRate: Type.Optional(Nullable(DecimalInput)),
    dueDate: Day,
    paymentTermDays: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 3650, description: 'Folio extension: net days from the invoice date.' }))),
    bankReferenceCode: Text(140),
    bankReferenceCodeType: Text(10),
  },
  { additionalProperties: false },
);

export const ProcountorInvoiceRow = Type.Object(
  {
    product: Text(2000),
    productCode: Text(64),
    quantity: DecimalInput,
    unit: Text(32),
    unitPrice: DecimalInput,
    discountPercent: Type.Optional(Nullable(DecimalInput)),
    vatPercent: Type.Optional(Nullable(DecimalInput)),
    comment: Text(500),
    totalAmount: Type.Optional(DecimalInput),
  },
  { additionalProperties: false },
);

const ProcountorAttachment = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }), name: Text(255), mimeType: Text(100) }, { additionalProperties: false });

export const ProcountorInvoiceWrite = Type.Object(
  {
    // Read-only: accepted so that a GET document can be PUT back; ignored.
    id: Type.Optional(Type.Integer()),
    type: Type.Optional(Type.String({ maxLength: 40 })),
    status: Type.Optional(Type.String({ maxLength: 40 })),
    invoiceNumber: Text(64),
    // The invoice's state when it was read (from GET); required on PUT, stale → 409.
    version: Type.Optional(Type.String({ maxLength: 40 })),
    date: Day,
    counterParty: Type.Optional(Nullable(ProcountorCounterParty)),
    paymentInfo: Type.Optional(ProcountorPaymentInfo),
    orderReference: Text(140),
    invoiceRows: Type.Optional(Type.Array(ProcountorInvoiceRow, { maxItems: 1000 })),
    additionalInformation: Text(5000),
    notes: Text(5000),
    attachments: Type.Optional(Type.Array(ProcountorAttachment, { maxItems: 100 })),
    totalAmount: Type.Optional(DecimalInput),
    vatAmount: Type.Optional(DecimalInput),
  },
  { additionalProperties: false },
);
export type ProcountorInvoiceWrite = Static<typeof ProcountorInvoiceWrite>;

export const ProcountorBase = { apiVersion: Type.String({ pattern: '^(latest|supported|v\\d{4})$', description: 'latest, supported or a dated version such as v2001' }) };
export const ProcountorInvoiceParams = Type.Object({ ...ProcountorBase, invoiceId: Type.String({ pattern: '^\\d{1,15}$', description: "The invoice's integer serial" }) });

export const ProcountorTokenRequest = Type.Object(
  {
    grant_type: Type.Optional(Type.String({ maxLength: 40 })),
    client_id: Type.Optional(Type.String({ maxLength: 200 })),
    client_secret: Type.Optional(Type.String({ maxLength: 200 })),
    redirect_uri: Type.Optional(Type.String({ maxLength: 2000 })),
    api_key: Type.Optional(Type.String({ maxLength: 200, description: 'A Folio API key (required; a missing one is an OAuth invalid_request)' })),
  },
  { additionalProperties: true },
);

export const ProcountorTokenResponse = Type.Object({ access_token: Type.String(), token_type: Type.String(), expires_in: Type.Integer() });

export const ProcountorInvoice = Type.Object({ id: Type.Integer(), version: Type.String(), status: Type.String() }, { additionalProperties: true });
