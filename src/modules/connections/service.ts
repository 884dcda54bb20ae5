import type { Db } from '../../db/database.js';
import type { RequestContext } from '../../core/request-context.js';
import { AppError, notFound } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import { systemClock, type Clock } from '../../shared/time.js';
import { connectionStore } from './store.js';

/**
 * Connections: named credentials of a tenant that dialect clients send back with every call
 * (the unified API's `credentialId`, Midnight's `MISKEY`). An unknown id, or another tenant's,
 * is a 404 to the caller.
 */
export interface Connection {
  id: string;
  object: 'connection';
  name: string;
  created_at: string;
}

export const maxConnectionsPerTenant = 1000;

const present = (row: { id: string; name: string; created_at: string }): Connection => ({ id: row.id, object: 'connection', name: row.name, created_at: row.created_at });

export function createConnectionService(db: Db, clock: Clock = systemClock) {
  return {
    async create(tenantId: string, name: string): Promise<Connection> {
      const trimmed = name.trim();
      if (trimmed.length === 0) throw new AppError('validation-error', 'A connection needs a name.', { errors: [{ pointer: '/name', detail: 'must not be blank' }] });
      if ((await connectionStore.count(db, tenantId)) >= maxConnectionsPerTenant) {
        throw new AppError('too-many-connections', `A tenant has at most ${maxConnectionsPerTenant} connections; delete one first.`);
      }
      const row = { tenant_id: tenantId, id: newId('con'), name: trimmed, created_at: clock.nowIso() };
      await connectionStore.insert(db, row);
      return present(row);
    },

    async list(ctx: RequestContext): Promise<Connection[]> {
      return (await connectionStore.list(db, ctx.auth.tenantId, maxConnectionsPerTenant)).map(present);
    },

    /** The caller's connection `id`, or a 404. */
    async require(ctx: RequestContext, id: string): Promise<Connection> {
      const row = await connectionStore.find(db, ctx.auth.tenantId, id);
      if (!row) throw notFound('connection', id);
      return present(row);
    },

    async delete(ctx: RequestContext, id: string): Promise<void> {
      if (!(await connectionStore.delete(db, ctx.auth.tenantId, id))) throw notFound('connection', id);
    },
  };
}

export type ConnectionService = ReturnType<typeof createConnectionService>;
