import type { DbOrTx } from '../../db/database.js';
import type { ApiKeysTable, TenantsTable } from '../../db/schema.js';

export const tenantStore = {
  findByName: (db: DbOrTx, name: string) =>
    db.selectFrom('tenants').selectAll().where('name', '=', name).executeTakeFirst(),

  findById: (db: DbOrTx, id: string) => db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst(),

  insert: (db: DbOrTx, tenant: TenantsTable) => db.insertInto('tenants').values(tenant).execute(),

  setEditPolicy: (db: DbOrTx, id: string, editPolicy: string) =>
    db.updateTable('tenants').set({ edit_policy: editPolicy }).where('id', '=', id).execute(),

  async updateSettings(db: DbOrTx, id: string, settings: { edit_policy?: string; invoice_number_prefix?: string }) {
    if (settings.edit_policy === undefined && settings.invoice_number_prefix === undefined) return;
    await db.updateTable('tenants').set(settings).where('id', '=', id).execute();
  },

  insertKey: (db: DbOrTx, key: ApiKeysTable) => db.insertInto('api_keys').values(key).execute(),

  listKeys: (db: DbOrTx, tenantId: string) =>
    db
      .selectFrom('api_keys')
      .select(['id', 'key_prefix', 'scopes', 'created_at', 'revoked_at'])
      .where('tenant_id', '=', tenantId)
      .orderBy('id', 'desc')
      .limit(500)
      .execute(),

  revokeKey: (db: DbOrTx, tenantId: string, keyId: string, revokedAt: string) =>
    db
      .updateTable('api_keys')
      .set({ revoked_at: revokedAt })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', keyId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst(),

  findActiveKeyByHash: (db: DbOrTx, keyHash: string) =>
    db
      .selectFrom('api_keys')
      .select(['tenant_id', 'id', 'scopes'])
      .where('key_hash', '=', keyHash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst(),
};
