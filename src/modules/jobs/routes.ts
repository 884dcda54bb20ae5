import type { App } from '../../core/app.js';
import { requestContext } from '../../core/request-context.js';
import { AppError } from '../../shared/errors.js';
import type { JobChange } from './domain/change.js';
import { CreateJobSchema, JobIdParams, JobItemsQuery, JobItemsPageSchema, JobSchema } from './schemas.js';
import type { JobService } from './service.js';

const tags = ['invoice jobs'];

export async function jobRoutes(app: App, { jobs }: { jobs: JobService }) {
  app.post('/invoice-jobs', {
    config: { scope: 'invoices:write' },
    schema: { operationId: 'createInvoiceJob', tags, summary: 'Change many invoices at once: a filter or a list, one change, a reason (dry_run previews)', body: CreateJobSchema, response: { 202: JobSchema } },
  }, async (request, reply) => {
    const body = request.body;
    const targets = [body.filter, body.invoice_ids, body.references].filter((target) => target !== undefined).length;
    if (targets !== 1) {
      throw new AppError('validation-error', 'Name the invoices with exactly one of filter, invoice_ids or references.', {
        errors: [{ pointer: '/filter', detail: targets === 0 ? 'missing' : 'give only one of filter, invoice_ids, references' }],
      });
    }
    const job = await jobs.create(requestContext(request), { ...body, change: body.change as JobChange });
    reply.header('location', `/v1/invoice-jobs/${job.id}`);
    return reply.status(202).send(job);
  });

  app.get('/invoice-jobs/:id', {
    config: { scope: 'invoices:read' },
    schema: { operationId: 'getInvoiceJob', tags, summary: 'A job: state, counts, progress (percent, rate, ETA), amount difference, refusals by rule', params: JobIdParams, response: { 200: JobSchema } },
  }, async (request) => jobs.get(requestContext(request), request.params.id));

  app.get('/invoice-jobs/:id/items', {
    config: { scope: 'invoices:read' },
    schema: { operationId: 'listInvoiceJobItems', tags, summary: 'Per-invoice results of a job, paged in invoice id order; ?outcome=refused', params: JobIdParams, querystring: JobItemsQuery, response: { 200: JobItemsPageSchema } },
  }, async (request) => jobs.items(requestContext(request), request.params.id, { outcome: request.query.outcome, after: request.query.cursor, limit: request.query.limit ?? 100 }));

  app.post('/invoice-jobs/:id/cancel', {
    config: { scope: 'invoices:write' },
    schema: { operationId: 'cancelInvoiceJob', tags, summary: 'Cancel a running job: invoices not yet processed are left as they are', params: JobIdParams, response: { 200: JobSchema } },
  }, async (request) => jobs.cancel(requestContext(request), request.params.id));
}
