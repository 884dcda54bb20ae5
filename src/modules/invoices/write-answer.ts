import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { etagFor, parseIfMatch, type RequestContext, type WriteOptions } from '../../core/request-context.js';
import { IfMatchHeaders } from '../../core/schema-helpers.js';
import type { HistoryService } from '../history/service.js';
import type { Invoice } from './domain/model.js';
import { derivePaymentStatus } from './domain/payment-status.js';
import type { InvoiceService, WriteResult } from './service.js';

/*
 * How every invoice write answers over HTTP (the invoice, its ETag, `Prefer: return=minimal`,
 * dry runs), shared by the invoice, lifecycle, payment, credit-note and attachment routes and by
 * the Idempotency-Key replay of an invoice change.
 */

/**
 * The response body of an invoice: the stored model plus what is derived on read. `today` is the
 * app clock's business date (`request.server.clock.today()`), so "overdue" follows an injected clock.
 */
export function presentInvoice(invoice: Invoice, today: string) {
  return { ...invoice, payment_status: derivePaymentStatus(invoice, today) };
}

/** If-Match and friends, plus `Prefer: return=minimal` (answer 204 with the ETag, no body). */
export const InvoiceWriteHeaders = Type.Object({
  ...IfMatchHeaders.properties,
  prefer: Type.Optional(Type.String({ maxLength: 200, description: 'RFC 7240. `return=minimal`: answer 204 with the ETag and `Preference-Applied: return=minimal`, no body.' })),
});

/** The 204 a write answers under `Prefer: return=minimal`. */
export const MinimalReturnResponse = Type.Null({ description: 'Written; the new version is in the ETag (Prefer: return=minimal).' });

export function writeOptions(request: FastifyRequest): WriteOptions {
  const headers = request.headers;
  const reason = headers['x-change-reason'];
  const query = request.query as { dry_run?: boolean } | undefined;
  return {
    ifMatch: parseIfMatch(typeof headers['if-match'] === 'string' ? headers['if-match'] : undefined),
    reason: typeof reason === 'string' ? reason : null,
    dryRun: query?.dry_run === true,
  };
}

/** True when a `Prefer` header (RFC 7240) asks for `return=minimal`. */
export function prefersMinimalReturn(prefer: string | string[] | undefined): boolean {
  const values = Array.isArray(prefer) ? prefer : prefer === undefined ? [] : [prefer];
  return values.some((value) =>
    value.split(',').some((preference) => {
      const [name, token] = (preference.split(';')[0] ?? '').split('=').map((part) => part.trim().toLowerCase());
      return name === 'return' && token?.replace(/^"(.*)"$/, '$1') === 'minimal';
    }),
  );
}

/**
 * Every invoice write answers the same way: the invoice, its ETag, and for dry runs the diff.
 * An update or transition (200) sent with `Prefer: return=minimal` answers 204 with the ETag
 * and `Preference-Applied: return=minimal`, no body (a dry run always answers with its body).
 */
export function sendWriteResult(reply: FastifyReply, result: WriteResult, options: WriteOptions, status = 200) {
  if (status === 200 && !options.dryRun && prefersMinimalReturn(reply.request.headers.prefer)) {
    reply.header('etag', etagFor(result.invoice.version));
    reply.header('preference-applied', 'return=minimal');
    return reply.status(204).send();
  }
  const body: Record<string, unknown> = presentInvoice(result.invoice, reply.server.clock.today());
  if (options.dryRun) {
    reply.header('folio-dry-run', 'true');
    body.dry_run = true;
    body.changes = result.changes;
  } else {
    reply.header('etag', etagFor(result.invoice.version));
  }
  return reply.status(status).send(body);
}

/** The invoice as it was at `version` (the current one, or rebuilt from history). */
export function invoiceAtVersion(invoices: InvoiceService, history: HistoryService) {
  return async (ctx: RequestContext, id: string, version: number): Promise<Invoice> => {
    const current = await invoices.get(ctx, id);
    return version === current.version ? current : history.atVersion(ctx, current, version);
  };
}

/**
 * Answers a replayed Idempotency-Key whose change committed without a stored response (the process
 * stopped before storing it, or the route claimed the key in the change's own transaction and stores
 * none): the invoice as it was at the committed version (registered with the idempotency hooks at composition).
 */
export function invoiceReplayRenderer(invoices: InvoiceService, history: HistoryService) {
  const load = invoiceAtVersion(invoices, history);
  return async (ctx: RequestContext, id: string, version: number, reply: FastifyReply) => {
    const invoice = await load(ctx, id, version);
    // The answer the change's own request got (200, or 204 under `Prefer: return=minimal`).
    return sendWriteResult(reply, { invoice, changes: [], written: true }, { dryRun: false });
  };
}
