import { markIdempotentChange } from '../idempotency/service.js';
import { changesOf, recordAdminEvent } from '../tenants/admin-events.js';
import { randomBytes } from 'node:crypto';
import type { Db } from '../../db/database.js';
import type { WebhookEndpointsTable } from '../../db/schema.js';
import type { RequestContext } from '../../core/request-context.js';
import { decodeCursor, toPage } from '../../core/paging.js';
import { AppError, notFound, validationError } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import { systemClock, type Clock } from '../../shared/time.js';
import { eventPatternRegex, maxEventPatterns } from './domain.js';
import { resolveTarget, TargetRefused } from './sender.js';
import { webhookStore } from './store.js';

export interface EndpointInput {
  url?: string;
  events?: string[];
  description?: string | null;
  enabled?: boolean;
}

export const presentEndpoint = (row: WebhookEndpointsTable) => ({
  id: row.id,
  object: 'webhook_endpoint' as const,
  url: row.url,
  description: row.description,
  events: JSON.parse(row.event_types) as string[],
  enabled: row.enabled === 1,
  created_at: row.created_at,
  updated_at: row.updated_at,
});

/** What an endpoint write changes, for the administration trail (never the secret). */
function endpointChanges(before: Partial<ReturnType<typeof presentEndpoint>>, fields: Partial<WebhookEndpointsTable>) {
  return changesOf(before, {
    url: fields.url,
    events: fields.event_types === undefined ? undefined : JSON.parse(fields.event_types),
    description: fields.description,
    enabled: fields.enabled === undefined ? undefined : fields.enabled === 1,
  });
}

/** `whsec_` + base64 of 32 random bytes, the format the standardwebhooks libraries read. */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

export function createWebhookService(deps: { db: Db; allowPrivateTargets: boolean; clock?: Clock }) {
  const { db } = deps;
  const clock = deps.clock ?? systemClock;

  async function checkUrl(raw: string): Promise<string> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw validationError([{ pointer: '/url', detail: 'not an absolute URL' }]);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw validationError([{ pointer: '/url', detail: 'must be http or https' }]);
    if (url.username || url.password) throw validationError([{ pointer: '/url', detail: 'may not carry credentials' }]);
    try {
      await resolveTarget(url, deps.allowPrivateTargets);
    } catch (error) {
      const detail = error instanceof TargetRefused ? error.message : 'the host does not resolve';
      throw new AppError('webhook-target-refused', `Webhook endpoint refused: ${detail}.`, { errors: [{ pointer: '/url', detail }] });
    }
    return url.toString();
  }

  function checkEvents(events: string[]): string[] {
    const unique = [...new Set(events)];
    if (unique.length === 0 || unique.length > maxEventPatterns) throw validationError([{ pointer: '/events', detail: `between 1 and ${maxEventPatterns} patterns` }]);
    unique.forEach((pattern, index) => {
      if (!eventPatternRegex.test(pattern)) throw validationError([{ pointer: `/events/${index}`, detail: 'an event type, "prefix.*" or "*"' }]);
    });
    return unique;
  }

  async function load(ctx: RequestContext, id: string) {
    const row = await webhookStore.findEndpoint(db, ctx.auth.tenantId, id);
    if (!row) throw notFound('webhook endpoint', id);
    return row;
  }

  return {
    async create(ctx: RequestContext, input: Required<Pick<EndpointInput, 'url'>> & EndpointInput) {
      const now = clock.nowIso();
      const row: WebhookEndpointsTable = {
        tenant_id: ctx.auth.tenantId,
        id: newId('whe'),
        url: await checkUrl(input.url),
        description: input.description ?? null,
        event_types: JSON.stringify(checkEvents(input.events ?? ['*'])),
        secret: newWebhookSecret(),
        enabled: input.enabled === false ? 0 : 1,
        created_at: now,
        updated_at: now,
      };
      await db.transaction().execute(async (tx) => {
        await webhookStore.insertEndpoint(tx, row);
        await recordAdminEvent(tx, ctx, { action: 'webhook_endpoint.create', subjectId: row.id, changes: endpointChanges({}, row), at: clock.nowIso() });
        // Ties the change to the request's Idempotency-Key in the same transaction (see idempotency/).
        await markIdempotentChange(tx, ctx, `webhook_endpoint/${row.id}/created`);
      });
      return { ...presentEndpoint(row), secret: row.secret };
    },

    async list(ctx: RequestContext) {
      const rows = await webhookStore.listEndpoints(db, ctx.auth.tenantId, 100);
      return { object: 'list' as const, data: rows.map(presentEndpoint), has_more: false, next_cursor: null };
    },

    get: async (ctx: RequestContext, id: string) => presentEndpoint(await load(ctx, id)),

    async update(ctx: RequestContext, id: string, input: EndpointInput) {
      const before = presentEndpoint(await load(ctx, id));
      const fields: Parameters<typeof webhookStore.updateEndpoint>[3] = { updated_at: clock.nowIso() };
      if (input.url !== undefined) fields.url = await checkUrl(input.url);
      if (input.events !== undefined) fields.event_types = JSON.stringify(checkEvents(input.events));
      if (input.description !== undefined) fields.description = input.description;
      if (input.enabled !== undefined) fields.enabled = input.enabled ? 1 : 0;
      await db.transaction().execute(async (tx) => {
        await webhookStore.updateEndpoint(tx, ctx.auth.tenantId, id, fields);
        const changes = endpointChanges(before, fields);
        if (changes.length > 0) await recordAdminEvent(tx, ctx, { action: 'webhook_endpoint.update', subjectId: id, changes, at: clock.nowIso() });
        await markIdempotentChange(tx, ctx, `webhook_endpoint/${id}/${fields.updated_at}`);
      });
      return presentEndpoint(await load(ctx, id));
    },

    async remove(ctx: RequestContext, id: string) {
      const removed = await load(ctx, id);
      await db.transaction().execute(async (tx) => {
        await webhookStore.deleteEndpoint(tx, ctx.auth.tenantId, id);
        await recordAdminEvent(tx, ctx, { action: 'webhook_endpoint.remove', subjectId: id, changes: [{ path: '/url', from: removed.url, to: null }], at: clock.nowIso() });
        await markIdempotentChange(tx, ctx, `webhook_endpoint/${id}/deleted`);
      });
    },

    async deliveries(ctx: RequestContext, id: string, query: { cursor?: string; status?: string; limit?: number }) {
      await load(ctx, id);
      const limit = query.limit ?? 20;
      const rows = await webhookStore.listDeliveries(db, ctx.auth.tenantId, id, { beforeId: decodeCursor(query.cursor), status: query.status, limit: limit + 1 });
      const attempts = await webhookStore.listAttempts(db, ctx.auth.tenantId, rows.slice(0, limit).map((row) => row.id));
      const page = toPage(rows.map((row) => ({
        id: row.id,
        object: 'webhook_delivery' as const,
        endpoint_id: row.endpoint_id,
        event_id: row.event_id,
        event_type: row.event_type,
        status: row.status,
        attempts: row.attempts,
        next_attempt_at: row.status === 'pending' ? row.next_attempt_at : null,
        last_status_code: row.last_status_code,
        last_error: row.last_error,
        created_at: row.created_at,
        delivered_at: row.delivered_at,
        attempt_log: attempts
          .filter((attempt) => attempt.delivery_id === row.id)
          .map((attempt) => ({ attempt: attempt.attempt, status_code: attempt.status_code, error: attempt.error, duration_ms: attempt.duration_ms, at: attempt.created_at })),
      })), limit);
      return page;
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
