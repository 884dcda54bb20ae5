import { Type, type Static } from '@sinclair/typebox';
import type { App } from '../../core/app.js';
import { requestContext } from '../../core/request-context.js';
import type { Db } from '../../db/database.js';
import { editPolicies } from '../invoices/domain/lifecycle.js';
import { createTenantAdminService } from './admin-service.js';

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
  const admin = createTenantAdminService(db);

  app.get('/tenant/settings', {
    config: { scope: 'admin' },
    schema: { tags: ['tenant'], summary: "The tenant's settings (admin scope)", response: { 200: SettingsSchema } },
  }, async (request) => admin.settings(requestContext(request)));

  app.patch('/tenant/settings', {
    config: { scope: 'admin' },
    schema: { tags: ['tenant'], summary: 'Change the edit policy (until_paid, draft_only) or the invoice number prefix (admin scope)', body: SettingsPatchSchema, response: { 200: SettingsSchema } },
  }, async (request) => admin.updateSettings(requestContext(request), request.body as Static<typeof SettingsPatchSchema>));
}
