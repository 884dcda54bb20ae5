import type { FastifyRequest } from 'fastify';
import { AppError } from '../shared/errors.js';
import type { AuthContext, Scope } from './auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook (src/http/app.ts) on routes that declare a scope. */
    auth: AuthContext | null;
    /** Set by the Idempotency-Key hook when the request claimed a key. */
    idempotency: IdempotencyClaim | null;
  }
  interface FastifyContextConfig {
    /** The API-key scope a route needs; routes without one are public (docs, health). */
    scope?: Scope;
    /**
     * Where the route reads its credential (dialects: a bare key, a token…). Default:
     * `Authorization: Bearer <API key>`. Returning null means "none sent" (401).
     */
    credential?: (request: FastifyRequest) => Credential | null;
    /**
     * The route's answer is the invoice at the version it wrote (the Idempotency-Key replay renderer can
     * rebuild it): a new key is then claimed inside the write's own transaction — one commit per
     * request, not three (src/modules/idempotency/hooks.ts).
     */
    idempotencyInTransaction?: boolean;
  }
}

/** An API key, or an access token issued by a dialect's token endpoint (src/modules/tenants/access-tokens.ts). */
export type Credential = { apiKey: string } | { accessToken: string };

/** `Authorization: Bearer <key>` (any case of "Bearer"). */
export function bearerCredential(request: FastifyRequest): Credential | null {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match ? { apiKey: match[1] } : null;
}

/** What every use case needs to know about the call it serves. */
export interface RequestContext {
  auth: AuthContext;
  requestId: string;
  /** Set when the request carries an Idempotency-Key: the version write marks the key in its transaction. */
  idempotency?: IdempotencyClaim;
}

export interface IdempotencyClaim {
  key: string;
  claimToken: string;
  /**
   * A new key not yet written: the version write inserts its row (already `committed`) in its own
   * transaction, and sets `inserted`. Absent for a key claimed before the handler ran.
   */
  insert?: { hash: string; method: string; path: string; createdAt: string; expiresAt: string };
  /** Set by the version write that inserted the key's row (the transaction may still roll back). */
  inserted?: boolean;
}

/** Options a client sets on a write through headers or the query string. */
export interface WriteOptions {
  /** Versions the client accepts as current (from If-Match); undefined = no precondition. */
  ifMatch?: number[] | '*';
  /** Why the change was made (X-Change-Reason header or the body's `reason`); kept in history. */
  reason?: string | null;
  /** Compute and return the result, write nothing. */
  dryRun?: boolean;
}

/** The context of an authenticated request; a 401 when the route ran without an API key. */
export function requestContext(request: FastifyRequest): RequestContext {
  if (!request.auth) throw new AppError('unauthorized', 'Send an API key: Authorization: Bearer <key>.');
  return { auth: request.auth, requestId: String(request.id), idempotency: request.idempotency ?? undefined };
}

export const etagFor = (version: number) => `"${version}"`;

/**
 * Parses If-Match: `"3"`, `"2", "3"` or `*`. Anything else is a 400. If-Match uses the strong
 * comparison (RFC 9110 §13.1.1): a weak tag such as `W/"3"` is read but never matches, so a
 * precondition made only of weak tags fails (412).
 */
export function parseIfMatch(header: string | undefined): WriteOptions['ifMatch'] {
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  if (trimmed === '*') return '*';
  const versions: number[] = [];
  for (const part of trimmed.split(',')) {
    const match = entityTagPattern.exec(part);
    if (!match) {
      throw new AppError('validation-error', 'If-Match must be an ETag from a previous response, e.g. "3".', {
        errors: [{ pointer: '/headers/if-match', detail: `unreadable entity tag: ${part.trim().slice(0, 40)}` }],
      });
    }
    if (!match[1]) versions.push(Number(match[2]));
  }
  return versions;
}

const entityTagPattern = /^\s*(W\/)?"(\d{1,9})"\s*$/;

/**
 * If-None-Match on a read (RFC 9110 §13.1.2, weak comparison): `*`, or a list of tags of which
 * one names the current version, weak or strong. True = answer 304 Not Modified.
 */
export function ifNoneMatchHits(header: string | string[] | undefined, currentEtag: string): boolean {
  if (typeof header !== 'string') return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((part) => part.trim().replace(/^W\//, '') === currentEtag);
}

export function assertIfMatch(ifMatch: WriteOptions['ifMatch'], currentVersion: number): void {
  if (ifMatch === undefined || ifMatch === '*') return;
  if (!ifMatch.includes(currentVersion)) {
    const given = ifMatch.length === 0 ? 'with only weak entity tags (which never match a write)' : ifMatch.map(etagFor).join(', ');
    throw new AppError('precondition-failed', `If-Match ${given} does not match the current version ${etagFor(currentVersion)}; nothing was changed.`, {
      extensions: { current_version: currentVersion },
      headers: { etag: etagFor(currentVersion) },
    });
  }
}
