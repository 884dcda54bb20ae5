import { Type } from '@sinclair/typebox';
import type { App } from '../../core/app.js';
import { requestContext } from '../../core/request-context.js';
import { IdString, ListQuery, Nullable } from '../../core/schema-helpers.js';
import type { WebhookService } from './service.js';

const tags = ['webhooks'];

const EndpointSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('webhook_endpoint'),
  url: Type.String(),
  description: Nullable(Type.String()),
  events: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  created_at: Type.String(),
  updated_at: Type.String(),
  secret: Type.Optional(Type.String({ description: 'Only in the creation response: the signing secret (whsec_…). Store it; it is not shown again.' })),
});

const EventPatterns = Type.Array(Type.String({ maxLength: 100 }), {
  maxItems: 50,
  description: 'Event types to receive: exact ("invoice.paid"), a prefix wildcard ("invoice.*") or "*" (default).',
});

const EndpointCreate = Type.Object({
  url: Type.String({ maxLength: 2000, description: 'http(s) URL; private/loopback addresses are refused unless the operator allows them.' }),
  events: Type.Optional(EventPatterns),
  description: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
  enabled: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

const EndpointUpdate = Type.Partial(EndpointCreate, { additionalProperties: false });
const EndpointParams = Type.Object({ id: IdString });

const DeliveryQuery = Type.Object({
  ...ListQuery,
  status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')])),
});

export async function webhookRoutes(app: App, { webhooks }: { webhooks: WebhookService }) {

  app.post('/webhook-endpoints', {
    config: { scope: 'admin' },
    schema: { tags, summary: 'Register a webhook endpoint; the response holds its signing secret (shown once)', body: EndpointCreate, response: { 201: EndpointSchema } },
  }, async (request, reply) => {
    const endpoint = await webhooks.create(requestContext(request), request.body);
    reply.header('location', `/v1/webhook-endpoints/${endpoint.id}`);
    return reply.status(201).send(endpoint);
  });

  app.get('/webhook-endpoints', {
    config: { scope: 'admin' },
    schema: { tags, summary: 'List webhook endpoints' },
  }, async (request) => webhooks.list(requestContext(request)));

  app.get('/webhook-endpoints/:id', {
    config: { scope: 'admin' },
    schema: { tags, summary: 'Get a webhook endpoint', params: EndpointParams, response: { 200: EndpointSchema } },
  }, async (request) => webhooks.get(requestContext(request), request.params.id));

  app.patch('/webhook-endpoints/:id', {
    config: { scope: 'admin' },
    schema: { tags, summary: 'Change the URL, event filter, description or enabled flag', params: EndpointParams, body: EndpointUpdate, response: { 200: EndpointSchema } },
  }, async (request) => webhooks.update(requestContext(request), request.params.id, request.body));

  app.delete('/webhook-endpoints/:id', {
    config: { scope: 'admin' },
    schema: { tags, summary: 'Remove a webhook endpoint, its queue and its delivery log', params: EndpointParams },
  }, async (request, reply) => {
    await webhooks.remove(requestContext(request), request.params.id);
    return reply.status(204).send();
  });

  app.get('/webhook-endpoints/:id/deliveries', {
    config: { scope: 'admin' },
    schema: { tags, summary: 'The delivery log of an endpoint, newest first, with every attempt', params: EndpointParams, querystring: DeliveryQuery },
  }, async (request) => webhooks.deliveries(requestContext(request), request.params.id, request.query));
}
