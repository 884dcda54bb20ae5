import type { AttachmentMeta, Invoice, InvoiceLine } from './model.js';

/**
 * Audit diffs. An invoice is compared as a "document": its fields minus the bookkeeping
 * ones (version, timestamps), with lines keyed by id so a path like
 * `/lines/lin_…/quantity` stays meaningful when other lines move. For the invoice's own fields
 * and a line's fields null and absent are the same in a document (replay restores them from the
 * field list), so a change `{path, from, to: null}` removes the member on replay. Deeper
 * objects (`bill_to`, `bill_to.address`) keep their null members as they are: such an object
 * is diffed member by member only while its null members stay the same, otherwise it is
 * recorded whole. Replaying the changes of versions 1..N from an empty document gives version N exactly.
 */
export interface Change {
  path: string;
  from: unknown;
  to: unknown;
}

type Json = null | string | number | boolean | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Not part of the document: bookkeeping, and identifiers that never change (guid, serial). */
const bookkeepingFields = new Set(['version', 'created_at', 'updated_at', 'object', 'id', 'guid', 'serial']);
const fixedIdentifiers = new Set(['guid', 'serial']);

export function toDocument(invoice: Invoice): JsonObject {
  const doc: JsonObject = {};
  for (const [key, value] of Object.entries(invoice)) {
    if (bookkeepingFields.has(key)) continue;
    if (key === 'lines' || key === 'attachments') {
      // Keyed by id, so `/lines/lin_…/quantity` and `/attachments/att_…` stay meaningful.
      const keyed: JsonObject = {};
      for (const item of value as { id: string }[]) keyed[item.id] = withoutNullMembers(item);
      doc[key] = keyed;
    } else if (value !== null) {
      doc[key] = value as Json;
    }
  }
  return doc;
}

/**
 * A model object rebuilt from its document. toDocument wrote it from that model (plain JSON data,
 * null members dropped); the caller has put every member of the template back, nulls included.
 */
const rebuilt = <T>(members: Partial<T>): T => members as T;

/** Rebuilds the invoice body from a document (the inverse of toDocument). */
export function fromDocument(doc: JsonObject, bookkeeping: Pick<Invoice, 'id' | 'version' | 'created_at' | 'updated_at'>, template: Invoice): Invoice {
  const result: Partial<Invoice> = { object: 'invoice', ...bookkeeping };
  // Members are set by name, from the template's keys: every key of an Invoice is written once.
  const members = result as Record<string, unknown>;
  for (const key of Object.keys(template)) {
    if (key in members) continue;
    if (fixedIdentifiers.has(key)) {
      members[key] = template[key as keyof Invoice];
      continue;
    }
    if (key === 'lines') {
      const lines = Object.values((doc.lines ?? {}) as JsonObject).map((line) => fillLine(line as JsonObject, template));
      result.lines = lines.sort((a, b) => a.position - b.position);
    } else if (key === 'attachments') {
      const attachments = Object.values((doc.attachments ?? {}) as JsonObject).map((attachment) => rebuilt<AttachmentMeta>(attachment as Partial<AttachmentMeta>));
      result.attachments = attachments.sort((a, b) => a.id.localeCompare(b.id));
    } else {
      members[key] = key in doc ? doc[key] : emptyValueFor(key, template[key as keyof Invoice]);
    }
  }
  return rebuilt(result);
}

function fillLine(line: JsonObject, template: Invoice): InvoiceLine {
  const filled = { ...line } as Partial<InvoiceLine>;
  const members = filled as Record<string, unknown>;
  const keys = template.lines[0] ? Object.keys(template.lines[0]) : lineKeys;
  for (const key of keys) if (!(key in members)) members[key] = null;
  return rebuilt(filled);
}

const lineKeys = [
  'id', 'guid', 'position', 'parent_line_id', 'description', 'quantity', 'unit', 'unit_price', 'discount', 'tax_rate', 'tax_code',
  'account_code', 'item_code', 'tracking', 'amount_before_discount', 'discount_amount', 'net_amount', 'tax_amount', 'gross_amount',
];

const mapFields = new Set(['metadata', 'custom_fields', 'external_refs']);

/** Maps are empty objects when cleared, lists empty arrays, everything else null. */
function emptyValueFor(key: string, templateValue: unknown): unknown {
  if (mapFields.has(key)) return {};
  return Array.isArray(templateValue) ? [] : null;
}

