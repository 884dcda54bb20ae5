/**
 * bench:documents — documents rendered per second by the pure renderers (one core, in process):
 * PDF, UBL and Finvoice of a 10-line and a 1,000-line invoice, by wall time and by CPU time (the
 * latter holds on a busy machine). The HTTP route adds one invoice read (plus the history replay
 * for an earlier version) and serves repeats from the blob store cache. See bench/README.md.
 */
import { renderDocument } from '../src/modules/documents/render.js';
import type { DocumentFormat } from '../src/modules/documents/schemas.js';
import { invoiceSource } from '../src/modules/documents/source.js';
import { longInvoice, sampleParty } from '../test/helpers/document-fixtures.js';
import { intSetting, printTable, round, runMain, writeResults } from './lib/common.js';

runMain(async () => {
  const durationMs = intSetting('BENCH_DURATION', 10, 1) * 1000;
  const sizes = [10, intSetting('BENCH_DOCUMENT_LINES', 1000, 50)];
  const formats: DocumentFormat[] = ['pdf', 'ubl', 'finvoice'];
  console.log(`bench:documents — ${formats.join(', ')} of ${sizes.join(' and ')}-line invoices, ${durationMs / 1000} s each`);

  const rows: Record<string, unknown>[] = [];
  for (const lines of sizes) {
    const source = invoiceSource(longInvoice(lines));
    for (const format of formats) {
      await renderDocument(format, source, sampleParty); // warm-up: fonts, JIT
      const timesMs: number[] = [];
      let bytes = 0;
      const startedAt = performance.now();
      const cpuBefore = process.cpuUsage();
      while (performance.now() - startedAt < durationMs) {
        const before = performance.now();
        bytes = (await renderDocument(format, source, sampleParty)).length;
        timesMs.push(performance.now() - before);
      }
      const seconds = (performance.now() - startedAt) / 1000;
      const cpu = process.cpuUsage(cpuBefore);
      // CPU time is what one render costs whatever else the machine runs; wall time is what a caller waits.
      const cpuMsPerDocument = (cpu.user + cpu.system) / 1000 / timesMs.length;
      timesMs.sort((a, b) => a - b);
      rows.push({
        format,
        lines,
        documents_per_s: round(timesMs.length / seconds, 1),
        documents_per_cpu_s: round(1000 / cpuMsPerDocument, 1),
        cpu_ms: round(cpuMsPerDocument, 1),
        p50_ms: round(timesMs[Math.floor(timesMs.length / 2)]!, 1),
        p99_ms: round(timesMs[Math.min(timesMs.length - 1, Math.floor(timesMs.length * 0.99))]!, 1),
        size_kb: round(bytes / 1024, 1),
        renders: timesMs.length,
      });
    }
  }
  printTable('Documents per second (one core, in process)', rows);
  writeResults('documents', { durationMs, sizes, rows });
});
