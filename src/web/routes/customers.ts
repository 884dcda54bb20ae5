import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../core/app.js';
import type { Customer } from '../../modules/customers/store.js';
import { CustomerCreateSchema, CustomerPatchSchema } from '../../modules/customers/schemas.js';
import { AppError } from '../../shared/errors.js';
import { contextOf, renderPage, type WebDeps } from '../context.js';
import { checkedInput } from '../validate.js';

type Body = Record<string, string | undefined>;
const addressFields = ['line1', 'line2', 'city', 'region', 'postal_code', 'country'] as const;

/** The customer form as the API's customer write: empty fields are cleared (null). */
function customerWrite(body: Body) {
  const text = (name: string) => (typeof body[name] === 'string' && body[name]!.trim() !== '' ? body[name]!.trim() : null);
  const address = Object.fromEntries(addressFields.map((field) => [field, field === 'country' ? text(field)?.toUpperCase() ?? null : text(field)]));
  return {
    name: text('name') ?? '',
    email: text('email'),
    phone: text('phone'),
    tax_id: text('tax_id'),
    language: text('language'),
    address: Object.values(address).some((value) => value !== null) ? address : null,
  };
}

export async function customerPages(app: App, { services }: WebDeps) {
  const read = { config: { webScope: 'invoices:read' as const } };
  const write = { config: { webScope: 'invoices:write' as const } };

  const showForm = (request: FastifyRequest, reply: FastifyReply, customer: Partial<Customer> | null, values: Record<string, unknown>, error?: string, notice?: string) =>
    renderPage(request, reply, 'customer-form', { title: customer?.id ? `Customer ${customer.name}` : 'New customer', customer, values, addressFields, error, notice }, error ? 422 : 200);

  const valuesOf = (customer: Customer) => ({ ...customer, ...Object.fromEntries(addressFields.map((field) => [field, customer.address?.[field] ?? ''])) });

  app.get('/customers', read, async (request, reply) => {
    const cursor = (request.query as { cursor?: string }).cursor;
    const page = await services.customers.list(contextOf(request), { limit: 50, cursor: cursor && cursor.length <= 200 ? cursor : undefined });
    return renderPage(request, reply, 'customers', { title: 'Customers', customers: page.data, nextUrl: page.next_cursor ? `/customers?cursor=${encodeURIComponent(page.next_cursor)}` : null });
  });

  app.get('/customers/new', write, async (request, reply) => showForm(request, reply, null, {}));

  app.post('/customers/new', write, async (request, reply) => {
    const body = request.body as Body;
    try {
      const customer = await services.customers.create(contextOf(request), checkedInput(CustomerCreateSchema, customerWrite(body)));
      return reply.redirect(`/customers/${customer.id}?notice=saved`, 303);
    } catch (error) {
      if (!(error instanceof AppError) || error.status !== 400) throw error;
      return showForm(request, reply, null, body, error.message);
    }
  });

  app.get('/customers/:id', read, async (request, reply) => {
    const customer = await services.customers.get(contextOf(request), (request.params as { id: string }).id);
    const saved = (request.query as { notice?: string }).notice === 'saved';
    return showForm(request, reply, customer, valuesOf(customer), undefined, saved ? 'Customer saved.' : undefined);
  });

  app.post('/customers/:id', write, async (request, reply) => {
    const ctx = contextOf(request);
    const body = request.body as Body;
    const current = await services.customers.get(ctx, (request.params as { id: string }).id);
    const version = Number(body.version);
    try {
      await services.customers.update(ctx, current.id, checkedInput(CustomerPatchSchema, customerWrite(body)), { ifMatch: Number.isInteger(version) ? [version] : undefined });
      return reply.redirect(`/customers/${current.id}?notice=saved`, 303);
    } catch (error) {
      if (!(error instanceof AppError) || (error.status !== 400 && error.status !== 412)) throw error;
      const message = error.status === 412 ? 'Someone else changed this customer since you opened it; the form now shows their version. Re-enter your change.' : error.message;
      return showForm(request, reply, current, error.status === 412 ? valuesOf(current) : body, message);
    }
  });
}
