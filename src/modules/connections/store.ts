import type { DbOrTx } from '../../db/database.js';
import type { ConnectionsTable } from '../../db/schema.js';

/** SQL only. */
export const connectionStore = {
  async insert(db: DbOrTx, row: ConnectionsTable): Promise<void> {
    await db.insertInto('connections').values(row).execute();
  },
  async find(db: DbOrTx, tenantId: string, id: string): Promise<ConnectionsTable | undefined> {
    return db.selectFrom('connections').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  async list(db: DbOrTx, tenantId: string, limit: number): Promise<ConnectionsTable[]> {
    return db.selectFrom('connections').selectAll().where('tenant_id', '=', tenantId).orderBy('id').limit(limit).execute();
  },
  async count(db: DbOrTx, tenantId: string): Promise<number> {
    const row = await db.selectFrom('connections').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenantId).executeTakeFirst();
    return Number(row?.n ?? 0);
  },
  async delete(db: DbOrTx, tenantId: string, id: string): Promise<boolean> {
    const result = await db.deleteFrom('connections').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  },
};
