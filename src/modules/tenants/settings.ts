import { Type, type Static } from '@sinclair/typebox';
import type { App } from '../../core/app.js';
import { requestContext } from '../../core/request-context.js';
import type { Db } from '../../db/database.js';
import { notFound } from '../../shared/errors.js';
import { editPolicies } from '../invoices/domain/lifecycle.js';
import { tenantStore } from './store.js';

const SettingsSchema = Type.Object({
  tenant_id: Type.String(),
  name: Type.String(),
  base_currency: Type.String(),
  edit_policy: Type.String({ enum: [...editPolicies] }),
  invoice_number_prefix: Type.String(),
});

const SettingsPatchSchema = Type.Object(
  {
    edit_policy: Type.Optional(Type.Union(editPolicies.map((policy) => Type.Literal(policy)))),
    invoice_number_prefix: Type.Optional(Type.String({ minLength: 0, maxLength: 20, pattern: '^[A-Za-z0-9/_.-]*$' })),
  },
  { additionalProperties: false },
);

/** Tenant settings (admin scope): the edit policy and the invoice number prefix. */
export async function tenantSettingsRoutes(app: App, { db }: { db: Db }) {
  const read = async (tenantId: string) => {
    const tenant = await tenantStore.findById(db, tenantId);
    if (!tenant) throw notFound('tenant', tenantId);
    return { tenant_id: tenant.id, name: tenant.name, base_currency: tenant.base_currency, edit_policy: tenant.edit_policy, invoice_number_prefix: tenant.invoice_number_prefix };
  };

  app.get('/tenant/settings', {
    config: { scope: 'admin' },
    schema: { tags: ['tenant'], summary: "The tenant's settings (admin scope)", response: { 200: SettingsSchema } },
  }, async (request) => read(requestContext(request).auth.tenantId));

  app.patch('/tenant/settings', {
    config: { scope: 'admin' },
    schema: { tags: ['tenant'], summary: 'Change the edit policy (until_paid, draft_only) or the invoice number prefix (admin scope)', body: SettingsPatchSchema, response: { 200: SettingsSchema } },
  }, async (request) => {
    const tenantId = requestContext(request).auth.tenantId;
    const body = request.body as Static<typeof SettingsPatchSchema>;
    await tenantStore.updateSettings(db, tenantId, body);
    return read(tenantId);
  });
}
