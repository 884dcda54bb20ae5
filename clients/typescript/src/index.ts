/**
 * A thin typed client for Folio over openapi-fetch: the generated types (./schema.ts) plus what
 * every caller otherwise rewrites — ETag/If-Match, Idempotency-Key, and problem answers as
 * typed exceptions (PreconditionFailedError carries the current version).
 */
import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './schema.js';

export type { components, paths } from './schema.js';
export type Invoice = components['schemas']['Invoice'];
export type InvoiceWrite = components['schemas']['InvoiceWrite'];
export type InvoiceList = components['schemas']['InvoiceList'];
export type Problem = components['schemas']['Problem'];
export type InvoiceListQuery = NonNullable<paths['/v1/invoices']['get']['parameters']['query']>;

/** A problem+json answer (RFC 9457). */
export class FolioError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(`${status} ${problem.title}: ${problem.detail}`);
    this.name = new.target.name;
  }
  /** The problem type's slug, e.g. "validation-error", "paid-invoice-financial-fields". */
  get type(): string {
    return String(this.problem.type).replace(/^\/problems\//, '');
  }
}
export class ValidationError extends FolioError {}
export class NotFoundError extends FolioError {}
export class ConflictError extends FolioError {}
export class BusinessRuleError extends FolioError {}
/** The invoice changed since you read it: re-read (currentVersion is the server's), re-apply, resend. */
export class PreconditionFailedError extends FolioError {
  get currentVersion(): number | undefined {
    const value = (this.problem as Record<string, unknown>).current_version;
    return typeof value === 'number' ? value : undefined;
  }
}

const errorClasses: Record<number, typeof FolioError> = { 400: ValidationError, 404: NotFoundError, 409: ConflictError, 412: PreconditionFailedError, 422: BusinessRuleError };

/** A resource with the version its ETag names. */
export interface Versioned<T> {
  data: T;
  etag: string;
}

export interface WriteOptions {
  /** The ETag (or version number) you read; a stale one is a PreconditionFailedError. */
  ifMatch?: string | number;
  /** Defaults to a fresh random key per call, so retrying the same call object is safe. */
  idempotencyKey?: string;
  reason?: string;
}

const etagOf = (value: string | number) => (typeof value === 'number' ? `"${value}"` : value);

export class FolioClient {
  /** The raw typed client, for operations this wrapper does not cover. */
  readonly api: Client<paths>;

  constructor(options: { baseUrl: string; apiKey: string; fetch?: typeof fetch }) {
    this.api = createClient<paths>({ baseUrl: options.baseUrl, headers: { authorization: `Bearer ${options.apiKey}` }, fetch: options.fetch });
  }

  private unwrap<T>(result: { data?: T; error?: unknown; response: Response }): Versioned<T> {
    if (result.error !== undefined || result.data === undefined) {
      const ErrorClass = errorClasses[result.response.status] ?? FolioError;
      throw new ErrorClass(result.response.status, (result.error ?? { type: 'about:blank', title: 'Error', status: result.response.status, detail: '' }) as Problem);
    }
    return { data: result.data, etag: result.response.headers.get('etag') ?? '' };
  }

  private writeHeaders(options: WriteOptions) {
    return {
      'idempotency-key': options.idempotencyKey ?? crypto.randomUUID(),
      ...(options.ifMatch !== undefined ? { 'if-match': etagOf(options.ifMatch) } : {}),
      ...(options.reason !== undefined ? { 'x-change-reason': options.reason } : {}),
    };
  }

  async createInvoice(body: InvoiceWrite, options: Omit<WriteOptions, 'ifMatch'> = {}): Promise<Versioned<Invoice>> {
    return this.unwrap(await this.api.POST('/v1/invoices', { body, params: { header: this.writeHeaders(options) } }));
  }

  async getInvoice(id: string): Promise<Versioned<Invoice>> {
    return this.unwrap(await this.api.GET('/v1/invoices/{id}', { params: { path: { id } } }));
  }

  async listInvoices(query: InvoiceListQuery = {}): Promise<InvoiceList> {
    return this.unwrap(await this.api.GET('/v1/invoices', { params: { query } })).data;
  }

  /** Every invoice matching the query, page after page. */
  async *allInvoices(query: Omit<InvoiceListQuery, 'cursor'> = {}): AsyncGenerator<Invoice> {
    let cursor: string | undefined;
    do {
      const page = await this.listInvoices({ ...query, ...(cursor ? { cursor } : {}) });
      yield* page.data;
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
  }

  /** PATCH: absent fields unchanged, null clears. Pass the ETag you read as ifMatch. */
  async updateInvoice(id: string, body: InvoiceWrite, options: WriteOptions = {}): Promise<Versioned<Invoice>> {
    return this.unwrap(await this.api.PATCH('/v1/invoices/{id}', { body, params: { path: { id }, header: this.writeHeaders(options) } }));
  }

  async finalizeInvoice(id: string, options: WriteOptions = {}): Promise<Versioned<Invoice>> {
    return this.unwrap(await this.api.POST('/v1/invoices/{id}/finalize', { params: { path: { id }, header: this.writeHeaders(options) } }));
  }

  /**
   * Read, change, write with If-Match; when someone else wrote in between (412), read again and
   * re-apply `change` to the fresh invoice, up to `attempts` times.
   */
  async changeInvoice(id: string, change: (invoice: Invoice) => InvoiceWrite, attempts = 3): Promise<Versioned<Invoice>> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.getInvoice(id);
      try {
        return await this.updateInvoice(id, change(current.data), { ifMatch: current.etag });
      } catch (error) {
        if (!(error instanceof PreconditionFailedError) || attempt >= attempts) throw error;
      }
    }
  }
}
