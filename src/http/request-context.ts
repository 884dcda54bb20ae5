import type { AuthContext } from '../modules/tenants/auth.js';
import { AppError } from '../shared/errors.js';

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

/** Cursors are opaque to clients: base64url of the last id seen. */
export const encodeCursor = (lastId: string) => Buffer.from(lastId, 'utf8').toString('base64url');

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[a-z]{2,4}_[0-9a-z]{1,40}$/.test(decoded)) {
    throw new AppError('validation-error', 'The cursor is not one this API returned.', {
      errors: [{ pointer: '/query/cursor', detail: 'invalid cursor' }],
    });
  }
  return decoded;
}

export interface Page<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

/** Builds a page from `limit + 1` fetched rows. */
export function toPage<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const hasMore = rows.length > limit;
  const data = hasMore ? rows.slice(0, limit) : rows;
  return { object: 'list', data, has_more: hasMore, next_cursor: hasMore ? encodeCursor(data[data.length - 1].id) : null };
}
