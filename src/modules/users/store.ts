import type { DbOrTx } from '../../db/database.js';
import type { UsersTable, WebSessionsTable } from '../../db/schema.js';

/** SQL for web users, their sessions and failed sign-ins. */
export const userStore = {
  insert: (db: DbOrTx, user: UsersTable) => db.insertInto('users').values(user).execute(),

  findByEmail: (db: DbOrTx, tenantId: string, email: string) =>
    db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where('email', '=', email).executeTakeFirst(),

  listEmails: (db: DbOrTx, tenantId: string, ids: string[]) =>
    ids.length === 0
      ? Promise.resolve([])
      : db.selectFrom('users').select(['id', 'email']).where('tenant_id', '=', tenantId).where('id', 'in', ids).execute(),

  insertSession: (db: DbOrTx, session: WebSessionsTable) => db.insertInto('web_sessions').values(session).execute(),

  findSession: (db: DbOrTx, tokenHash: string) =>
    db
      .selectFrom('web_sessions')
      .innerJoin('users', (join) => join.onRef('users.tenant_id', '=', 'web_sessions.tenant_id').onRef('users.id', '=', 'web_sessions.user_id'))
      .select([
        'web_sessions.tenant_id',
        'web_sessions.user_id',
        'web_sessions.csrf_token',
        'web_sessions.expires_at',
        'users.email',
        'users.role',
        'users.disabled_at',
      ])
      .where('web_sessions.token_hash', '=', tokenHash)
      .executeTakeFirst(),

  deleteSession: (db: DbOrTx, tokenHash: string) => db.deleteFrom('web_sessions').where('token_hash', '=', tokenHash).execute(),

  deleteExpiredSessions: (db: DbOrTx, tenantId: string, userId: string, nowIso: string) =>
    db.deleteFrom('web_sessions').where('tenant_id', '=', tenantId).where('user_id', '=', userId).where('expires_at', '<', nowIso).execute(),

  recordFailure: (db: DbOrTx, tenantId: string, email: string, failedAt: string) =>
    db.insertInto('login_failures').values({ tenant_id: tenantId, email, failed_at: failedAt }).execute(),

  async countFailuresSince(db: DbOrTx, tenantId: string, email: string, sinceIso: string): Promise<{ count: number; lastAt: string | null }> {
    const row = await db
      .selectFrom('login_failures')
      .select((eb) => [eb.fn.countAll<string | number>().as('count'), eb.fn.max('failed_at').as('last_at')])
      .where('tenant_id', '=', tenantId)
      .where('email', '=', email)
      .where('failed_at', '>=', sinceIso)
      .executeTakeFirst();
    return { count: Number(row?.count ?? 0), lastAt: (row?.last_at as string | null) ?? null };
  },

  /** Failures older than the lock-out window count for nothing: without this, guesses at made-up emails would pile up. */
  pruneFailures: (db: DbOrTx, tenantId: string, beforeIso: string) =>
    db.deleteFrom('login_failures').where('tenant_id', '=', tenantId).where('failed_at', '<', beforeIso).execute(),

  clearFailures: (db: DbOrTx, tenantId: string, email: string) =>
    db.deleteFrom('login_failures').where('tenant_id', '=', tenantId).where('email', '=', email).execute(),
};
