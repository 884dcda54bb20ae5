/**
 * HTTP load with autocannon: PATCH updates with If-Match (per-request bodies), and GETs.
 */
import autocannon from 'autocannon';
import { invoiceIdFor, lineIdFor } from './seed.js';
import { round, sampleRss } from './common.js';
import { verifySeededInvoice } from './verify.js';

export interface InvoiceSet {
  tag: string;
  /** Invoices 1..count exist. */
  count: number;
  linesPerInvoice: number;
}

export interface LoadResult {
  connections: number;
  durationSec: number;
  /** 2xx answers per second. */
  perSec: number;
  ok: number;
  /** 412 answers (another connection updated the same invoice first); the ETag is refreshed and the run goes on. */
  preconditionFailed: number;
  otherNon2xx: number;
  socketErrors: number;
  timeouts: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  firstFailure?: string;
}

/** The versions a load generator believes each invoice is at (kept across runs). */
export type EtagMap = Map<string, number>;

const randomInt = (from: number, to: number) => from + Math.floor(Math.random() * (to - from + 1));

/** Distinct random positions 1..lines. */
function pickPositions(lines: number, count: number): number[] {
  const picked = new Set<number>();
  while (picked.size < Math.min(count, lines)) picked.add(randomInt(1, lines));
  return [...picked];
}

function summarise(result: autocannon.Result, connections: number, durationSec: number, counters: { ok: number; precondition: number; other: number; firstFailure?: string }): LoadResult {
  return {
    connections,
    durationSec,
    perSec: round(counters.ok / durationSec, 1),
    ok: counters.ok,
    preconditionFailed: counters.precondition,
    otherNon2xx: counters.other,
    socketErrors: result.errors,
    timeouts: result.timeouts,
    meanMs: result.latency.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    ...(counters.firstFailure ? { firstFailure: counters.firstFailure } : {}),
  };
}

/** A tenant's key and the seeded invoices it may change. */
export interface UpdateTarget {
  key: string;
  set: InvoiceSet;
  /** Restrict to invoices 1..n of the set (default: all). */
  invoices?: number;
}

/**
 * PATCHes random invoices of `set` for durationSec: changes `linesToChange` lines (quantity)
 * and, if headerField, the memo, always with If-Match. A 412 refreshes the believed version
 * from the answer's ETag and is counted apart.
 */
export async function runUpdates(options: {
  url: string;
  key: string;
  set: InvoiceSet;
  connections: number;
  durationSec: number;
  linesToChange: number;
  headerField: boolean;
  etags: EtagMap;
  /** Restrict to invoices 1..n of the set (default: all). */
  invoices?: number;
}): Promise<LoadResult> {
  return runUpdatesAcross({ ...options, urls: [options.url], targets: [{ key: options.key, set: options.set, invoices: options.invoices }] });
}

/**
 * The update load spread over several tenants (each request picks a random target, then a random
 * invoice of it) and over several server processes (autocannon assigns connections to the URLs
 * round-robin, so use a multiple of their count).
 */
