/**
 * The closed set of problem types Folio answers with (RFC 9457). Every error a client
 * can see is one of these; anything else becomes `internal-error` with no details.
 */
export const problemTypes = {
  'validation-error': { status: 400, title: 'The request is invalid', hint: 'Fix the fields listed in `errors[]` (each has a JSON pointer into the request) and send again.' },
  'malformed-request': { status: 400, title: 'The request body could not be read', hint: 'Send a readable body: valid UTF-8 JSON (or XML where accepted) without duplicate keys or excessive nesting.' },
  unauthorized: { status: 401, title: 'Authentication required', hint: 'Send a valid API key: `Authorization: Bearer <key>`.' },
  forbidden: { status: 403, title: 'The API key lacks the required scope', hint: 'Use a key with the scope the route needs (`invoices:read`, `invoices:write` or `admin`).' },
  'not-found': { status: 404, title: 'Not found', hint: 'Check the id or path. Resources of other tenants are reported as not found too.' },
  'method-not-allowed': { status: 405, title: 'Method not allowed', hint: 'Use a method this path supports.' },
  conflict: { status: 409, title: 'Conflict', hint: 'Another request got in the way (a unique value taken, an Idempotency-Key in flight, or a concurrent transaction). Nothing was written; when `retryable` is true, retry after `Retry-After`.' },
  'precondition-failed': { status: 412, title: 'The resource has changed', hint: 'The resource changed since you read it: read it again (its ETag is in the answer), re-apply your change and send it with the new `If-Match`.' },
  'precondition-required': { status: 428, title: 'If-Match is required', hint: 'Send `If-Match` with the ETag of the version you read.' },
  'payload-too-large': { status: 413, title: 'The request is too large', hint: 'Send a smaller body or file; the limits are in the operations guide.' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type', hint: 'Send one of the content types the route accepts: the answer lists them in `accepted_media_types` and in the `Accept` header (JSON; XML on invoice routes; multipart for uploads).' },
  'not-acceptable': { status: 406, title: 'Not acceptable', hint: 'Ask for a representation the route produces (`Accept: application/json` or `application/xml`).' },
  'total-mismatch': { status: 422, title: 'A client-sent total differs from the server total', hint: 'Totals are computed by the server. Drop the figure or send the value given in `errors[].expected`.' },
  'invalid-reference': { status: 422, title: 'The request refers to something that does not exist here', hint: 'The request names a line, parent line, customer or other record that does not exist in this invoice or tenant.' },
  // Other business rules: like the lifecycle rules below, the type names the rule.
  'one-level-grouping': { status: 422, title: 'Lines group one level deep', hint: 'A grouped line must have a top-level line as its parent: lines group one level deep.' },
  'non-negative-total': { status: 422, title: 'An invoice total cannot be negative', hint: 'An invoice total cannot be negative; issue a credit note for a refund or reduction instead.' },
  'too-many-attachments': { status: 422, title: 'The invoice holds the maximum number of attachments', hint: 'Remove an attachment before adding another (FOLIO_MAX_ATTACHMENTS).' },
  'too-many-payments': { status: 422, title: 'The invoice holds the maximum number of payments', hint: 'The invoice holds the maximum number of payments.' },
  'too-many-connections': { status: 422, title: 'The tenant holds the maximum number of connections', hint: 'Delete a connection (DELETE /v1/connections/{id}) before creating another.' },
  'webhook-target-refused': { status: 422, title: 'The webhook URL is not a deliverable public target', hint: 'Webhook URLs must be public http(s) targets; loopback, private and link-local addresses are refused.' },
  // Lifecycle and edit-policy rules (src/modules/invoices/domain/lifecycle.ts): the type names the rule.
  'finalize-requires-draft': { status: 422, title: 'Only a draft can be finalized', hint: 'Only a draft can be finalized; this invoice is already finalized, paid or void.' },
  'delete-requires-draft': { status: 422, title: 'Only a draft can be deleted', hint: 'Only drafts can be deleted; void an open invoice instead.' },
  'void-requires-open': { status: 422, title: 'Only an open invoice can be voided', hint: 'Only an open invoice can be voided.' },
  'void-with-payments': { status: 422, title: 'An invoice with payments cannot be voided; refund them first', hint: 'Refund its payments before voiding the invoice.' },
  'void-is-final': { status: 422, title: 'A void invoice cannot change', hint: 'A void invoice cannot change.' },
  'payment-requires-open': { status: 422, title: 'Payments apply to open invoices only', hint: 'Finalize the invoice before recording payments.' },
  'invoice-already-paid': { status: 422, title: 'The invoice is already paid', hint: 'The invoice is fully paid.' },
  overpayment: { status: 422, title: 'The payment exceeds the balance', hint: 'The payment is larger than the balance due; record at most the balance.' },
  'refund-exceeds-payment': { status: 422, title: 'The refund exceeds what is left of the payment', hint: 'A refund cannot exceed what is left of the payment.' },
  'revise-requires-finalized': { status: 422, title: 'Only a finalized invoice can be revised', hint: 'Only a finalized invoice can be revised; edit a draft directly.' },
  'revision-pending': { status: 422, title: 'The invoice has a pending revision', hint: 'Finish or delete the pending revision first.' },
  'revision-cannot-be-deleted': { status: 422, title: 'A revision draft completes a correction and cannot be deleted', hint: 'A revision draft completes a correction; finalize it instead.' },
  'credit-requires-finalized': { status: 422, title: 'Only a finalized invoice can be credited', hint: 'Only a finalized invoice can be credited.' },
  'credit-exceeds-invoice': { status: 422, title: 'The credit exceeds what is left to credit on the invoice', hint: 'The credit note would credit more than is left on the invoice.' },
  // A per-request precondition on the invoice's state (dialects: CRM.COM updates drafts only, Stax refuses paid invoices…).
  'status-precondition': { status: 422, title: 'The invoice is not in a state this request may change', hint: 'This request (a dialect rule or ?require_status) changes only invoices in the states listed in `required_status`; `status_now` is the invoice\'s state. Nothing was written.' },
  'finalized-field-fixed': { status: 422, title: 'Number and issue date are fixed once an invoice is finalized', hint: 'Number and issue date are fixed once an invoice is finalized; revise it to change them.' },
  'draft-only-policy': { status: 422, title: "The tenant's edit policy allows financial edits on drafts only", hint: 'The edit policy of the tenant allows financial edits on drafts only: revise the invoice (credit note + new draft).' },
  'paid-invoice-financial-fields': { status: 422, title: "A paid invoice's financial fields cannot change", hint: 'The financial fields of a paid invoice cannot change; refund or credit it first. Notes, metadata and attachments stay editable.' },
  'total-below-amount-paid': { status: 422, title: 'The new total is below what was already paid or credited', hint: 'The new total would be below what was already paid or credited; refund first or keep the total.' },
  'idempotency-key-reused': { status: 422, title: 'The Idempotency-Key was used with another request', hint: 'An Idempotency-Key belongs to one request; use a new key for a different request.' },
  'rate-limited': { status: 429, title: 'Too many requests', hint: 'Slow down and retry after `Retry-After` seconds.' },
  'service-unavailable': { status: 503, title: 'Service temporarily unavailable', hint: 'The database is not answering; retry after `Retry-After`.' },
  'internal-error': { status: 500, title: 'Internal error', hint: 'A fault on our side. The `request_id` finds it in the logs; nothing about it is shown here.' },
} as const;

export type ProblemType = keyof typeof problemTypes;

export const isProblemType = (slug: string): slug is ProblemType => Object.hasOwn(problemTypes, slug);

/**
 * Problem `type` URIs are relative references (RFC 9457 §3.1.1) to pages this service serves itself
 * (`GET /problems/{slug}`), so they resolve wherever Folio runs instead of on a domain we do not own.
 */
export const problemTypeBaseUri = '/problems/';

/** The type URI of a problem type: `/problems/<slug>`. */
export const problemTypeUri = (type: ProblemType) => problemTypeBaseUri + type;

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
      type: problemTypeUri(this.problemType),
      title: problemTypes[this.problemType].title,
      status: this.status,
      detail: this.message,
      ...this.extensions,
    };
    // One convention: the type names the rule; a 422 repeats the slug as `rule` for clients that branch on it.
    if (this.status === 422) doc.rule = this.problemType;
    if (instance) doc.instance = instance;
    if (this.errors && this.errors.length > 0) doc.errors = this.errors;
    return doc;
  }
}

export const notFound = (what: string, id: string) => new AppError('not-found', `No ${what} with id "${id}".`);

export const validationError = (errors: FieldError[], detail = 'One or more fields are invalid.') =>
  new AppError('validation-error', detail, { errors });

/**
 * A refused edit or transition: the problem type is the rule it broke (every 422 repeats it
 * as `rule`), so clients can branch on it.
 */
export const editNotAllowed = (rule: ProblemType, detail: string, errors?: FieldError[], extensions: Record<string, unknown> = {}) =>
  new AppError(rule, detail, { errors, extensions });