/** The object without its null members (one level: nested objects keep theirs). */
/**
 * The members of a model object (a line, an attachment: plain data, JSON all the way down) that are
 * not null, as a JSON document.
 */
function withoutNullMembers(value: object): JsonObject {
  const result: JsonObject = {};
  for (const [key, item] of Object.entries(value) as [string, Json][]) if (item !== null) result[key] = item;
  return result;
}

const nullMembers = (value: JsonObject) => Object.keys(value).filter((key) => value[key] === null).sort().join('/');

const isObject = (value: unknown): value is JsonObject => value !== null && typeof value === 'object' && !Array.isArray(value);

// Ids and field names rarely hold '~' or '/': skip the two replaces for them (once per key of every diff).
const escapeSegment = (segment: string) => (segment.includes('~') || segment.includes('/') ? segment.replace(/~/g, '~0').replace(/\//g, '~1') : segment);
const unescapeSegment = (segment: string) => segment.replace(/~1/g, '/').replace(/~0/g, '~');

/** The changes that turn document `before` into `after`, deepest differing member first found. */
export function diffDocuments(before: JsonObject, after: JsonObject, prefix = ''): Change[] {
  const changes: Change[] = [];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const key of keys) {
    const from = before[key] ?? null;
    const to = after[key] ?? null;
    if (from === to) continue; // the same value or object (a write keeps what it does not touch): no change
    const path = `${prefix}/${escapeSegment(key)}`;
    // Member by member only when that replays exactly: a member change to null means "remove".
    if (isObject(from) && isObject(to) && nullMembers(from) === nullMembers(to)) changes.push(...diffDocuments(from, to, path));
    else if (JSON.stringify(from) !== JSON.stringify(to)) changes.push({ path, from, to });
  }
  return changes;
}

/**
 * diffDocuments(toDocument(before), toDocument(after)), with the same changes in the same order,
 * but the lines are compared one by one and a line object shared by both versions is skipped
 * without being looked at: a write keeps the lines it does not touch as the same objects, so a
 * one-line change on a 1,000-line invoice compares one line. (Callers never mutate a line in place.)
 */
export function diffInvoices(before: Invoice, after: Invoice): Change[] {
  const headerBefore = toDocument({ ...before, lines: [] });
  const headerAfter = toDocument({ ...after, lines: [] });
  const changes: Change[] = [];
  for (const key of new Set([...Object.keys(headerBefore), ...Object.keys(headerAfter)])) {
    if (key === 'lines') {
      changes.push(...diffLines(before.lines, after.lines));
      continue;
    }
    const from = headerBefore[key] ?? null;
    const to = headerAfter[key] ?? null;
    // Most header fields are the same value (or object) in both versions: no per-key documents for them.
    if (from !== to) changes.push(...diffDocuments({ [key]: from }, { [key]: to }));
  }
  return changes;
}

function diffLines(before: InvoiceLine[], after: InvoiceLine[]): Change[] {
  const changes: Change[] = [];
  const afterById = new Map(after.map((line) => [line.id, line]));
  const beforeIds = new Set<string>();
  const lineDoc = (line: InvoiceLine) => withoutNullMembers(line);
  for (const from of before) {
    beforeIds.add(from.id);
    const to = afterById.get(from.id);
    if (to === from) continue;
    const path = `/lines/${escapeSegment(from.id)}`;
    if (to === undefined) changes.push({ path, from: lineDoc(from), to: null });
    else changes.push(...diffDocuments(lineDoc(from), lineDoc(to), path));
  }
  for (const to of after) {
    if (!beforeIds.has(to.id)) changes.push({ path: `/lines/${escapeSegment(to.id)}`, from: null, to: lineDoc(to) });
  }
  return changes;
}

/** Applies changes to a document (a copy is returned). Path "" replaces the whole document. */
export function applyChanges(doc: JsonObject, changes: Change[]): JsonObject {
  let result: JsonObject = structuredClone(doc);
  for (const change of changes) {
    if (change.path === '') {
      result = structuredClone((change.to ?? {}) as JsonObject);
      continue;
    }
    const segments = change.path.split('/').slice(1).map(unescapeSegment);
    const last = segments.pop() as string;
    let parent: JsonObject = result;
    for (const segment of segments) {
      if (!isObject(parent[segment])) parent[segment] = {};
      parent = parent[segment] as JsonObject;
    }
    if (change.to === null) delete parent[last];
    else parent[last] = structuredClone(change.to) as Json;
  }
  return result;
}
