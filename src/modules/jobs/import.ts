import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import type { RequestContext } from '../../core/request-context.js';
import { AppError } from '../../shared/errors.js';
import { InvoiceWriteSchema, type InvoiceWrite } from '../invoices/schemas.js';
import type { InvoiceService } from '../invoices/service.js';
import { presentInvoice } from '../invoices/write-answer.js';
import { csvColumns, headerFromRow, invoiceFromJson, invoiceToRows, lineFromRow, RowError, rowKey, type CsvRow, type ImportedInvoice } from './domain/import-rows.js';

/**
 * `folio import invoices FILE` and `folio export invoices` (docs/bulk-jobs.md). The file is
 * streamed: one invoice's rows at a time are in memory. Each invoice is created or updated through
 * the invoice service (its own transaction, version, audit event and outbox event, like an API
 * call); a malformed row or a refused invoice is reported with its line number and the rest go on.
 */

export interface ImportProblem {
  line: number;
  key: string;
  problem: string;
}

export interface ImportReport {
  rows: number;
  invoices: number;
  created: number;
  updated: number;
  unchanged: number;
  refused: number;
  /** The first `maxReportedProblems` problems, in file order. */
  problems: ImportProblem[];
}

export const maxReportedProblems = 1_000;

const writeBody = TypeCompiler.Compile(InvoiceWriteSchema);

function checkBody(body: Record<string, unknown>): InvoiceWrite {
  if (writeBody.Check(body)) return body;
  const first = writeBody.Errors(body).First();
  throw new RowError(`${first?.path || '/'}: ${first?.message ?? 'invalid'}`);
}

const keyText = (key: ImportedInvoice['key']) => ('number' in key ? `number ${key.number}` : `reference ${key.reference}`);

export function createInvoiceImporter(deps: { invoices: InvoiceService; ctx: RequestContext; onProgress?: (report: ImportReport) => void }) {
  const { invoices, ctx } = deps;
  const report: ImportReport = { rows: 0, invoices: 0, created: 0, updated: 0, unchanged: 0, refused: 0, problems: [] };

  function refuse(line: number, key: string, problem: string) {
    report.refused++;
    if (report.problems.length < maxReportedProblems) report.problems.push({ line, key, problem });
  }

  /** Creates or updates one invoice (by number, else reference). */
  async function save(invoice: ImportedInvoice): Promise<void> {
    report.invoices++;
    try {
      const body = checkBody(invoice.body);
      const found = await invoices.list(ctx, { ...invoice.key, limit: 2 });
      if (found.data.length > 1) throw new RowError(`${keyText(invoice.key)} names several invoices`);
      if (found.data.length === 0) {
        await invoices.create(ctx, body);
        report.created++;
      } else {
        const result = await invoices.update(ctx, found.data[0].id, body, 'patch');
        if (result.written) report.updated++;
        else report.unchanged++;
      }
    } catch (error) {
      if (!(error instanceof RowError || error instanceof AppError)) throw error;
      const pointer = error instanceof AppError && error.errors?.[0] ? ` (${error.errors[0].pointer}: ${error.errors[0].detail})` : '';
      refuse(invoice.firstLine, keyText(invoice.key), `${error.message}${pointer}`);
    }
    if (report.invoices % 100 === 0) deps.onProgress?.(report);
  }

  return {
    report,

    /** CSV: one row per line, consecutive rows with the same number/reference are one invoice. */
    async importCsv(input: Readable): Promise<ImportReport> {
      const parser = input.pipe(
        parse({
          bom: true,
          columns: (header: string[]) => {
            const unknown = header.filter((column) => !(csvColumns as readonly string[]).includes(column));
            if (unknown.length > 0) throw new Error(`unknown CSV columns: ${unknown.join(', ')} (known: ${csvColumns.join(', ')})`);
            return header;
          },
          skip_empty_lines: true,
          skip_records_with_error: true,
          info: true,
        }),
      );
      // A row the CSV reader cannot read (wrong number of fields, broken quotes) is reported and skipped.
      parser.on('skip', (error: Error & { lines?: number }) => {
        report.rows++;
        refuse(error.lines ?? 0, '?', error.message);
      });
      let group: { key: string; invoice: ImportedInvoice; lines: Record<string, unknown>[]; broken?: ImportProblem } | undefined;
      const flush = async () => {
        if (!group) return;
        if (group.broken) {
          report.invoices++;
          refuse(group.broken.line, group.broken.key, group.broken.problem);
        } else {
          if (group.lines.length > 0) group.invoice.body.lines = group.lines;
          await save(group.invoice);
        }
        group = undefined;
      };
      for await (const { record, info } of parser as AsyncIterable<{ record: CsvRow; info: { lines: number } }>) {
        report.rows++;
        const line = info.lines;
        let key: string;
        try {
          key = rowKey(record);
        } catch (error) {
          refuse(line, '?', (error as Error).message);
          continue;
        }
        if (group?.key !== key) {
          await flush();
          const keyValue = key.startsWith('n:') ? { number: key.slice(2) } : { reference: key.slice(2) };
          group = { key, invoice: { key: keyValue, body: {}, firstLine: line }, lines: [] };
          try {
            group.invoice.body = headerFromRow(record);
          } catch (error) {
            group.broken = { line, key: keyText(keyValue), problem: (error as Error).message };
          }
        }
        try {
          const invoiceLine = lineFromRow(record);
          if (invoiceLine) group.lines.push(invoiceLine);
        } catch (error) {
          // A malformed line row refuses its invoice (an invoice missing a line would be wrong), reported at that row.
          group.broken ??= { line, key: keyText(group.invoice.key), problem: (error as Error).message };
        }
      }
      await flush();
      deps.onProgress?.(report);
      return report;
    },

    /** JSONL: one invoice per line, the API write body with its number or reference. */
    async importJsonl(input: Readable): Promise<ImportReport> {
      let lineNumber = 0;
      for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
        lineNumber++;
        if (text.trim() === '') continue;
        report.rows++;
        let invoice: ImportedInvoice;
        try {
          invoice = invoiceFromJson(JSON.parse(text), lineNumber);
        } catch (error) {
          report.invoices++;
          refuse(lineNumber, '?', error instanceof SyntaxError ? `not valid JSON: ${error.message}` : (error as Error).message);
          continue;
        }
        await save(invoice);
      }
      deps.onProgress?.(report);
      return report;
    },
  };
}

/** Streams every invoice of the tenant (oldest first) to `output`, as CSV rows or JSON lines. */
export async function exportInvoices(deps: { invoices: InvoiceService; ctx: RequestContext; format: 'csv' | 'jsonl'; output: Writable; today: string }): Promise<number> {
  const today = deps.today;
  const { invoices, ctx, output } = deps;
  const csv = deps.format === 'csv' ? stringify({ header: true, columns: [...csvColumns] }) : undefined;
  const csvDone = csv ? once(csv, 'end') : undefined;
  csv?.pipe(output, { end: false });
  const write = async (chunk: string) => {
    if (!output.write(chunk)) await new Promise((resolve) => output.once('drain', resolve));
  };
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await invoices.list(ctx, { sort: { field: 'created', descending: false }, limit: 100, cursor });
    for (const invoice of page.data) {
      count++;
      if (csv) {
        for (const row of invoiceToRows(invoice)) {
          if (!csv.write(row)) await new Promise((resolve) => csv.once('drain', resolve));
        }
      } else {
        await write(`${JSON.stringify(presentInvoice(invoice, today))}\n`);
      }
    }
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  if (csv) {
    csv.end();
    await csvDone;
  }
  return count;
}
