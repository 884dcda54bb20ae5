import { Type } from '@sinclair/typebox';
import type { App } from '../../core/app.js';
import { requestContext } from '../../core/request-context.js';
import type { Db } from '../../db/database.js';
import { decodeFeedCursor, encodeFeedCursor, feedPositionOf, readFeed, type FeedRow } from './feed.js';

export const EventSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('event'),
  type: Type.String({ examples: ['invoice.updated'] }),
  resource_type: Type.String(),
  resource_id: Type.String(),
  resource_version: Type.Union([Type.Integer(), Type.Null()]),
  data: Type.Unknown({ description: 'For invoice events: invoice_id, version and the diff (`changes`).' }),
  created_at: Type.String(),
  cursor: Type.String({ description: 'Pass as ?after= to continue after this event.' }),
});

export function presentEvent(row: FeedRow) {
  return {
    id: row.id,
    object: 'event' as const,
    type: row.type,
    resource_type: row.resource_type,
    resource_id: row.resource_id,
    resource_version: row.resource_version,
    data: JSON.parse(row.data) as unknown,
    created_at: row.created_at,
    cursor: encodeFeedCursor(feedPositionOf(row)),
  };
}

const FeedQuery = Type.Object({
  after: Type.Optional(Type.String({ maxLength: 100, description: 'A cursor from a previous page or event; absent = from the start.' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
});

export async function eventRoutes(app: App, { db }: { db: Db }) {
  app.get('/events', {
    config: { scope: 'invoices:read' },
    schema: {
      tags: ['events'],
      operationId: 'listEvents', summary: 'The ordered feed of this tenant\'s events (transactional outbox); poll with ?after=next_cursor',
      querystring: FeedQuery,
      response: {
        200: Type.Object({
          object: Type.Literal('list'),
          data: Type.Array(EventSchema),
          has_more: Type.Boolean(),
          next_cursor: Type.String({ description: 'Always set: where to continue (the same cursor when nothing new).' }),
        }),
      },
    },
  }, async (request) => {
    const ctx = requestContext(request);
    const limit = request.query.limit ?? 100;
    const after = decodeFeedCursor(request.query.after);
    const rows = await readFeed(db, ctx.auth.tenantId, after, limit + 1);
    const page = rows.slice(0, limit).map(presentEvent);
    return {
      object: 'list' as const,
      data: page,
      has_more: rows.length > limit,
      next_cursor: page.length > 0 ? page[page.length - 1].cursor : encodeFeedCursor(after),
    };
  });
}
