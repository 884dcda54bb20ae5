import type { FastifyRequest } from 'fastify';
import { AppError } from '../shared/errors.js';

/**
 * NUL characters can never be part of an id, filter or cursor, and PostgreSQL refuses them in
 * text ("invalid byte sequence") — so a URL carrying one (raw or as %00) is a 400 up front,
 * before it can reach a query. (JSON bodies are checked by the body parser.)
 */
export function refuseNulInUrl(request: FastifyRequest): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing a raw NUL is the point
  if (/%00|\u0000/i.test(request.url)) {
    throw new AppError('validation-error', 'The URL may not contain NUL characters (%00).', {
      errors: [{ pointer: '/path', detail: 'contains a NUL character' }],
    });
  }
}