export async function runUpdatesAcross(options: {
  urls: string[];
  targets: UpdateTarget[];
  connections: number;
  durationSec: number;
  linesToChange: number;
  headerField: boolean;
  etags: EtagMap;
}): Promise<LoadResult> {
  const { etags, targets } = options;
  const counters = { ok: 0, precondition: 0, other: 0, firstFailure: undefined as string | undefined };
  let sequence = 0;
  // Requests sent and not answered: when the run ends autocannon drops them unanswered, yet the
  // server may still apply them, so afterwards their invoices' versions are re-read (below).
  const unanswered = new Map<string, { key: string; pending: number }>(); // invoice id → its key, requests in flight
  const result = await autocannon({
    // autocannon accepts several URLs (its types say one).
    url: (options.urls.length === 1 ? options.urls[0] : options.urls) as string,
    connections: options.connections,
    duration: options.durationSec,
    requests: [
      {
        method: 'PATCH',
        setupRequest: (request, context) => {
          const target = targets[targets.length === 1 ? 0 : randomInt(0, targets.length - 1)];
          const set = target.set;
          const n = randomInt(1, target.invoices ?? set.count);
          const id = invoiceIdFor(set.tag, n);
          (context as { id?: string }).id = id;
          unanswered.set(id, { key: target.key, pending: (unanswered.get(id)?.pending ?? 0) + 1 });
          sequence += 1;
          const body: Record<string, unknown> = {
            line_operations: pickPositions(set.linesPerInvoice, options.linesToChange).map((position) => ({
              op: 'update',
              id: lineIdFor(set.tag, n, position),
              quantity: `${randomInt(1, 999)}.${randomInt(0, 9)}`,
            })),
          };
          if (options.headerField) body.memo = `bench update ${sequence}`;
          return {
            ...request,
            method: 'PATCH',
            path: `/v1/invoices/${id}`,
            headers: {
              authorization: `Bearer ${target.key}`,
              'content-type': 'application/json',
              'if-match': `"${etags.get(id) ?? 1}"`,
            },
            body: JSON.stringify(body),
          };
        },
        onResponse: (status, body, context, headers) => {
          const id = (context as { id: string }).id;
          const inFlight = unanswered.get(id);
          if (inFlight && --inFlight.pending === 0) unanswered.delete(id);
          const etag = headerValue(headers, 'etag');
          if (etag) etags.set(id, Number(etag.replace(/"/g, '')));
          if (status >= 200 && status < 300) counters.ok += 1;
          else if (status === 412) counters.precondition += 1;
          else {
            counters.other += 1;
            counters.firstFailure ??= `${status} ${String(body).slice(0, 300)}`;
          }
        },
      },
    ],
  });
  await refreshVersions(options.urls[0], unanswered, etags);
  return summarise(result, options.connections, options.durationSec, counters);
}

/** Re-reads the version of invoices whose last request went unanswered (after the run: not measured). */
async function refreshVersions(url: string, unanswered: Map<string, { key: string }>, etags: EtagMap): Promise<void> {
  // Let the dropped requests finish on the server first.
  await new Promise((resolve) => setTimeout(resolve, 200));
  for (const [id, { key }] of unanswered) {
    const response = await fetch(`${url}/v1/invoices/${id}`, { headers: { authorization: `Bearer ${key}` } });
    const etag = response.headers.get('etag');
    await response.arrayBuffer();
    if (etag) etags.set(id, Number(etag.replace(/"/g, '')));
  }
}

/** GETs random invoices of `set` (or a fixed path) for durationSec. */
export async function runReads(options: { url: string; key?: string; connections: number; durationSec: number; set?: InvoiceSet; path?: string }): Promise<LoadResult> {
  const counters = { ok: 0, precondition: 0, other: 0, firstFailure: undefined as string | undefined };
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSec,
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => ({
          ...request,
          method: 'GET',
          path: options.set ? `/v1/invoices/${invoiceIdFor(options.set.tag, randomInt(1, options.set.count))}` : options.path!,
          headers: options.key ? { authorization: `Bearer ${options.key}` } : {},
        }),
        onResponse: (status, body) => {
          if (status >= 200 && status < 300) counters.ok += 1;
          else {
            counters.other += 1;
            counters.firstFailure ??= `${status} ${String(body).slice(0, 300)}`;
          }
        },
      },
    ],
  });
  return summarise(result, options.connections, options.durationSec, counters);
}

function headerValue(headers: Record<string, string | string[] | undefined> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

/** Fails loudly when a run produced errors other than the expected 412s: figures from a broken run are worthless. */
export function assertHealthy(label: string, result: LoadResult): void {
  if (result.ok === 0 || result.otherNon2xx > 0 || result.socketErrors > 0) {
    throw new Error(`${label}: ${result.ok} ok, ${result.otherNon2xx} unexpected answers, ${result.socketErrors} socket errors; first: ${result.firstFailure ?? '-'}`);
  }
}

/**
 * The update benchmark's series against a running server: verify a seeded invoice, warm up,
 * then one measured run per connection count with the server's RSS sampled.
 */
export async function runUpdateSeries(options: {
  server: { url: string; pid: number };
  key: string;
  set: InvoiceSet;
  connectionsList: number[];
  durationSec: number;
  warmUpSec: number;
  label: string;
}): Promise<(LoadResult & { rssMaxMb: number; serverCpuMsPerUpdate: number })[]> {
  const { server, key, set } = options;
  const etags: EtagMap = new Map();
  await verifySeededInvoice(server.url, key, set, etags);
  await runUpdates({ url: server.url, key, set, connections: 4, durationSec: options.warmUpSec, linesToChange: 3, headerField: true, etags });
  const series: (LoadResult & { rssMaxMb: number; serverCpuMsPerUpdate: number })[] = [];
  for (const connections of options.connectionsList) {
    const rss = sampleRss(server.pid);
    const result = await runUpdates({ url: server.url, key, set, connections, durationSec: options.durationSec, linesToChange: 3, headerField: true, etags });
    const memory = rss.stop();
    assertHealthy(`${options.label} update at ${connections} connections`, result);
    // The server's own CPU time per answered request: what each update costs in the Node.js process.
    const serverCpuMsPerUpdate = round(memory.cpuMs / Math.max(1, result.ok + result.preconditionFailed), 2);
    series.push({ ...result, rssMaxMb: memory.maxMb, serverCpuMsPerUpdate });
    console.log(`${options.label} c=${connections}: ${result.perSec}/s p50 ${result.p50Ms} ms p99 ${result.p99Ms} ms, 412s ${result.preconditionFailed}, RSS max ${memory.maxMb} MB, server CPU ${serverCpuMsPerUpdate} ms/update`);
  }
  return series;
}

/** The Folio columns of an update table row. */
export function updateSeriesColumns(result: Awaited<ReturnType<typeof runUpdateSeries>>[number]) {
  return {
    connections: result.connections,
    'folio upd/s': result.perSec,
    'folio p50 ms': result.p50Ms,
    'folio p99 ms': result.p99Ms,
    '412s': result.preconditionFailed,
    'RSS max MB': result.rssMaxMb,
    'server CPU ms/upd': result.serverCpuMsPerUpdate,
  };
}

/**
 * PATCHes every invoice of every target once (the memo, with If-Match; `concurrency` at a time),
 * so a server's in-process write bases hold them all: what follows measures the steady state of a
 * server that has been running, not its first touch of each invoice (the locked path, which
 * bench:ab measures with FOLIO_WRITE_BASE_CACHE_LINES=0). Not measured.
 */
export async function touchEveryInvoice(url: string, targets: UpdateTarget[], etags: EtagMap, concurrency = 8): Promise<number> {
  const work = targets.flatMap((target) => Array.from({ length: target.invoices ?? target.set.count }, (_, index) => ({ key: target.key, id: invoiceIdFor(target.set.tag, index + 1) })));
  let next = 0;
  let touched = 0;
  const worker = async () => {
    while (next < work.length) {
      const { key, id } = work[next++];
      const response = await fetch(`${url}/v1/invoices/${id}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'if-match': `"${etags.get(id) ?? 1}"` },
        body: JSON.stringify({ memo: `warm ${id}` }),
      });
      const etag = response.headers.get('etag');
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`touching ${id}: ${response.status}`);
      if (etag) etags.set(id, Number(etag.replace(/"/g, '')));
      touched += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return touched;
}
