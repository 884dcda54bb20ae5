/**
 * The raw SQLite side of bench:issue18, in its own process (as the Folio server is): the minimal
 * durable transaction for the benchmark's change (bench/lib/raw-sqlite.ts) in a writer loop, no HTTP.
 * Started with fork(); each message { file, tenantId, tag, count, linesPerInvoice, linesToChange,
 * durationSec } runs one slice and answers its figures, including this process's CPU time.
 */
import { openRawSqlite } from './raw-sqlite.js';
import { invoiceIdFor, lineIdFor } from './seed.js';

export interface RawSqliteSlice {
  file: string;
  tenantId: string;
  tag: string;
  count: number;
  linesPerInvoice: number;
  linesToChange: number;
  durationSec: number;
}

export interface RawSqliteResult {
  transactions: number;
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  cpuMs: number;
}

const round = (value: number, places = 2) => Math.round(value * 10 ** places) / 10 ** places;
let open: { file: string; run: (slice: RawSqliteSlice) => RawSqliteResult } | undefined;

function prepare(file: string) {
  const raw = openRawSqlite(file);
  let sequence = 0;
  const eventIdPrefix = `evt_r${process.pid.toString(36).padStart(5, '0').slice(-5)}`;
  const run = (slice: RawSqliteSlice): RawSqliteResult => {
    const cpuAtStart = process.cpuUsage();
    const latenciesMs: number[] = [];
    const endAt = performance.now() + slice.durationSec * 1000;
    const part = Math.floor(slice.linesPerInvoice / slice.linesToChange);
    while (performance.now() < endAt) {
      const started = performance.now();
      sequence += 1;
      const n = 1 + Math.floor(Math.random() * slice.count);
      const id = invoiceIdFor(slice.tag, n);
      const lines = Array.from({ length: slice.linesToChange }, (_, i) => ({
        id: lineIdFor(slice.tag, n, i * part + 1 + Math.floor(Math.random() * part)),
        quantity: 1 + Math.floor(Math.random() * 999),
      }));
      raw.update(slice.tenantId, id, lines, `raw ${sequence}`, eventIdPrefix + String(sequence).padStart(20, '0'));
      latenciesMs.push(performance.now() - started);
    }
    const cpu = process.cpuUsage(cpuAtStart);
    latenciesMs.sort((a, b) => a - b);
    const percentile = (p: number) => round(latenciesMs[Math.min(latenciesMs.length - 1, Math.floor((p / 100) * latenciesMs.length))], 2);
    return { transactions: latenciesMs.length, perSec: round(latenciesMs.length / slice.durationSec, 1), p50Ms: percentile(50), p99Ms: percentile(99), cpuMs: round((cpu.user + cpu.system) / 1000, 1) };
  };
  return { file, run };
}

process.on('message', (slice: RawSqliteSlice) => {
  try {
    if (open?.file !== slice.file) open = prepare(slice.file);
    process.send!({ ok: true, result: open.run(slice) });
  } catch (error) {
    process.send!({ ok: false, error: String((error as Error).stack ?? error) });
  }
});
