import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../core/app.js';
import type { RequestContext } from '../../core/request-context.js';
import type { Db, Engine } from '../../db/database.js';
import { AppError } from '../../shared/errors.js';
import { createIdempotencyService, keyPattern, requestHash } from './service.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Set for a multipart request with an Idempotency-Key: the key is claimed only once the
     * upload has been read, so its fingerprint (file sha256 and fields) is part of the request
     * hash. The route calls it after staging the file; true = the answer was sent (a replay).
     */
    claimIdempotencyForUpload: ((fingerprint: unknown) => Promise<boolean>) | null;
  }
  interface FastifyContextConfig {
    /**
     * A dialect route's own answer, rebuilt from the resource its change committed, for a retry
     * whose first request committed but never stored its response (the dialect's shape, status and
     * format: the same function its handler answers with). Without it such a retry is a 409.
     */
    replayCommitted?: CommittedReplay;
  }
}

/** Answers (sends) a dialect's response for `resource`, as loaded at the committed version. */
export type CommittedReplay = (resource: unknown, request: FastifyRequest, reply: FastifyReply) => FastifyReply | Promise<FastifyReply>;

/** Loads a resource as it was at a committed version (e.g. an invoice from its history). */
export type ResourceAtVersion = (ctx: RequestContext, id: string, version: number) => Promise<unknown>;

/**
 * Answers a replay whose change committed but whose response was never stored, from the resource
 * as it was at `version` (its kind and id come from the `resource` the use case marked, e.g.
 * `invoice/inv_…/3`). Each resource kind registers its own at composition.
 */
export type ReplayRenderer = (ctx: RequestContext, id: string, version: number, reply: FastifyReply) => Promise<FastifyReply>;

export interface IdempotencyDeps {
  db: Db;
  engine: Engine;
  ttlHours: number;
}

const writeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** The native API and the dialects (same write path, same key semantics). */
const isIdempotentPath = (url: string) => url.startsWith('/v1/') || url.startsWith('/compat/');
/** Response headers worth replaying (the body's type and what points at the result). */
const replayedHeaders = ['content-type', 'etag', 'location', 'folio-dry-run'];
const cleanupIntervalMs = 15 * 60_000;

/** A response is kept for replay unless it says "try again": 5xx, 409 (in progress/race) and 429. */
const isFinal = (status: number) => status < 500 && status !== 409 && status !== 429;

/** A dry run changes nothing, so its key is claimed (and its answer stored) the usual way. */
const isDryRun = (request: FastifyRequest) => (request.query as { dry_run?: unknown } | undefined)?.dry_run === true;

/** What a replay of this answer sends: status, the replayed headers, the body. */
function answerOf(reply: FastifyReply, payload: string | Buffer | null | undefined) {
  const headers: Record<string, string> = {};
  for (const name of replayedHeaders) {
    const value = reply.getHeader(name);
    if (value !== undefined) headers[name] = String(value);
  }
  return { status: reply.statusCode, headers, body: payload == null ? '' : payload.toString() };
}

/**
 * Idempotency-Key for every authenticated POST/PUT/PATCH/DELETE under /v1 and /compat (dialects), as generic
 * hooks: routes other modules add later get it without doing anything.
 */
