import { PostgresAdapter, sql } from 'kysely';
import type { Db } from '../../db/database.js';
import type { EventsTable } from '../../db/schema.js';
import { AppError } from '../../shared/errors.js';

/**
 * The ordered event feed of a tenant, without a lock on the writers.
 *
 * SQLite serialises writers, so `seq` order is commit order and the feed is ordered by seq.
 *
 * PostgreSQL draws `seq` before commit, so two writers can commit out of seq order. Each event
 * therefore carries its transaction's id (`xact_id`, 0011_event_commit_order), and a read returns
 * only events whose transaction is certainly finished — xact_id below the xmin of the reader's own
 * snapshot (refined by finishedBelow) — ordered by (xact_id, seq). Why that never skips: every
 * transaction with an id below xmin has ended, and a transaction that starts later gets a larger
 * id, so the set of events below xmin is final when the read sees it; a reader that continues after the last (xact_id, seq) it saw
 * therefore only ever finds events further along. Every reader sees the same order. The price:
 * an event waits until every older writing transaction of this database has ended (a long-open
 * one delays the feed, never reorders or drops it; see finishedBelow for other databases).
 *
 * The cursor is opaque: base64url of `c<xact_id>.<seq>` (xact_id 0 on SQLite). Cursors issued
 * before 0011, `e<seq>`, still work: they read as (0, seq), the position of events written
 * before the migration (their xact_id is 0), so a client resumes exactly where it left off.
 */
export interface FeedPosition {
  /** xid8 as a decimal string (up to 2^64); '0' on SQLite and for events written before 0011. */
  xactId: string;
  seq: number;
}

export const feedStart: FeedPosition = { xactId: '0', seq: 0 };

export const encodeFeedCursor = (position: FeedPosition) => Buffer.from(`c${position.xactId}.${position.seq}`, 'utf8').toString('base64url');

export function decodeFeedCursor(cursor: string | undefined): FeedPosition {
  if (cursor === undefined || cursor === '') return feedStart;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const current = /^c(0|[1-9]\d{0,19})\.(\d{1,16})$/.exec(text);
  if (current && BigInt(current[1]) < 2n ** 64n) return { xactId: current[1], seq: Number(current[2]) };
  const legacy = /^e(\d{1,16})$/.exec(text);
  if (legacy) return { xactId: '0', seq: Number(legacy[1]) };
  throw new AppError('validation-error', 'The cursor is not one this API returned.', { errors: [{ pointer: '/query/after', detail: 'invalid cursor' }] });
}

export type FeedRow = Omit<EventsTable, 'seq' | 'xact_id'> & { seq: number; xact_id?: string };

export const feedPositionOf = (row: FeedRow): FeedPosition => ({ xactId: row.xact_id ?? '0', seq: Number(row.seq) });

/**
 * The id below which every transaction that could have written to this database has ended, for
 * the snapshot this statement reads with (pg_current_snapshot() is the statement's snapshot): the
 * smallest id still running in it, skipping those a backend of another database is running (a
 * transaction never changes database, so those never write events here; on a shared server
 * they must not hold this feed back). An id whose backend is not found — ended meanwhile, a
 * prepared transaction, or hidden — counts as running: the feed waits, it never skips.
 * With nothing running, everything below the snapshot's xmax has ended.
 */
const finishedBelow = sql`(
  SELECT coalesce(min(running.xid), pg_snapshot_xmax(pg_current_snapshot()))
  FROM pg_snapshot_xip(pg_current_snapshot()) AS running(xid)
  WHERE NOT EXISTS (
    SELECT 1 FROM pg_stat_activity AS backend
    WHERE backend.backend_xid = xid(running.xid) AND backend.datname <> current_database()
  )
)`;

export async function readFeed(db: Db, tenantId: string, after: FeedPosition, limit: number): Promise<FeedRow[]> {
  const base = db.selectFrom('events').selectAll().where('tenant_id', '=', tenantId);
  const rows =
    db.getExecutor().adapter instanceof PostgresAdapter
      ? await base
          .where(sql<boolean>`(xact_id, seq) > (${after.xactId}::xid8, ${after.seq})`)
          .where(sql<boolean>`xact_id < ${finishedBelow}`)
          .orderBy('xact_id')
          .orderBy('seq')
          .limit(limit)
          .execute()
      : await base.where('seq', '>', after.seq).orderBy('seq').limit(limit).execute();
  return rows.map((row) => ({ ...row, seq: Number(row.seq) }));
}
