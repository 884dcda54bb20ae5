import type { HistoryEntry } from '../modules/history/service.js';
import type { AdminEvent } from '../modules/tenants/admin-events.js';

/**
 * The history timeline in words: each audit change `{path, from, to}` becomes a sentence such
 * as "quantity of 'Consulting' 3 → 2.5". Lines are named by their description as it was when
 * the change was made (the ids in the paths mean nothing to a person).
 */
export interface TimelineEntry {
  version: number;
  action: string;
  actor: string;
  reason: string | null;
  created_at: string;
  sentences: string[];
}

/** Figures the totals engine derives from the lines: their changes follow from the line changes. */
const derivedInvoiceFields = new Set(['subtotal', 'discount_total', 'tax_total', 'tax_breakdown', 'balance', 'finalized_at', 'voided_at']);
const derivedLineFields = new Set(['amount_before_discount', 'discount_amount', 'net_amount', 'tax_amount', 'gross_amount']);
const actionWords: Record<string, string> = {
  create: 'Created',
  update: 'Edited',
  finalize: 'Finalized',
  void: 'Voided',
  supersede: 'Superseded by its revision',
  delete: 'Deleted',
  revise: 'Revised (credit note + new draft)',
  payment: 'Payment recorded',
  refund: 'Refund recorded',
  credit: 'Credit note issued',
  attachment_add: 'Attachment added',
  attachment_remove: 'Attachment removed',
};

const label = (segments: string[]) => segments.map((segment) => segment.replace(/_/g, ' ')).join(' ');
const unescapeSegment = (segment: string) => segment.replace(/~1/g, '/').replace(/~0/g, '~');

export function valueInWords(value: unknown): string {
  if (value === null || value === undefined) return '(empty)';
  if (typeof value === 'string') return value.length > 80 ? `'${value.slice(0, 77)}…'` : `'${value}'`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if ('type' in record && 'value' in record && Object.keys(record).length === 2) {
      return record.type === 'percent' ? `${String(record.value)} %` : String(record.value);
    }
    if ('net_days' in record) return `net ${String(record.net_days)} days`;
    const parts = Object.entries(record).slice(0, 6).map(([key, item]) => `${key.replace(/_/g, ' ')} ${valueInWords(item)}`);
    return parts.join(', ');
  }
  return String(value);
}

/** Decimal strings read better without quotes: 3 → 2.5, not '3' → '2.5'. */
function plain(value: unknown): string {
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) return value;
  return valueInWords(value);
}

function lineSummary(line: Record<string, unknown>): string {
  const quantity = line.quantity === undefined ? '' : ` (${plain(line.quantity)} × ${plain(line.unit_price)})`;
  return `'${String(line.description ?? 'line')}'${quantity}`;
}

/**
 * The lines a person actually moved in one version. Adding, removing or moving one line renumbers
 * the others; those follow along and are not "moved". The lines that kept their order relative to
 * each other (the longest run in the same order) stayed; the rest were moved. Unchanged lines are not
 * in the diff: they are the places no change mentions.
 */
function movedLines(changes: HistoryEntry['changes']): Set<string> {
  const shifted: { id: string; from: number; to: number }[] = [];
  const taken = { before: new Set<number>(), after: new Set<number>() };
  for (const change of changes) {
    const match = /^\/lines\/([^/]+)(\/position)?$/.exec(change.path);
    if (!match) continue;
    if (match[2]) {
      shifted.push({ id: match[1], from: Number(change.from), to: Number(change.to) });
      taken.before.add(Number(change.from));
      taken.after.add(Number(change.to));
    } else if (change.from === null) taken.after.add(Number((change.to as { position?: number }).position));
    else if (change.to === null) taken.before.add(Number((change.from as { position?: number }).position));
  }
  if (shifted.length === 0) return new Set();
  const last = Math.max(...taken.before, ...taken.after);
  const kept: { id: string; from: number; to: number }[] = [];
  for (let place = 1; place <= last; place++) if (!taken.before.has(place) && !taken.after.has(place)) kept.push({ id: '', from: place, to: place });
  const survivors = [...shifted, ...kept].sort((a, b) => a.from - b.from);
  // Longest increasing run of new places in old order (O(n²): an invoice has at most 1,000 lines).
  const length = survivors.map(() => 1);
  const previous = survivors.map(() => -1);
  let best = 0;
  for (let i = 0; i < survivors.length; i++) {
    for (let j = 0; j < i; j++) {
      if (survivors[j].to < survivors[i].to && length[j] + 1 > length[i]) {
        length[i] = length[j] + 1;
        previous[i] = j;
      }
    }
    if (length[i] > length[best]) best = i;
  }
  const inOrder = new Set<number>();
  for (let i = best; i >= 0; i = previous[i]) inOrder.add(i);
  return new Set(survivors.filter((line, index) => line.id && !inOrder.has(index)).map((line) => line.id));
}

