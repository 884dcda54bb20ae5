import type { FastifyRequest } from 'fastify';
import type { App } from '../../core/app.js';
import { requestContext, type RequestContext } from '../../core/request-context.js';
import type { Db } from '../../db/database.js';
import type { InvoiceService } from '../../modules/invoices/service.js';
import { installDialectErrors, replayInvoiceAnswer } from '../common.js';
import { AppError } from '../../shared/errors.js';
import type { Invoice } from '../../modules/invoices/domain/model.js';
import { assertValidWrite, createDialectAuthenticator } from '../dialect-kit.js';
import type { FieldPaths } from '../field-paths.js';
import { CrmInvoiceCreateRequest, CrmInvoiceUpdateRequest, CrmResponse, CrmShowQuery } from './schemas.js';
import {
  crmSuccess,
  invoiceIdentifierFromQuery,
  invoiceIdentifierOf,
  parseFieldsSet,
  toCreateCommand,
  toCrmError,
  toCrmInvoice,
  toWriteCommand,
  type InvoiceLookup,
} from './translate.js';

/**
 * CRM.COM, mounted at /compat/crm (docs/dialects/crm.md):
 *   POST invoices/update   token + invoice_identifier + changes; DRAFT invoices only
 *   POST invoices/create   token + the same fields (items added); a new DRAFT
 *   GET  invoices/show     ?token=…&invoice_identifier=number=…&fields_set=…
 * Answers CRM.COM's envelope { status: { code, message, description }, data }; refusals keep their 4xx status.
 */
const tags = ['dialect: CRM.COM'];

const pathsOf = new WeakMap<FastifyRequest, FieldPaths>();

export interface CrmDeps {
  invoices: InvoiceService;
  db: Db;
}

export async function crmRoutes(app: App, { invoices, db }: CrmDeps) {
  const authenticateKey = createDialectAuthenticator(db);

  installDialectErrors(app, (problem, request) => toCrmError(problem, pathsOf.get(request)));

  /** By id, number or reference, within the caller's tenant (unknown → 404; a shared number/reference → 409). */
  function findInvoice(ctx: RequestContext, lookup: InvoiceLookup): Promise<Invoice> {
    return invoices.resolve(ctx, lookup.key);
  }

  // The token travels in the body, so the caller is known once the body is read (before validation).
  const authenticateBodyToken = async (request: FastifyRequest) => {
    const token = (request.body as { token?: unknown } | null)?.token;
    await authenticateKey(request, typeof token === 'string' ? token : undefined, 'invoices:write');
  };

  // Every write answers the invoice narrowed by the request's fields_set.
  const replayCommitted = replayInvoiceAnswer((invoice, request, reply) => reply.send(crmSuccess(toCrmInvoice(invoice, parseFieldsSet((request.body as { fields_set?: string | null }).fields_set)))));

  app.post('/invoices/create', {
    preValidation: authenticateBodyToken,
    config: { replayCommitted },
    schema: { operationId: 'crmCreateInvoice', 
      tags,
      summary: 'CRM.COM: create a DRAFT invoice (items added; intended_currency_identifier sets its currency)',
      body: CrmInvoiceCreateRequest,
      response: { 200: CrmResponse, '4xx': CrmResponse },
    },
  }, async (request, reply) => {
    const fields = parseFieldsSet(request.body.fields_set);
    const { write, paths } = toCreateCommand(request.body);
    pathsOf.set(request, paths);
    const result = await invoices.create(requestContext(request), assertValidWrite(write));
    return reply.send(crmSuccess(toCrmInvoice(result.invoice, fields)));
  });

  app.post('/invoices/update', {
    preValidation: authenticateBodyToken,
    config: { replayCommitted },
    schema: { operationId: 'crmUpdateInvoice', 
      tags,
      summary: 'CRM.COM: update a DRAFT invoice (identified by id, number or reference_number); items added, updated and removed in one set',
      body: CrmInvoiceUpdateRequest,
      response: { 200: CrmResponse, '4xx': CrmResponse },
    },
  }, async (request, reply) => {
    const ctx = requestContext(request);
    const lookup = invoiceIdentifierOf(request.body.invoice_identifier);
    const fields = parseFieldsSet(request.body.fields_set);
    for (let attempt = 1; ; attempt++) {
      const current = await findInvoice(ctx, lookup);
      const { write, paths } = toWriteCommand(request.body, current);
      pathsOf.set(request, paths);
      try {
        // DRAFT only, whatever the tenant's policy (checked inside the write's transaction); If-Match on the
        // version read keeps what the translation read (item quantities, currency) true at the write, or it is retried.
        const result = await invoices.update(ctx, current.id, assertValidWrite(write), 'patch', { ifMatch: [current.version], requireStatus: ['draft'] });
        return reply.send(crmSuccess(toCrmInvoice(result.invoice, fields)));
      } catch (error) {
        const raced = error instanceof AppError && error.problemType === 'precondition-failed';
        if (!raced || attempt >= 3) throw error;
      }
    }
  });

  app.get('/invoices/show', {
    onRequest: async (request) => {
      const token = (request.query as { token?: unknown } | null)?.token;
      await authenticateKey(request, typeof token === 'string' ? token : undefined, 'invoices:read');
    },
    schema: { operationId: 'crmShowInvoice', tags, summary: 'CRM.COM: show one invoice (?invoice_identifier=number=…)', querystring: CrmShowQuery, response: { 200: CrmResponse, '4xx': CrmResponse } },
  }, async (request, reply) => {
    const fields = parseFieldsSet(request.query.fields_set, '/query/fields_set');
    const invoice = await findInvoice(requestContext(request), invoiceIdentifierFromQuery(request.query.invoice_identifier));
    return reply.send(crmSuccess(toCrmInvoice(invoice, fields)));
  });
}
