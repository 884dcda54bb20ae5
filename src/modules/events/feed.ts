import { sql } from 'kysely';
import type { Db, Engine } from '../../db/database.js';
import type { EventsTable } from '../../db/schema.js';
import { AppError } from '../../shared/errors.js';

/**
 * The ordered event feed of a tenant. A position is (txid, seq):
 *  - SQLite serialises writers, so seq order is commit order and txid is always 0;
 *  - PostgreSQL hands out seq values before commit, so a smaller seq can become visible
 *    after a larger one. The feed therefore orders by (writing transaction id, seq) and
 *    only returns events whose transaction is older than the oldest transaction still
 *    running (pg_snapshot_xmin of the current snapshot): those can no longer be joined by
 *    an event that sorts before them, so a cursor never skips one.
 */
export interface FeedPosition {
  txid: string;
  seq: number;
}

export const encodeFeedCursor = (position: FeedPosition) => Buffer.from(`${position.txid}.${position.seq}`, 'utf8').toString('base64url');

export function decodeFeedCursor(cursor: string | undefined): FeedPosition {
  if (cursor === undefined || cursor === '') return { txid: '0', seq: 0 };
  const match = /^(\d{1,20})\.(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) {
    throw new AppError('validation-error', 'The cursor is not one this API returned.', { errors: [{ pointer: '/query/after', detail: 'invalid cursor' }] });
  }
  return { txid: match[1], seq: Number(match[2]) };
}

export type FeedRow = Omit<EventsTable, 'seq' | 'txid'> & { seq: number; txid: string | number };

export async function readFeed(db: Db, engine: Engine, tenantId: string, after: FeedPosition, limit: number): Promise<FeedRow[]> {
  if (engine === 'postgres') {
    const result = await sql<FeedRow>`
      SELECT tenant_id, seq, txid::text AS txid, id, type, resource_type, resource_id, resource_version, data, created_at
      FROM events
      WHERE tenant_id = ${tenantId}
        AND (txid, seq) > (${after.txid}::xid8, ${after.seq})
        AND txid < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY txid, seq
      LIMIT ${limit}`.execute(db);
    return result.rows;
  }
  const rows = await db
    .selectFrom('events')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('seq', '>', after.seq)
    .orderBy('seq')
    .limit(limit)
    .execute();
  return rows as FeedRow[];
}
