/**
 * The closed set of problem types Folio answers with (RFC 9457). Every error a client
 * can see is one of these; anything else becomes `internal-error` with no details.
 */
export const problemTypes = {
  'validation-error': { status: 400, title: 'The request is invalid' },
  'malformed-request': { status: 400, title: 'The request body could not be read' },
  unauthorized: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'The API key lacks the required scope' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  'precondition-failed': { status: 412, title: 'The resource has changed' },
  'precondition-required': { status: 428, title: 'If-Match is required' },
  'payload-too-large': { status: 413, title: 'The request is too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'not-acceptable': { status: 406, title: 'Not acceptable' },
  'total-mismatch': { status: 422, title: 'A client-sent total differs from the server total' },
  'invalid-reference': { status: 422, title: 'The request refers to something that does not exist here' },
  'business-rule': { status: 422, title: 'The request breaks a business rule' },
  // Lifecycle and edit-policy rules (src/modules/invoices/domain/lifecycle.ts): the type names the rule.
  'finalize-requires-draft': { status: 422, title: 'Only a draft can be finalized' },
  'delete-requires-draft': { status: 422, title: 'Only a draft can be deleted' },
  'void-requires-open': { status: 422, title: 'Only an open invoice can be voided' },
  'void-with-payments': { status: 422, title: 'An invoice with payments cannot be voided; refund them first' },
  'void-is-final': { status: 422, title: 'A void invoice cannot change' },
  'payment-requires-open': { status: 422, title: 'Payments apply to open invoices only' },
  'invoice-already-paid': { status: 422, title: 'The invoice is already paid' },
  overpayment: { status: 422, title: 'The payment exceeds the balance' },
  'refund-exceeds-payment': { status: 422, title: 'The refund exceeds what is left of the payment' },
  'revise-requires-finalized': { status: 422, title: 'Only a finalized invoice can be revised' },
  'revision-pending': { status: 422, title: 'The invoice has a pending revision' },
  'revision-cannot-be-deleted': { status: 422, title: 'A revision draft completes a correction and cannot be deleted' },
  'credit-requires-finalized': { status: 422, title: 'Only a finalized invoice can be credited' },
  'credit-exceeds-invoice': { status: 422, title: 'The credit exceeds what is left to credit on the invoice' },
  // A per-request precondition on the invoice's state (dialects: CRM.COM updates drafts only, Stax refuses paid invoices…).
  'status-precondition': { status: 422, title: 'The invoice is not in a state this request may change' },
  'finalized-field-fixed': { status: 422, title: 'Number and issue date are fixed once an invoice is finalized' },
  'draft-only-policy': { status: 422, title: "The tenant's edit policy allows financial edits on drafts only" },
  'paid-invoice-financial-fields': { status: 422, title: "A paid invoice's financial fields cannot change" },
  'total-below-amount-paid': { status: 422, title: 'The new total is below what was already paid or credited' },
  'idempotency-key-reused': { status: 422, title: 'The Idempotency-Key was used with another request' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'service-unavailable': { status: 503, title: 'Service temporarily unavailable' },
  'internal-error': { status: 500, title: 'Internal error' },
} as const;

export type ProblemType = keyof typeof problemTypes;

export const problemTypeBaseUri = 'https://folio.dev/problems/';

export interface FieldError {
  /** JSON pointer into the request body (RFC 6901), e.g. "/lines/2/quantity". */
  pointer: string;
  detail: string;
  /** For total mismatches: what the server computed. */
  expected?: string;
}

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** The one error class the domain, services and routes throw for client-visible failures. */
export class AppError extends Error {
  readonly problemType: ProblemType;
  readonly status: number;
  readonly errors: FieldError[] | undefined;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    problemType: ProblemType,
    detail: string,
    options: { errors?: FieldError[]; extensions?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(detail);
    this.name = 'AppError';
    this.problemType = problemType;
    this.status = problemTypes[problemType].status;
    this.errors = options.errors;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }

  toProblem(instance?: string): ProblemDocument {
    const doc: ProblemDocument = {
      type: problemTypeBaseUri + this.problemType,
      title: problemTypes[this.problemType].title,
      status: this.status,
      detail: this.message,
      ...this.extensions,
    };
    if (instance) doc.instance = instance;
    if (this.errors && this.errors.length > 0) doc.errors = this.errors;
    return doc;
  }
}

export const notFound = (what: string, id: string) => new AppError('not-found', `No ${what} with id "${id}".`);

export const validationError = (errors: FieldError[], detail = 'One or more fields are invalid.') =>
  new AppError('validation-error', detail, { errors });

/**
 * A refused edit or transition: the problem type is the rule it broke (and `rule` repeats
 * it as a bare name), so clients can branch on it.
 */
export const editNotAllowed = (rule: ProblemType, detail: string, errors?: FieldError[], extensions: Record<string, unknown> = {}) =>
  new AppError(rule, detail, { errors, extensions: { rule, ...extensions } });
