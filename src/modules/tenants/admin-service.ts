import type { Db } from '../../db/database.js';
import type { RequestContext } from '../../core/request-context.js';
import { AppError, notFound } from '../../shared/errors.js';
import { systemClock, type Clock } from '../../shared/time.js';
import { editPolicies, type EditPolicy } from '../invoices/domain/lifecycle.js';
import { isScope, type Scope } from '../../core/auth.js';
import { changesOf, listAdminEvents, recordAdminEvent } from './admin-events.js';
import { mintApiKey } from './service.js';
import { tenantStore } from './store.js';

export interface TenantSettings {
  tenant_id: string;
  name: string;
  base_currency: string;
  edit_policy: string;
  invoice_number_prefix: string;
}

export interface ApiKeySummary {
  id: string;
  key_prefix: string;
  scopes: string[];
  created_at: string;
  revoked_at: string | null;
}

const prefixPattern = /^[A-Za-z0-9/_.-]{0,20}$/;

/**
 * What an admin of a tenant manages: its settings and its API keys. The API's /tenant/settings
 * routes and the web app's settings pages both go through here (the caller checks the admin scope).
 */
export function createTenantAdminService(db: Db, clock: Clock = systemClock) {
  return {
    async settings(ctx: RequestContext): Promise<TenantSettings> {
      const tenant = await tenantStore.findById(db, ctx.auth.tenantId);
      if (!tenant) throw notFound('tenant', ctx.auth.tenantId);
      return { tenant_id: tenant.id, name: tenant.name, base_currency: tenant.base_currency, edit_policy: tenant.edit_policy, invoice_number_prefix: tenant.invoice_number_prefix };
    },

    async updateSettings(ctx: RequestContext, patch: { edit_policy?: EditPolicy; invoice_number_prefix?: string }): Promise<TenantSettings> {
      if (patch.edit_policy !== undefined && !editPolicies.includes(patch.edit_policy)) {
        throw new AppError('validation-error', `The edit policy must be one of ${editPolicies.join(', ')}.`, { errors: [{ pointer: '/edit_policy', detail: 'unknown policy' }] });
      }
      if (patch.invoice_number_prefix !== undefined && !prefixPattern.test(patch.invoice_number_prefix)) {
        throw new AppError('validation-error', 'The number prefix takes up to 20 letters, digits, / _ . -', { errors: [{ pointer: '/invoice_number_prefix', detail: 'invalid prefix' }] });
      }
      const before = await this.settings(ctx);
      const changes = changesOf(before, patch);
      if (changes.length > 0) {
        await db.transaction().execute(async (tx) => {
          await tenantStore.updateSettings(tx, ctx.auth.tenantId, patch);
          await recordAdminEvent(tx, ctx, { action: 'settings.update', changes, at: clock.nowIso() });
        });
      }
      return this.settings(ctx);
    },

    async listKeys(ctx: RequestContext): Promise<ApiKeySummary[]> {
      const rows = await tenantStore.listKeys(db, ctx.auth.tenantId);
      return rows.reverse().map((row) => ({ id: row.id, key_prefix: row.key_prefix, scopes: row.scopes.split(','), created_at: row.created_at, revoked_at: row.revoked_at }));
    },

    /** The key itself is returned once, here, and only its hash is kept. */
    async createKey(ctx: RequestContext, scopes: string[]): Promise<{ id: string; key: string; scopes: Scope[] }> {
      const wanted = [...new Set(scopes.map((scope) => scope.trim()).filter(Boolean))];
      if (wanted.length === 0 || !wanted.every(isScope)) {
        throw new AppError('validation-error', 'Choose at least one scope: invoices:read, invoices:write, admin.', { errors: [{ pointer: '/scopes', detail: 'unknown or missing scope' }] });
      }
      const { row, key } = mintApiKey(ctx.auth.tenantId, wanted, clock.nowIso());
      await db.transaction().execute(async (tx) => {
        await tenantStore.insertKey(tx, row);
        await recordAdminEvent(tx, ctx, { action: 'api_key.create', subjectId: row.id, changes: [{ path: '/scopes', from: null, to: wanted }], at: clock.nowIso() });
      });
      return { id: row.id, key, scopes: wanted as Scope[] };
    },

    /** Revoking takes effect within the authenticator's cache time (5 s). */
    async revokeKey(ctx: RequestContext, keyId: string): Promise<void> {
      // Only this tenant's keys: another tenant's key id is as unknown as a made-up one.
      const own = (await tenantStore.listKeys(db, ctx.auth.tenantId)).some((key) => key.id === keyId && key.revoked_at === null);
      const revoked = own && (await db.transaction().execute(async (tx) => {
        const revokedAt = clock.nowIso();
        if (!(await tenantStore.revokeKey(tx, keyId, revokedAt))) return false;
        await recordAdminEvent(tx, ctx, { action: 'api_key.revoke', subjectId: keyId, changes: [{ path: '/revoked_at', from: null, to: revokedAt }], at: revokedAt });
        return true;
      }));
      if (!revoked) throw notFound('active API key', keyId);
    },

    /** The administration trail (settings, keys, webhook endpoints), newest first. */
    history: (ctx: RequestContext, limit = 50) => listAdminEvents(db, ctx.auth.tenantId, limit),
  };
}

export type TenantAdminService = ReturnType<typeof createTenantAdminService>;
