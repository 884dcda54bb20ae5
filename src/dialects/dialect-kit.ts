import { Ajv, type ErrorObject } from 'ajv';
import type { FastifyRequest } from 'fastify';
import { validationErrors } from '../http/errors.js';
import type { Db } from '../db/database.js';
import { AppError } from '../shared/errors.js';
import { hasScope, type AuthContext, type Scope } from '../core/auth.js';
import { createAuthenticator } from '../modules/tenants/service.js';
import { InvoiceWriteSchema, type InvoiceWrite } from '../modules/invoices/schemas.js';

/**
 * What the Midnight and CRM.COM dialects share: resolving an API key sent in the request body
 * (CRM.COM's `token`, known only once the body is read, after the core's onRequest auth) to the
 * caller, and checking a translated write against the core's own write schema before any service sees it.
 */
export function createDialectAuthenticator(db: Db) {
  const authenticate = createAuthenticator(db);
  return async function authenticateKey(request: FastifyRequest, key: string | undefined, scope: Scope): Promise<AuthContext> {
    if (!key) throw new AppError('unauthorized', 'Send an API key.');
    const auth = await authenticate(key);
    if (!auth) throw new AppError('unauthorized', 'The API key is not valid.');
    if (!hasScope(auth.scopes, scope)) throw new AppError('forbidden', `This API key lacks the "${scope}" scope.`);
    request.auth = auth;
    return auth;
  };
}


const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: false });
const checkWrite = ajv.compile(InvoiceWriteSchema);

/** A translated write the core's schema would refuse is the client's 400, never a 500 deeper down. */
export function assertValidWrite(write: InvoiceWrite): InvoiceWrite {
  if (checkWrite(write)) return write;
  const errors = validationErrors((checkWrite.errors ?? []) as ErrorObject[] as never, 'body');
  throw new AppError('validation-error', 'One or more fields are invalid.', { errors });
}
