import type { Db } from '../../db/database.js';
import type { EventsTable } from '../../db/schema.js';
import { AppError } from '../../shared/errors.js';

/**
 * The ordered event feed of a tenant, by `seq`. seq order is commit order within a tenant
 * on both engines (SQLite serialises writers; on PostgreSQL eventStore.append takes a
 * per-tenant transaction lock before drawing seq), so a reader that continues after the
 * last seq it saw never skips an event.
 */
export const encodeFeedCursor = (seq: number) => Buffer.from(`e${seq}`, 'utf8').toString('base64url');

export function decodeFeedCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  const match = /^e(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) {
    throw new AppError('validation-error', 'The cursor is not one this API returned.', { errors: [{ pointer: '/query/after', detail: 'invalid cursor' }] });
  }
  return Number(match[1]);
}

export type FeedRow = Omit<EventsTable, 'seq'> & { seq: number };

export async function readFeed(db: Db, tenantId: string, afterSeq: number, limit: number): Promise<FeedRow[]> {
  const rows = await db
    .selectFrom('events')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
  return rows.map((row) => ({ ...row, seq: Number(row.seq) }));
}
