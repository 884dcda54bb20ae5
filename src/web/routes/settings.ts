import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../core/app.js';
import { editPolicies, type EditPolicy } from '../../modules/invoices/domain/lifecycle.js';
import { allScopes } from '../../core/auth.js';
import { AppError } from '../../shared/errors.js';
import { actorNamer, contextOf, renderPage, type WebDeps } from '../context.js';
import { adminEventInWords } from '../history-words.js';

type Body = Record<string, string | string[] | undefined>;
const list = (value: string | string[] | undefined) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** Settings (admin role): the edit policy, API keys and webhook endpoints. */
export async function settingsPages(app: App, { web }: WebDeps) {
  const admin = { config: { webScope: 'admin' as const } };

  async function show(request: FastifyRequest, reply: FastifyReply, extra: { error?: string; notice?: string; newKey?: string; newSecret?: string; status?: number } = {}) {
    const ctx = contextOf(request);
    const [settings, keys, endpoints, history] = await Promise.all([web.tenantAdmin.settings(ctx), web.tenantAdmin.listKeys(ctx), web.webhooks.list(ctx), web.tenantAdmin.history(ctx, 20)]);
    const actorName = await actorNamer(web, ctx.auth.tenantId, history.map((event) => event.actor_key_id));
    const changes = history.map((event) => ({ at: event.created_at, who: actorName(event.actor_key_id), what: adminEventInWords(event) }));
    return renderPage(request, reply, 'settings', { title: 'Settings', settings, keys, endpoints: endpoints.data, editPolicies, allScopes, changes, ...extra }, extra.status ?? 200);
  }

  /** Runs an admin change; a refusal is shown on the settings page. */
  async function change(request: FastifyRequest, reply: FastifyReply, work: () => Promise<{ notice: string; newKey?: string; newSecret?: string }>) {
    try {
      return show(request, reply, await work());
    } catch (error) {
      if (!(error instanceof AppError) || error.status >= 500 || error.status === 403) throw error;
      return show(request, reply, { error: error.message, status: error.status });
    }
  }

  app.get('/settings', admin, async (request, reply) => show(request, reply));

  app.post('/settings', admin, (request, reply) => change(request, reply, async () => {
    const body = request.body as Body;
    await web.tenantAdmin.updateSettings(contextOf(request), {
      edit_policy: String(body.edit_policy ?? '') as EditPolicy,
      invoice_number_prefix: String(body.invoice_number_prefix ?? ''),
    });
    return { notice: 'Settings saved.' };
  }));

  app.post('/settings/keys', admin, (request, reply) => change(request, reply, async () => {
    const created = await web.tenantAdmin.createKey(contextOf(request), list((request.body as Body).scopes));
    return { notice: `API key ${created.id} created. Copy it now: it is not shown again.`, newKey: created.key };
  }));

  app.post('/settings/keys/:keyId/revoke', admin, (request, reply) => change(request, reply, async () => {
    const { keyId } = request.params as { keyId: string };
    await web.tenantAdmin.revokeKey(contextOf(request), keyId);
    return { notice: `API key ${keyId} revoked.` };
  }));

  app.post('/settings/webhooks', admin, (request, reply) => change(request, reply, async () => {
    const body = request.body as Body;
    const events = String(body.events ?? '').split(/[\s,]+/).filter(Boolean).slice(0, 50);
    const created = await web.webhooks.create(contextOf(request), {
      url: String(body.url ?? '').trim().slice(0, 2000),
      events: events.length > 0 ? events : ['*'],
      description: String(body.description ?? '').trim().slice(0, 500) || null,
    });
    return { notice: `Webhook endpoint ${created.id} added. Its signing secret is shown once below.`, newSecret: created.secret };
  }));

  app.post('/settings/webhooks/:endpointId/remove', admin, (request, reply) => change(request, reply, async () => {
    const { endpointId } = request.params as { endpointId: string };
    await web.webhooks.remove(contextOf(request), endpointId);
    return { notice: `Webhook endpoint ${endpointId} removed.` };
  }));
}
