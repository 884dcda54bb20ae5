import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { App } from '../../core/app.js';
import { bearerCredential, type Credential } from '../../core/request-context.js';
import type { Db } from '../../db/database.js';
import type { InvoiceService } from '../../modules/invoices/service.js';
import { AppError } from '../../shared/errors.js';
import { issueAccessToken } from '../../modules/tenants/access-tokens.js';
import { createAuthenticator } from '../../modules/tenants/service.js';
import { changeReason, dialectContext, installDialectErrors, replayInvoiceAnswer } from '../common.js';
import { ProcountorBase, ProcountorInvoice, ProcountorInvoiceParams, ProcountorInvoiceWrite, ProcountorTokenRequest, ProcountorTokenResponse } from './schemas.js';
import { invoiceToProcountor, oauthError, procountorError, procountorToWrite, procountorVersion } from './translate.js';

const tags = ['dialect: Procountor'];

/** `Authorization: Bearer <token from oauth/token>`; a Folio API key works there too. */
function procountorCredential(request: FastifyRequest): Credential | null {
  const credential = bearerCredential(request);
  if (!credential || !('apiKey' in credential)) return credential;
  return credential.apiKey.startsWith('folio_at_') ? { accessToken: credential.apiKey } : credential;
}

/**
 * Procountor under /compat/procountor/{latest|supported|vNNNN}/api: clients first POST
 * oauth/token (form body, `api_key` = a Folio API key), then send the token as a bearer.
 * Invoice ids are the invoice's integer serial.
 */
export async function procountorRoutes(app: App, { invoices, db }: { invoices: InvoiceService; db: Db }) {
  const authenticate = createAuthenticator(db);
  installDialectErrors(app, procountorError);
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16_384 }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  const tokenRoute = {
    schema: { operationId: 'procountorIssueToken', tags, summary: 'Procountor: exchange client credentials and a Folio API key for an access token', params: Type.Object(ProcountorBase), body: ProcountorTokenRequest, response: { 200: ProcountorTokenResponse } },
  };
  const issueToken = async (request: FastifyRequest<{ Body: { grant_type?: string; api_key?: string } }>, reply: FastifyReply) => {
    const answer = (status: number, error: string, description: string) => {
      const body = oauthError(status, error, description);
      return reply.status(body.status).send(body.body);
    };
    // RFC 6749 §5.2 answers, also for a missing parameter (not the invoice routes' error shape).
    if (request.body.grant_type === undefined || request.body.api_key === undefined) {
      return answer(400, 'invalid_request', 'Send grant_type=client_credentials and api_key (a Folio API key).');
    }
    if (request.body.grant_type !== 'client_credentials') return answer(400, 'unsupported_grant_type', 'Use grant_type=client_credentials.');
    const auth = await authenticate(request.body.api_key);
    if (!auth) return answer(401, 'invalid_client', 'api_key is not a valid Folio API key.');
    const issued = await issueAccessToken(db, auth);
    reply.header('cache-control', 'no-store');
    return { access_token: issued.token, token_type: 'bearer', expires_in: issued.expiresInSeconds };
  };
  app.post('/:apiVersion/api/oauth/token', tokenRoute, issueToken);
  app.post('/:apiVersion/api/oauth/token/', { ...tokenRoute, schema: { ...tokenRoute.schema, operationId: 'procountorIssueTokenSlash', hide: true } }, issueToken);

  const config = (scope: 'invoices:read' | 'invoices:write') => ({ scope, credential: procountorCredential });
  const writeConfig = { ...config('invoices:write'), replayCommitted: replayInvoiceAnswer((invoice, _request, reply) => reply.send(invoiceToProcountor(invoice))) };

  app.get('/:apiVersion/api/invoices/:invoiceId', {
    config: config('invoices:read'),
    schema: { operationId: 'procountorGetInvoice', tags, summary: 'Procountor: get an invoice by its integer id', params: ProcountorInvoiceParams, response: { 200: ProcountorInvoice } },
  }, async (request) => invoiceToProcountor(await invoices.resolve(dialectContext(request), { serial: Number(request.params.invoiceId) })));

  app.post('/:apiVersion/api/invoices', {
    config: writeConfig,
    schema: { operationId: 'procountorCreateInvoice', tags, summary: 'Procountor: create an invoice (UNFINISHED)', params: Type.Object(ProcountorBase), body: ProcountorInvoiceWrite, response: { 200: ProcountorInvoice } },
  }, async (request) => {
    const command = procountorToWrite(request.body, null);
    const result = await invoices.create(dialectContext(request), command.body, { clientTotals: command.options.clientTotals, reason: changeReason(request) });
    return invoiceToProcountor(result.invoice);
  });

  app.put('/:apiVersion/api/invoices/:invoiceId', {
    config: writeConfig,
    schema: { operationId: 'procountorUpdateInvoice', 
      tags,
      summary: 'Procountor: update an unfinished invoice (notes in any state); `version` from GET must match; status never changes',
      params: ProcountorInvoiceParams,
      body: ProcountorInvoiceWrite,
      response: { 200: ProcountorInvoice },
    },
  }, async (request) => {
    const ctx = dialectContext(request);
    const current = await invoices.resolve(ctx, { serial: Number(request.params.invoiceId) });
    if (request.body.version === undefined) {
      throw new AppError('validation-error', 'version is required: send the version from the invoice you read.', { errors: [{ pointer: '/version', detail: 'required' }] });
    }
    if (request.body.version !== procountorVersion(current)) {
      throw new AppError('precondition-failed', `version "${request.body.version}" is not the invoice's current version "${procountorVersion(current)}"; read it again. Nothing was changed.`);
    }
    const command = procountorToWrite(request.body, current);
    // The version read above pins the write: a change committed in between is a 409, nothing written.
    const result = await invoices.update(ctx, current.id, command.body, 'patch', { ...command.options, ifMatch: [current.version], reason: changeReason(request) });
    return invoiceToProcountor(result.invoice);
  });
}
