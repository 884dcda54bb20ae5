import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { closest, distance } from 'fastest-levenshtein';
import { AppError, type FieldError, type ProblemType } from '../shared/errors.js';
import { withAcceptedMediaTypes } from './media-types.js';
import { prefersXml } from '../core/representation.js';
import { problemAsXml } from './representation.js';

interface AjvLikeError {
  instancePath: string;
  message?: string;
  keyword: string;
  params: Record<string, unknown>;
  /** Present with Ajv's `verbose` option (src/http/app.ts): the object schema an error is about. */
  parentSchema?: { properties?: Record<string, unknown> };
}

/** The known field closest to a misspelt one ("lins" → "lines"), when one is close enough to be a typo. */
export function closestField(unknown: string, known: string[]): string | undefined {
  if (known.length === 0 || unknown.length > 100) return undefined;
  const candidate = closest(unknown.toLowerCase(), known);
  return distance(unknown.toLowerCase(), candidate) <= Math.max(2, Math.floor(candidate.length / 3)) ? candidate : undefined;
}

const contextPrefix: Record<string, string> = { body: '', querystring: '/query', params: '/path', headers: '/headers' };

/** Ajv errors → one FieldError per JSON pointer (anyOf branches are folded together). */
export function validationErrors(errors: AjvLikeError[], context: string | undefined): FieldError[] {
  const prefix = contextPrefix[context ?? 'body'] ?? '';
  const byPointer = new Map<string, Set<string>>();
  for (const error of errors) {
    let pointer = prefix + error.instancePath;
    let message = error.message ?? 'is invalid';
    if (error.keyword === 'required') pointer += `/${String(error.params.missingProperty)}`;
    if (error.keyword === 'additionalProperties') {
      const field = String(error.params.additionalProperty);
      pointer += `/${field}`;
      const suggestion = closestField(field, Object.keys(error.parentSchema?.properties ?? {}));
      message = suggestion ? `is not a known field; did you mean \`${suggestion}\`?` : 'is not a known field';
    }
    if (error.keyword === 'anyOf') continue; // its branches already said what is wrong
    const messages = byPointer.get(pointer || '/') ?? new Set<string>();
    messages.add(message);
    byPointer.set(pointer || '/', messages);
  }
  return [...byPointer].map(([pointer, messages]) => ({ pointer, detail: [...messages].join('; ') }));
}

const statusToType: Record<number, ProblemType> = {
  400: 'malformed-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  406: 'not-acceptable',
  409: 'conflict',
  412: 'precondition-failed',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  429: 'rate-limited',
  503: 'service-unavailable',
};

const databaseUnavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02',
  '57P03', // cannot_connect_now
  '08000',
  '08003',
  '08006',
  'SQLITE_BUSY',
]);

/** A transaction the database gave up on because of a concurrent one: safe to retry as is. */
const transientConflictCodes = new Set([
  '40P01', // deadlock_detected
  '40001', // serialization_failure
  '55P03', // lock_not_available
]);

function isDatabaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: string })?.code;
  if (code && databaseUnavailableCodes.has(code)) return true;
  const message = (error as Error)?.message ?? '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message);
}

/** Turns anything thrown into the AppError the client will see. Internals never leak. */
export function toAppError(error: unknown): { appError: AppError; unexpected: boolean } {
  if (error instanceof AppError) return { appError: error, unexpected: false };
  const fastifyError = error as FastifyError & { validation?: AjvLikeError[]; validationContext?: string };
  if (fastifyError?.validation) {
    const errors = validationErrors(fastifyError.validation, fastifyError.validationContext);
    return { appError: new AppError('validation-error', 'One or more fields are invalid.', { errors }), unexpected: false };
  }
  const databaseCode = (error as { code?: string })?.code;
  if (databaseCode && transientConflictCodes.has(databaseCode)) {
    return {
      appError: new AppError('conflict', 'A concurrent change got in the way; nothing was written. Retry the request.', { headers: { 'retry-after': '1' }, extensions: { retryable: true } }),
      unexpected: true,
    };
  }
  if (isDatabaseUnavailable(error)) {
    return {
      appError: new AppError('service-unavailable', 'The database is unavailable; retry shortly.', { headers: { 'retry-after': '1' } }),
      unexpected: true,
    };
  }
  const status = fastifyError?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const type = statusToType[status] ?? 'malformed-request';
    // Fastify's own 4xx messages describe the request, not our internals.
    return { appError: new AppError(type, fastifyError.message.replace(/^FST_\w+: /, '')), unexpected: false };
  }
  return { appError: new AppError('internal-error', 'Something went wrong on our side. The request id identifies it in our logs.'), unexpected: true };
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: unknown) {
  const { appError: problem, unexpected } = toAppError(error);
  const appError = withAcceptedMediaTypes(request, problem);
  if (unexpected) request.log.error({ err: error }, 'request failed');
  for (const [name, value] of Object.entries(appError.headers)) reply.header(name, value);
  if (appError.status === 401) reply.header('www-authenticate', 'Bearer');
  const body = appError.toProblem(request.url.split('?')[0]);
  body.request_id = request.id;
  if (prefersXml(request.headers.accept)) {
    return reply.status(appError.status).type('application/problem+xml; charset=utf-8').serializer(problemAsXml).send(body);
  }
  return reply.status(appError.status).type('application/problem+json').serializer(JSON.stringify).send(body);
}
