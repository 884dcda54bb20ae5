import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { expectStatus, type Client, type TestApp } from './harness.js';

/** What a write left behind for one invoice: its version, audit events and outbox events. */
export async function countsFor(t: TestApp, invoiceId: string) {
  const db = t.database.db;
  const count = async (table: 'audit_events' | 'events', column: string) =>
    Number((await sql<{ n: number }>`SELECT COUNT(*) AS n FROM ${sql.table(table)} WHERE ${sql.ref(column)} = ${invoiceId}`.execute(db)).rows[0].n);
  const version = (await db.selectFrom('invoices').select('version').where('id', '=', invoiceId).executeTakeFirstOrThrow()).version;
  return { versions: Number(version), audit: await count('audit_events', 'invoice_id'), outbox: await count('events', 'resource_id') };
}

export async function historyOf(api: Client, invoiceId: string): Promise<any[]> {
  return expectStatus(await api.get(`/v1/invoices/${invoiceId}/history?limit=1000`), 200).data;
}

/** A connection of the caller's tenant (what Midnight's MISKEY names); needs an admin key. */
export async function midnightConnection(api: Client): Promise<string> {
  return expectStatus(await api.post('/v1/connections', { name: 'midnight' }), 201).id;
}

/** Two diffs are the same change: same paths, same values, ids of lines and timestamps aside. */
export function sameChanges(actual: any[], expected: any[]) {
  const normalize = (changes: any[]) => {
    const ids = new Map<string, string>();
    // Line ids differ between the two invoices: number them by first appearance instead.
    const text = JSON.stringify(changes, (key, value) => (key === 'guid' || key.endsWith('_at') ? '<varies>' : value));
    return JSON.parse(text.replace(/lin_[0-9a-z]+/g, (id) => {
      if (!ids.has(id)) ids.set(id, `line-${ids.size + 1}`);
      return ids.get(id) as string;
    }));
  };
  assert.deepEqual(normalize(actual), normalize(expected));
}
