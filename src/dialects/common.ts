import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../core/app.js';
import { requestContext } from '../core/request-context.js';
import { toAppError } from '../http/errors.js';
import { withAcceptedMediaTypes } from '../http/media-types.js';
import type { RequestContext } from '../core/request-context.js';
import { AppError, type FieldError } from '../shared/errors.js';
import type { UpdateOptions } from '../modules/invoices/service.js';
import type { Invoice } from '../modules/invoices/domain/model.js';
import type { CommittedReplay } from '../modules/idempotency/hooks.js';
import type { InvoiceWrite } from '../modules/invoices/schemas.js';
import { Dec, parseDecimalInput } from '../shared/money.js';

/**
 * What every dialect shares: the core write command a translate module builds, and the error
 * plumbing that answers a core problem in the system's own error shape and status. Dialects
 * call the invoice services only (the same write path, rules and audit as /v1).
 */

/** A system request translated for the core: the body of a native write plus the per-request rules. */
export interface CoreWriteCommand {
  body: InvoiceWrite;
  options: UpdateOptions;
}

/** A dialect's answer to a failed request. */
export interface DialectErrorReply {
  status: number;
  body: unknown;
  contentType?: string;
}

export type DialectErrorRenderer = (problem: AppError, request: FastifyRequest) => DialectErrorReply;

/**
 * Installs the dialect's error and not-found handlers in its plugin scope: everything thrown
 * (validation, auth, the core's problems) becomes `render(problem)`. Internals never leak: an
 * unexpected error is logged and reaches `render` as the generic internal-error problem.
 */
export function installDialectErrors(scope: App, render: DialectErrorRenderer): void {
  const send = (request: FastifyRequest, reply: FastifyReply, problem: AppError) => {
    for (const [name, value] of Object.entries(problem.headers)) reply.header(name, value);
    if (problem.status === 401) reply.header('www-authenticate', 'Bearer');
    const answer = render(problem, request);
    return reply
      .status(answer.status)
      .type(answer.contentType ?? 'application/json; charset=utf-8')
      .serializer((payload: unknown) => (typeof payload === 'string' && answer.contentType?.includes('xml') ? payload : JSON.stringify(payload)))
      .send(answer.body);
  };
  scope.setErrorHandler((error, request, reply) => {
    const { appError, unexpected } = toAppError(error);
    if (unexpected) request.log.error({ err: error }, 'request failed');
    return send(request, reply, withAcceptedMediaTypes(request, appError));
  });
  scope.setNotFoundHandler((request, reply) => send(request, reply, new AppError('not-found', `No route ${request.method} ${request.url.split('?')[0]}.`)));
}

/** The calling key and request, as the services need them. */
export const dialectContext = (request: FastifyRequest): RequestContext => requestContext(request);

/** X-Change-Reason works on dialect routes too (kept in the history). */
export function changeReason(request: FastifyRequest): string | null {
  const reason = request.headers['x-change-reason'];
  return typeof reason === 'string' ? reason.slice(0, 500) : null;
}

/** A decimal string as a JSON number, for systems whose amounts are numbers (exact for money-sized values). */
export const asNumber = (decimal: string | null): number | null => (decimal === null ? null : Number(decimal));

/**
 * Rewrites the native JSON pointers in a problem's field errors into the system's field paths:
 * `rename` maps a native pointer to the system's pointer (or returns it unchanged).
 */
export function renamePointers(errors: FieldError[] | undefined, rename: (pointer: string) => string): FieldError[] {
  return (errors ?? []).map((error) => ({ ...error, pointer: rename(error.pointer) }));
}

/** "/meta/lineItems/0/price" → "meta.lineItems.0.price" (the dotted form several systems use). */
export const dotted = (pointer: string) => pointer.replace(/^\//, '').split('/').map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~')).join('.');

/** A figure a client sent, read exactly (null when it is not a readable decimal: its own check names it). */
export function sentDecimal(value: string | number): Dec | null {
  const parsed = parseDecimalInput(value, { maxIntegerDigits: 15, maxFractionDigits: 10 });
  return 'error' in parsed ? null : parsed;
}

/** Tax rates derived from a sent tax amount keep 4 decimals (percent). */
const derivedRatePlaces = 4;

/**
 * For systems that send tax as an amount (Midnight per line, Stax per invoice) where Folio keeps a
 * rate: the percentage that turns `net` into `tax`, rounded to 4 decimals; null for no tax;
 * undefined when no rate can (unreadable figures, tax on a zero amount) — the sent tax is then
 * checked like any client figure and its check names it.
 */
export function taxRateFromAmount(tax: string | number, net: Dec | null): string | null | undefined {
  const taxAmount = sentDecimal(tax);
  if (!taxAmount || !net) return undefined;
  if (taxAmount.isZero()) return null;
  if (net.isZero()) return undefined;
  return taxAmount.div(net).times(100).toDecimalPlaces(derivedRatePlaces, Dec.ROUND_HALF_UP).toFixed();
}

/**
 * A dialect write's route config `replayCommitted`: its own answer for the invoice as the change
 * committed it, so an Idempotency-Key retry after a crash between commit and response replays the
 * dialect's shape (status, format) instead of a 409. `answer` is what the handler answers with.
 */
export const replayInvoiceAnswer =
  (answer: (invoice: Invoice, request: FastifyRequest, reply: FastifyReply) => FastifyReply | Promise<FastifyReply>): CommittedReplay =>
  (resource, request, reply) =>
    answer(resource as Invoice, request, reply);
