import { requestContext, type App, type AppDeps } from '../../http/app.js';
import { etagFor, parseIfMatch } from '../../http/request-context.js';
import { IfMatchHeaders } from '../../http/schema-helpers.js';
import { CustomerCreateSchema, CustomerIdParams, CustomerListQuery, CustomerPatchSchema, CustomerSchema } from './schemas.js';

const tags = ['customers'];

export async function customerRoutes(app: App, { services }: AppDeps) {
  const customers = services.customers;

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

