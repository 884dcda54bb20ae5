import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App, AppDeps } from '../../http/app.js';
import { etagFor, type IdempotencyClaim } from '../../http/request-context.js';
import { AppError } from '../../shared/errors.js';
import { presentInvoice } from '../invoices/routes.js';
import { createIdempotencyService, keyPattern, requestHash } from './service.js';

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: IdempotencyClaim | null;
  }
}

const writeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** The native API and the dialects (same write path, same key semantics). */
const isIdempotentPath = (url: string) => url.startsWith('/v1/') || url.startsWith('/compat/');
/** Response headers worth replaying (the body's type and what points at the result). */
const replayedHeaders = ['content-type', 'etag', 'location', 'folio-dry-run'];
const cleanupIntervalMs = 15 * 60_000;

/** A response is kept for replay unless it says "try again": 5xx, 409 (in progress/race) and 429. */
const isFinal = (status: number) => status < 500 && status !== 409 && status !== 429;

/**
 * Idempotency-Key for every authenticated POST/PUT/PATCH/DELETE under /v1 and /compat (dialects), as generic
 * hooks: routes other modules add later get it without doing anything.
 */
export function registerIdempotency(app: App, { config, database, services }: AppDeps) {
  const idempotency = createIdempotencyService({ db: database.db, engine: database.engine, ttlHours: config.idempotencyTtlHours });
  const replayed = new WeakSet<FastifyRequest>();

  app.decorateRequest('idempotency', null);

  app.addHook('preHandler', async (request, reply) => {
    const key = request.headers['idempotency-key'];
    if (key === undefined || !request.auth || !writeMethods.has(request.method) || !isIdempotentPath(request.url)) return;
    if (typeof key !== 'string' || !keyPattern.test(key)) {
      throw new AppError('validation-error', 'Idempotency-Key must be 1–255 visible ASCII characters.', {
        errors: [{ pointer: '/headers/idempotency-key', detail: 'invalid key' }],
      });
    }
    const tenantId = request.auth.tenantId;
    const outcome = await idempotency.claim({
      tenantId,
      key,
      method: request.method,
      path: request.url.slice(0, 500),
      hash: requestHash(request.method, request.url, request.body),
    });
    if (outcome.kind === 'claimed') {
      request.idempotency = { key, claimToken: outcome.claimToken };
      return;
    }
    replayed.add(request);
    reply.header('idempotent-replayed', 'true');
    if (outcome.kind === 'replay') {
      for (const [name, value] of Object.entries(outcome.headers)) reply.header(name, value);
      return reply.status(outcome.status).serializer((payload: unknown) => String(payload)).send(outcome.body);
    }
    // The change committed but the process stopped before its response was stored:
    // answer with the invoice as it was at the committed version.
    const [kind, id, version] = outcome.resource.split('/');
    const ctx = { auth: request.auth, requestId: String(request.id) };
    if (kind === 'customer') {
      // Customers keep no history: the committed version can be answered only while it is the current one.
      const customer = await services.customers.get(ctx, id);
      if (customer.version !== Number(version)) throw new AppError('conflict', 'This Idempotency-Key already made its change; read the resource to see it.');
      reply.header('etag', etagFor(customer.version));
      return (reply as FastifyReply).status(200).send(customer);
    }
    // A dialect answers in its own shape, which cannot be rebuilt here: the client reads the invoice instead.
    if (kind !== 'invoice' || !request.url.startsWith('/v1/')) throw new AppError('conflict', 'This Idempotency-Key already made its change; read the resource to see it.');
    const current = await services.invoices.get(ctx, id);
    const invoice = Number(version) === current.version ? current : await services.history.atVersion(ctx, current, Number(version));
    reply.header('etag', etagFor(invoice.version));
    return (reply as FastifyReply).status(200).send(presentInvoice(invoice));
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const claim = request.idempotency;
    if (!claim || !request.auth || replayed.has(request)) return payload;
    const tenantId = request.auth.tenantId;
    try {
      if (isFinal(reply.statusCode) && (typeof payload === 'string' || Buffer.isBuffer(payload) || payload == null)) {
        const headers: Record<string, string> = {};
        for (const name of replayedHeaders) {
          const value = reply.getHeader(name);
          if (value !== undefined) headers[name] = String(value);
        }
        await idempotency.complete(tenantId, claim.key, claim.claimToken, {
          status: reply.statusCode,
          headers,
          body: payload == null ? '' : payload.toString(),
        });
      } else {
        await idempotency.release(tenantId, claim.key, claim.claimToken);
      }
    } catch (error) {
      // The response still goes out; a retry then sees the key in_flight (lease) or committed.
      request.log.error({ err: error }, 'could not store the idempotent response');
    }
    return payload;
  });

  let timer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    timer = setInterval(() => {
      idempotency.deleteExpired().catch((error) => app.log.warn({ err: error }, 'idempotency cleanup failed'));
    }, cleanupIntervalMs);
    timer.unref();
  });
  app.addHook('onClose', async () => {
    if (timer) clearInterval(timer);
  });
}
