import type { FastifyRequest } from 'fastify';
import type { App } from '../core/app.js';
import { AppError } from '../shared/errors.js';
import { xmlMediaTypes } from './xml.js';

/**
 * What a route accepts as a request body, read from the body parsers really installed in its
 * scope (not a hand-kept list): every media type a parser is registered for anywhere is recorded,
 * and a route accepts those its own scope still has a parser for (`hasContentTypeParser`),
 * XML only where the route opted in to the XML representation (the XML parser refuses elsewhere).
 */
const registeredMediaTypes = new Set<string>();

/** Records the media types of every parser added from now on, in this instance and every scope below it. */
export function recordContentTypeParsers(app: App): void {
  const add = app.addContentTypeParser;
  // Scopes are created from this instance (Object.create), so they inherit the recording method.
  app.addContentTypeParser = function recordingAddContentTypeParser(this: App, contentType: string | string[] | RegExp, ...rest: unknown[]) {
    for (const type of typeof contentType === 'string' ? [contentType] : Array.isArray(contentType) ? contentType : []) registeredMediaTypes.add(type.toLowerCase());
    return (add as (...args: unknown[]) => App).call(this, contentType, ...rest);
  } as App['addContentTypeParser'];
}

/** The media types the request's route takes as a body, in registration order. */
export function acceptedMediaTypes(request: FastifyRequest): string[] {
  const scope = request.server;
  const takesXml = request.routeOptions.config?.representation !== undefined;
  return [...registeredMediaTypes].filter((type) => scope.hasContentTypeParser(type) && (takesXml || !xmlMediaTypes.includes(type)));
}

const mediaTypeOf = (contentType: string | undefined) => contentType?.split(';')[0].trim().toLowerCase() || undefined;

/**
 * A 415 about the request's Content-Type, made to say what the route accepts: in `detail`, in
 * `accepted_media_types`, and in `Accept` (RFC 9110 §12.5.1) plus `Accept-Post` / `Accept-Patch`
 * (RFC 5789 §3.1) for POST and PATCH. A 415 about something else (an upload's sniffed file type,
 * sent with an accepted Content-Type) is returned unchanged.
 */
export function withAcceptedMediaTypes(request: FastifyRequest, problem: AppError): AppError {
  if (problem.problemType !== 'unsupported-media-type') return problem;
  const accepted = acceptedMediaTypes(request);
  const sent = mediaTypeOf(request.headers['content-type']);
  if (accepted.length === 0 || (sent !== undefined && accepted.includes(sent))) return problem;
  const list = accepted.join(', ');
  const headers: Record<string, string> = { ...problem.headers, accept: list };
  if (request.method === 'POST') headers['accept-post'] = list;
  if (request.method === 'PATCH') headers['accept-patch'] = list;
  const what = sent === undefined ? 'A body without a Content-Type' : `Content-Type ${sent}`;
  return new AppError('unsupported-media-type', `${what} is not accepted here; send one of: ${list}.`, {
    errors: problem.errors,
    extensions: { ...problem.extensions, accepted_media_types: accepted },
    headers,
  });
}
