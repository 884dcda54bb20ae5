import { Type, type Static } from '@sinclair/typebox';
import type { App } from '../../core/app.js';
import { requestContext, type RequestContext } from '../../core/request-context.js';
import type { Db } from '../../db/database.js';
import type { Clock } from '../../shared/time.js';
import { editPolicies } from '../invoices/domain/lifecycle.js';
import { SellerPatchSchema, SellerSchema } from '../documents/schemas.js';
import type { DocumentService } from '../documents/service.js';
import { createTenantAdminService, type TenantSettings } from './admin-service.js';

export const SettingsSchema = Type.Object({
  tenant_id: Type.String(),
  name: Type.String(),
  base_currency: Type.String(),
  edit_policy: Type.String({ enum: [...editPolicies] }),
  invoice_number_prefix: Type.String(),
  document_seller: SellerSchema,
});

export const SettingsPatchSchema = Type.Object(
  {
    edit_policy: Type.Optional(Type.Union(editPolicies.map((policy) => Type.Literal(policy)))),
    invoice_number_prefix: Type.Optional(Type.String({ minLength: 0, maxLength: 20, pattern: '^[A-Za-z0-9/_.-]*$' })),
    document_seller: Type.Optional(SellerPatchSchema),
  },
  { additionalProperties: false },
);

/** Tenant settings (admin scope): the edit policy, the invoice number prefix, the seller on documents. */
export async function tenantSettingsRoutes(app: App, { db, documents, clock }: { db: Db; documents: DocumentService; clock: Clock }) {
  const admin = createTenantAdminService(db, clock);
  const withSeller = async (ctx: RequestContext, settings: TenantSettings) => ({ ...settings, document_seller: await documents.seller(ctx.auth.tenantId) });

  app.get('/tenant/settings', {
    config: { scope: 'admin' },
    schema: { tags: ['tenant'], operationId: 'getTenantSettings', summary: "The tenant's settings (admin scope)", response: { 200: SettingsSchema } },
  }, async (request) => {
    const ctx = requestContext(request);
    return withSeller(ctx, await admin.settings(ctx));
  });

  app.patch('/tenant/settings', {
    config: { scope: 'admin' },
    schema: { tags: ['tenant'], operationId: 'updateTenantSettings', summary: 'Change the edit policy (until_paid, draft_only), the invoice number prefix or the seller printed on documents (admin scope)', body: SettingsPatchSchema, response: { 200: SettingsSchema } },
  }, async (request) => {
    const ctx = requestContext(request);
    const { document_seller: seller, ...settings } = request.body as Static<typeof SettingsPatchSchema>;
    // The seller first: it is the part that can be refused (an unknown or non-image logo, an IBAN).
    if (seller) await documents.updateSeller(ctx, seller);
    return withSeller(ctx, await admin.updateSettings(ctx, settings));
  });
}
