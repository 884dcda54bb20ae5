import { Type } from '@sinclair/typebox';
import type { App } from '../../core/app.js';
import { requestContext } from '../../core/request-context.js';
import type { ConnectionService } from './service.js';
import { IdString, Timestamp } from '../../core/schema-helpers.js';

const tags = ['connections'];

const ConnectionSchema = Type.Object({ id: Type.String(), object: Type.Literal('connection'), name: Type.String(), created_at: Timestamp });

export async function connectionRoutes(app: App, { connections }: { connections: ConnectionService }) {

  app.post('/connections', {
    config: { scope: 'admin' },
    schema: { operationId: 'createConnection', 
      tags,
      summary: 'Create a connection: the id dialect clients send as credentialId (unified API) or MISKEY (Midnight)',
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
      response: { 201: ConnectionSchema },
    },
  }, async (request, reply) => {
    const created = await connections.create(requestContext(request).auth.tenantId, request.body.name);
    reply.header('location', `/v1/connections/${created.id}`);
    return reply.status(201).send(created);
  });

  app.get('/connections', {
    config: { scope: 'admin' },
    schema: { operationId: 'listConnections', tags, summary: "List the tenant's connections", response: { 200: Type.Object({ object: Type.Literal('list'), data: Type.Array(ConnectionSchema) }) } },
  }, async (request) => ({ object: 'list' as const, data: await connections.list(requestContext(request)) }));

  app.delete('/connections/:id', {
    config: { scope: 'admin' },
    schema: { operationId: 'deleteConnection', tags, summary: 'Delete a connection (clients sending its id get 404 from then on)', params: Type.Object({ id: IdString }), response: { 204: Type.Null({ description: 'Deleted.' }) } },
  }, async (request, reply) => {
    await connections.delete(requestContext(request), request.params.id);
    return reply.status(204).send(null);
  });
}
