import type { Db, DbOrTx, Engine, Tx } from '../../db/database.js';
import { lockForUpdate } from '../../db/database.js';
import { prepare, run } from '../../db/prepared.js';
import type { IdempotencyKeysTable } from '../../db/schema.js';

/** On every write that sends a key (the hot path): prepared once; the texts differ per engine only in placeholders. */
const keyExists = {
  postgres: prepare('folio_idempotency_key_exists', 'SELECT 1 AS found FROM idempotency_keys WHERE tenant_id = $1 AND key = $2'),
  sqlite: prepare('folio_idempotency_key_exists_sqlite', 'SELECT 1 AS found FROM idempotency_keys WHERE tenant_id = ? AND key = ?'),
};

/** SQL only for the idempotency keys; the rules live in ./service.ts. */
export const idempotencyStore = {
  async find(tx: Tx, engine: Engine, tenantId: string, key: string): Promise<IdempotencyKeysTable | undefined> {
    const query = tx.selectFrom('idempotency_keys').selectAll().where('tenant_id', '=', tenantId).where('key', '=', key);
    return lockForUpdate(engine, query).executeTakeFirst();
  },

  async insert(tx: Tx, row: IdempotencyKeysTable): Promise<void> {
    await tx.insertInto('idempotency_keys').values(row).execute();
  },

  /** One statement (its own commit): true when the key was new and is now this row; false when a row exists. */
  async insertIfAbsent(db: Db, row: IdempotencyKeysTable): Promise<boolean> {
    const result = await db.insertInto('idempotency_keys').values(row).onConflict((conflict) => conflict.columns(['tenant_id', 'key']).doNothing()).executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  },

  /** Whether the tenant has a row for the key (a read, no lock: the write's insert decides races). */
  async exists(db: Db, engine: Engine, tenantId: string, key: string): Promise<boolean> {
    return (await run(db, keyExists[engine], [tenantId, key])).rows.length > 0;
  },

  async remove(db: DbOrTx, tenantId: string, key: string): Promise<void> {
    await db.deleteFrom('idempotency_keys').where('tenant_id', '=', tenantId).where('key', '=', key).execute();
  },

  async takeOver(tx: Tx, tenantId: string, key: string, claimToken: string, lockedUntil: string): Promise<void> {
    await tx
      .updateTable('idempotency_keys')
      .set({ claim_token: claimToken, locked_until: lockedUntil })
      .where('tenant_id', '=', tenantId)
      .where('key', '=', key)
      .execute();
  },

  /** Inside the change's own transaction: true when this claim still owns the key. */
  async markCommitted(tx: Tx, tenantId: string, key: string, claimToken: string, resource: string): Promise<boolean> {
    const result = await tx
      .updateTable('idempotency_keys')
      .set({ state: 'committed', committed_resource: resource })
      .where('tenant_id', '=', tenantId)
      .where('key', '=', key)
      .where('claim_token', '=', claimToken)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  async complete(db: Db, tenantId: string, key: string, claimToken: string, response: { status: number; headers: string; body: string }): Promise<void> {
    await db
      .updateTable('idempotency_keys')
      .set({ state: 'completed', response_status: response.status, response_headers: response.headers, response_body: response.body })
      .where('tenant_id', '=', tenantId)
      .where('key', '=', key)
      .where('claim_token', '=', claimToken)
      .execute();
  },

  /** Frees a key whose request failed before changing anything (5xx, 409), so a retry can do the work. */
  async releaseUncommitted(db: Db, tenantId: string, key: string, claimToken: string): Promise<void> {
    await db
      .deleteFrom('idempotency_keys')
      .where('tenant_id', '=', tenantId)
      .where('key', '=', key)
      .where('claim_token', '=', claimToken)
      .where('state', '=', 'in_flight')
      .execute();
  },

  async deleteExpired(db: Db, now: string): Promise<number> {
    const result = await db.deleteFrom('idempotency_keys').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  },
};