export function registerIdempotency(app: App, deps: IdempotencyDeps) {
  const idempotency = createIdempotencyService(deps);
  const replayed = new WeakSet<FastifyRequest>();
  const replayRenderers = new Map<string, ReplayRenderer>();
  const resourceLoaders = new Map<string, ResourceAtVersion>();

  app.decorateRequest('idempotency', null);
  app.decorateRequest('claimIdempotencyForUpload', null);

  app.addHook('preHandler', async (request, reply) => {
    const key = request.headers['idempotency-key'];
    if (key === undefined || !request.auth || !writeMethods.has(request.method) || !isIdempotentPath(request.url)) return;
    if (typeof key !== 'string' || !keyPattern.test(key)) {
      throw new AppError('validation-error', 'Idempotency-Key must be 1–255 visible ASCII characters.', {
        errors: [{ pointer: '/headers/idempotency-key', detail: 'invalid key' }],
      });
    }
    if (request.isMultipart?.()) {
      // The body is a stream not read yet: the route claims once it knows the file's fingerprint.
      request.claimIdempotencyForUpload = (fingerprint) => claimOrAnswer(request, reply, key, fingerprint);
      return;
    }
    if (request.routeOptions.config.idempotencyInTransaction && !isDryRun(request) && !(await idempotency.isKnown(request.auth.tenantId, key))) {
      // A new key on a route whose answer a retry can rebuild from the version it wrote: the
      // version's own transaction inserts the key's row (one commit per request, not three).
      const now = new Date().toISOString();
      request.idempotency = {
        key,
        claimToken: randomUUID(),
        insert: { hash: requestHash(request.method, request.url, request.body), method: request.method, path: request.url.slice(0, 500), createdAt: now, expiresAt: idempotency.expiresAt(now) },
      };
      return;
    }
    await claimOrAnswer(request, reply, key, request.body);
  });

  /** Claims the key for this request (false), or answers from what the key already did (true). */
  async function claimOrAnswer(request: FastifyRequest, reply: FastifyReply, key: string, body: unknown): Promise<boolean> {
    if (!request.auth) throw new AppError('unauthorized', 'Send an API key: Authorization: Bearer <key>.');
    const outcome = await idempotency.claim({
      tenantId: request.auth.tenantId,
      key,
      method: request.method,
      path: request.url.slice(0, 500),
      hash: requestHash(request.method, request.url, body),
    });
    if (outcome.kind === 'claimed') {
      request.idempotency = { key, claimToken: outcome.claimToken };
      return false;
    }
    replayed.add(request);
    reply.header('idempotent-replayed', 'true');
    if (outcome.kind === 'replay') {
      for (const [name, value] of Object.entries(outcome.headers)) reply.header(name, value);
      await reply.status(outcome.status).serializer((payload: unknown) => String(payload)).send(outcome.body);
      return true;
    }
    // The change committed but the process stopped before its response was stored:
    // answer with the resource as it was at the committed version.
    const [kind, id, version] = outcome.resource.split('/');
    const ctx = { auth: request.auth, requestId: String(request.id) };
    // A dialect answers in its own shape: its route rebuilds that answer from the resource at the committed version.
    const dialectReplay = request.routeOptions.config.replayCommitted;
    const load = resourceLoaders.get(kind);
    if (dialectReplay && load) {
      await dialectReplay(await load(ctx, id, Number(version)), request, reply);
      return true;
    }
    const render = replayRenderers.get(kind);
    if (!render || !request.url.startsWith('/v1/')) throw new AppError('conflict', 'This Idempotency-Key already made its change; read the resource to see it.');
    await render(ctx, id, Number(version), reply);
    return true;
  }

  app.addHook('onSend', async (request, reply, payload) => {
    const claim = request.idempotency;
    if (!claim || !request.auth || replayed.has(request)) return payload;
    const tenantId = request.auth.tenantId;
    try {
      if (claim.insert) {
        // The change committed with the key's row: a retry is answered from that version.
        if (claim.inserted && reply.statusCode < 300) return payload;
        // No change (a final refusal, a no-op): keep the answer; nothing to release otherwise.
        if (isFinal(reply.statusCode) && (typeof payload === 'string' || Buffer.isBuffer(payload) || payload == null)) {
          await idempotency.storeAnswer({ tenantId, key: claim.key, claimToken: claim.claimToken, ...claim.insert }, answerOf(reply, payload));
        }
        return payload;
      }
      if (isFinal(reply.statusCode) && (typeof payload === 'string' || Buffer.isBuffer(payload) || payload == null)) {
        await idempotency.complete(tenantId, claim.key, claim.claimToken, answerOf(reply, payload));
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

  return {
    /** How a replay of a committed `kind` change (e.g. 'invoice') is answered; one renderer per kind. */
    registerReplayRenderer(kind: string, render: ReplayRenderer) {
      replayRenderers.set(kind, render);
    },
    /** How a `kind` resource is read at a committed version, for dialect routes' `replayCommitted`. */
    registerResourceAtVersion(kind: string, load: ResourceAtVersion) {
      resourceLoaders.set(kind, load);
    },
  };
}
