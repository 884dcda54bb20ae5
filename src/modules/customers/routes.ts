import type { FastifyReply } from 'fastify';
import type { App } from '../../core/app.js';
import { etagFor, parseIfMatch, requestContext, type RequestContext } from '../../core/request-context.js';
import { IfMatchHeaders } from '../../core/schema-helpers.js';
import { AppError } from '../../shared/errors.js';
import { CustomerCreateSchema, CustomerIdParams, CustomerListQuery, CustomerPatchSchema, CustomerSchema } from './schemas.js';
import type { CustomerService } from './service.js';

const tags = ['customers'];

export async function customerRoutes(app: App, { customers }: { customers: CustomerService }) {

  app.post('/customers', {
    config: { scope: 'invoices:write' },
    schema: { tags, summary: 'Create a customer', body: CustomerCreateSchema, headers: IfMatchHeaders, response: { 201: CustomerSchema } },
  }, async (request, reply) => {
    const customer = await customers.create(requestContext(request), request.body);
    reply.header('etag', etagFor(customer.version)).header('location', `/v1/customers/${customer.id}`);
    return reply.status(201).send(customer);
  });

  app.get('/customers', {
    config: { scope: 'invoices:read' },
    schema: { tags, summary: 'List customers, newest first', querystring: CustomerListQuery },
  }, async (request) => customers.list(requestContext(request), request.query));

  app.get('/customers/:id', {
    config: { scope: 'invoices:read' },
    schema: { tags, summary: 'Get a customer', params: CustomerIdParams, response: { 200: CustomerSchema } },
  }, async (request, reply) => {
    const customer = await customers.get(requestContext(request), request.params.id);
    reply.header('etag', etagFor(customer.version));
    return customer;
  });

  app.patch('/customers/:id', {
    config: { scope: 'invoices:write' },
    schema: {
      tags,
      summary: 'Update a customer (issued invoices keep their bill-to snapshot)',
      params: CustomerIdParams,
      headers: IfMatchHeaders,
      body: CustomerPatchSchema,
      response: { 200: CustomerSchema },
    },
  }, async (request, reply) => {
    const customer = await customers.update(requestContext(request), request.params.id, request.body, {
      ifMatch: parseIfMatch(request.headers['if-match']),
    });
    reply.header('etag', etagFor(customer.version));
    return customer;
  });
}

/**
 * Answers a replayed Idempotency-Key whose customer change committed but whose response was never
 * stored. Customers keep no history: the committed version can be answered only while it is the current one.
 */
export function customerReplayRenderer(customers: CustomerService) {
  return async (ctx: RequestContext, id: string, version: number, reply: FastifyReply) => {
    const customer = await customers.get(ctx, id);
    if (customer.version !== version) throw new AppError('conflict', 'This Idempotency-Key already made its change; read the resource to see it.');
    reply.header('etag', etagFor(customer.version));
    return reply.status(200).send(customer);
  };
}
