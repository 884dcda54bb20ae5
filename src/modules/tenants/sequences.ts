import { sql } from 'kysely';
import type { Tx } from '../../db/database.js';

/**
 * Gapless per-tenant counters. The upsert increments the tenant's counter row and returns
 * the new value; the row stays locked (PostgreSQL row lock, SQLite write lock) until the
 * calling transaction ends, so concurrent callers queue and a rolled-back caller gives its
 * number back. Never max(number)+1.
 */
export async function nextInSequence(tx: Tx, tenantId: string, name: 'invoice' | 'credit_note' | 'invoice_serial'): Promise<number> {
  const row = await tx
    .insertInto('number_sequences')
    .values({ tenant_id: tenantId, name, last_value: 1 })
    .onConflict((conflict) => conflict.columns(['tenant_id', 'name']).doUpdateSet({ last_value: sql<number>`number_sequences.last_value + 1` }))
    .returning('last_value')
    .executeTakeFirstOrThrow();
  return Number(row.last_value);
}

export const formatSequenceNumber = (prefix: string, value: number) => `${prefix}${String(value).padStart(6, '0')}`;
