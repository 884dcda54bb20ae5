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

  listTenants: (db: DbOrTx) => db.selectFrom('tenants').selectAll().orderBy('name').execute(),

  /** Keys without their hashes: what an operator may see. */
  listKeys: (db: DbOrTx, tenantId?: string) => {
    let query = db.selectFrom('api_keys').select(['tenant_id', 'id', 'key_prefix', 'scopes', 'created_at', 'revoked_at']).orderBy('created_at');
    if (tenantId !== undefined) query = query.where('tenant_id', '=', tenantId);
    return query.execute();
  },

  /** Marks a key revoked (kept for the audit trail); false when no active key has that id. */
  async revokeKey(db: DbOrTx, keyId: string, revokedAt: string): Promise<boolean> {
    const result = await db.updateTable('api_keys').set({ revoked_at: revokedAt }).where('id', '=', keyId).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  },

  findActiveKeyByHash: (db: DbOrTx, keyHash: string) =>
    db
      .selectFrom('api_keys')
      .select(['tenant_id', 'id', 'scopes'])
      .where('key_hash', '=', keyHash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst(),
};