export function describeChanges(changes: HistoryEntry['changes'], lineNames: Map<string, string>): string[] {
  const sentences: string[] = [];
  const moved = movedLines(changes);
  for (const change of changes) {
    if (change.path === '') {
      if (change.to !== null) {
        const lines = Object.values(((change.to as Record<string, unknown>).lines ?? {}) as Record<string, Record<string, unknown>>);
        sentences.push(`created with ${lines.length} line${lines.length === 1 ? '' : 's'}`);
      } else sentences.push('deleted the draft');
      continue;
    }
    const segments = change.path.split('/').slice(1).map(unescapeSegment);
    const [field, id, ...rest] = segments;
    if (field === 'lines' && id !== undefined) {
      const name = `'${lineNames.get(id) ?? 'line'}'`;
      if (rest.length === 0) {
        if (change.from === null) sentences.push(`added line ${lineSummary(change.to as Record<string, unknown>)}`);
        else if (change.to === null) sentences.push(`removed line ${lineSummary(change.from as Record<string, unknown>)}`);
        continue;
      }
      if (derivedLineFields.has(rest[0])) continue;
      if (rest[0] === 'position') {
        if (moved.has(id)) sentences.push(`moved ${name} from place ${plain(change.from)} to ${plain(change.to)}`);
      }
      // A line is named by its description: "description of 'A' 'A' → 'B'" would say it twice.
      else if (rest.length === 1 && rest[0] === 'description' && name === plain(change.from)) sentences.push(`line ${name} renamed → ${plain(change.to)}`);
      else sentences.push(`${label(rest)} of ${name} ${plain(change.from)} → ${plain(change.to)}`);
      continue;
    }
    if (field === 'attachments' && id !== undefined && rest.length === 0) {
      const file = (change.to ?? change.from) as { filename?: string } | null;
      sentences.push(change.from === null ? `attached '${file?.filename ?? 'a file'}'` : `removed attachment '${file?.filename ?? 'a file'}'`);
      continue;
    }
    if (derivedInvoiceFields.has(field)) continue;
    const what = label(segments);
    if (change.from === null) sentences.push(`${what} set to ${plain(change.to)}`);
    else if (change.to === null) sentences.push(`${what} cleared (was ${plain(change.from)})`);
    else sentences.push(`${what} ${plain(change.from)} → ${plain(change.to)}`);
  }
  return sentences;
}

/** Keeps `names` (line id → description) current through one version's changes. */
function learnLineNames(changes: HistoryEntry['changes'], names: Map<string, string>): void {
  for (const change of changes) {
    if (change.path === '' && change.to) {
      const lines = ((change.to as Record<string, unknown>).lines ?? {}) as Record<string, { description?: string }>;
      for (const [id, line] of Object.entries(lines)) names.set(id, line.description ?? 'line');
      continue;
    }
    const match = /^\/lines\/([^/]+)(\/description)?$/.exec(change.path);
    if (!match) continue;
    if (match[2] && typeof change.to === 'string') names.set(match[1], change.to);
    else if (!match[2] && change.to) names.set(match[1], (change.to as { description?: string }).description ?? 'line');
  }
}

/** Oldest first in, newest first out. `actorName` turns an actor id into a person or key name. */
export function timelineOf(entries: HistoryEntry[], actorName: (actorId: string | null) => string): TimelineEntry[] {
  const names = new Map<string, string>();
  const timeline: TimelineEntry[] = [];
  for (const entry of entries) {
    const sentences = describeChanges(entry.changes, names);
    learnLineNames(entry.changes, names);
    timeline.push({
      version: entry.version,
      action: actionWords[entry.action] ?? entry.action,
      actor: actorName(entry.actor_key_id),
      reason: entry.reason,
      created_at: entry.created_at,
      sentences,
    });
  }
  return timeline.reverse();
}

/** One administration event (settings, API keys, webhook endpoints) in words. */
export function adminEventInWords(event: AdminEvent): string {
  const value = (path: string, side: 'from' | 'to') => event.changes.find((change) => change.path === path)?.[side];
  const list = (items: unknown) => (Array.isArray(items) ? items.join(', ') : plain(items));
  switch (event.action) {
    case 'api_key.create':
      return `created API key ${event.subject_id} (scopes ${list(value('/scopes', 'to'))})`;
    case 'api_key.revoke':
      return `revoked API key ${event.subject_id}`;
    case 'webhook_endpoint.create':
      return `added webhook endpoint ${String(value('/url', 'to'))} (events ${list(value('/events', 'to'))})`;
    case 'webhook_endpoint.remove':
      return `removed webhook endpoint ${String(value('/url', 'from'))}`;
    default: {
      const what = event.action === 'settings.update' ? '' : `webhook endpoint ${event.subject_id}: `;
      return what + event.changes.map((change) => `${label(change.path.split('/').slice(1))} ${plain(change.from)} → ${plain(change.to)}`).join('; ');
    }
  }
}
