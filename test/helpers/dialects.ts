import assert from 'node:assert/strict';
import type { Kysely } from 'kysely';
import type { Client, Reply } from './harness.js';
import { expectStatus } from './harness.js';
import { readFeedUntil } from './feed.js';

/**
 * Shared checks for dialect tests: a dialect update must leave exactly the trace a native PATCH
 * leaves (one version, one audit entry with the same diff and actor, one outbox event).
 */

/** Ids and UUIDs replaced by their order of appearance, so two invoices' diffs compare. */
export function normalizeIds(value: unknown): unknown {
  const seen = new Map<string, string>();
  const text = JSON.stringify(value).replace(/\b(inv|lin|att)_[0-9a-z]{26}\b|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (match) => {
    if (!seen.has(match)) seen.set(match, `${match.includes("-") ? "uuid" : match.slice(0, 3)}#${seen.size}`);
    return seen.get(match) as string;
  });
  return JSON.parse(text);
}

async function traceOf(api: Client, invoiceId: string) {
  const history = expectStatus(await api.get(`/v1/invoices/${invoiceId}/history`), 200).data;
  const latest = Math.max(...history.map((entry: any) => entry.version));
  // The events of one version commit together, so once the latest shows, all of this invoice's have.
  const ofInvoice = (events: any[]) => events.filter((event: any) => event.resource_id === invoiceId);
  const events = ofInvoice((await readFeedUntil(api.get, (all) => ofInvoice(all).some((event) => event.resource_version === latest))).events);
  return { history, events };
}

/**
 * Creates two equal invoices natively, changes one through the dialect and the other with the
 * equivalent native PATCH, and asserts both traces are the same. Returns both invoices' ids.
 */
export async function assertSameAsNativePatch(
  api: Client,
  options: { create: unknown; dialect: (invoice: any) => Promise<Reply>; native: (invoice: any) => unknown },
): Promise<{ viaDialect: string; viaNative: string }> {
  const first = expectStatus(await api.post('/v1/invoices', options.create), 201);
  const second = expectStatus(await api.post('/v1/invoices', options.create), 201);
  const dialectReply = await options.dialect(first);
  assert.ok(dialectReply.status >= 200 && dialectReply.status < 300, `dialect update failed: ${dialectReply.status} ${dialectReply.text.slice(0, 500)}`);
  expectStatus(await api.patch(`/v1/invoices/${second.id}`, options.native(second)), 200);

  const viaDialect = await traceOf(api, first.id);
  const viaNative = await traceOf(api, second.id);
  assert.deepEqual(viaDialect.history.map((entry: any) => entry.version), [1, 2], 'exactly one new version');
  assert.deepEqual(viaNative.history.map((entry: any) => entry.version), [1, 2]);
  const [dialectEntry, nativeEntry] = [viaDialect.history[1], viaNative.history[1]];
  assert.equal(dialectEntry.action, nativeEntry.action);
  assert.equal(dialectEntry.actor_key_id, nativeEntry.actor_key_id, 'the calling key is the actor');
  assert.ok(dialectEntry.changes.length > 0);
  assert.equal(JSON.stringify(normalizeIds(dialectEntry.changes)), JSON.stringify(normalizeIds(nativeEntry.changes)), 'the same diff');
  assert.deepEqual(viaDialect.events.map((event: any) => [event.type, event.resource_version]), [['invoice.created', 1], ['invoice.updated', 2]], 'one outbox event');
  assert.deepEqual(normalizeIds(viaDialect.events.map((event: any) => event.data)), normalizeIds(viaNative.events.map((event: any) => event.data)));
  const dialectInvoice = expectStatus(await api.get(`/v1/invoices/${first.id}`), 200);
  const nativeInvoice = expectStatus(await api.get(`/v1/invoices/${second.id}`), 200);
  const comparable = ({ id: _i, guid: _g, serial: _s, created_at: _c, updated_at: _u, ...rest }: any) => normalizeIds(rest);
  assert.deepEqual(comparable(dialectInvoice), comparable(nativeInvoice), 'the same invoice');
  return { viaDialect: first.id, viaNative: second.id };
}

/** Asserts a dialect refusal changed nothing: same version as before. */
export async function assertUnchanged(api: Client, invoiceId: string, version: number) {
  assert.equal(expectStatus(await api.get(`/v1/invoices/${invoiceId}`), 200).version, version, 'nothing written');
}

/** No stack traces, SQL or file paths in an error body. */
export function assertNoInternals(reply: Reply) {
  assert.doesNotMatch(reply.text, /at \w+ \(|\.ts:\d+|SELECT |INSERT |sqlite|postgres|node_modules/i);
}

/** The OpenAPI document lists every path under `prefix` with exactly the one tag. */
export async function assertOpenApiTag(api: Client, prefix: string, tag: string) {
  const spec = expectStatus(await api.get('/openapi.json'), 200);
  const paths = Object.keys(spec.paths).filter((path) => path.startsWith(prefix));
  assert.ok(paths.length > 0, `no paths under ${prefix}`);
  for (const path of paths) {
    for (const operation of Object.values(spec.paths[path]) as any[]) assert.deepEqual(operation.tags, [tag], path);
  }
}

/**
 * Simulates a crash between a write's commit and the storing of its answer: the Idempotency-Key's
 * row keeps `committed` (the change and "this key did it" committed together) but loses the
 * stored response, as if the process had stopped before sending it.
 */
export async function forgetStoredAnswer(db: Kysely<any>, key: string) {
  const updated = await db
    .updateTable('idempotency_keys')
    .set({ state: 'committed', response_status: null, response_headers: null, response_body: null })
    .where('key', '=', key)
    .where('committed_resource', 'is not', null)
    .executeTakeFirst();
  assert.equal(Number(updated.numUpdatedRows), 1, `the key ${key} committed a change`);
}
