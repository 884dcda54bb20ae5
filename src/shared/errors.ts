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
  'edit-not-allowed': { status: 422, title: 'This change is not allowed in the current state' },
  'business-rule': { status: 422, title: 'The request breaks a business rule' },
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

/** A refused edit names the rule it broke (`rule`), so clients can branch on it. */
export const editNotAllowed = (rule: string, detail: string, errors?: FieldError[]) =>
  new AppError('edit-not-allowed', detail, { errors, extensions: { rule } });
