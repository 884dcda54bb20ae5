import { Dec, parseDecimalInput } from '../../../shared/money.js';
import { AppError, type FieldError } from '../../../shared/errors.js';
import type { Invoice, InvoiceLine } from './model.js';

/**
 * Figures a client (native or dialect) sends alongside a write are cross-checks, never stored:
 * each is compared exactly with what the server computed for the written invoice.
 */
export type InvoiceFigure = 'subtotal' | 'discount_total' | 'tax_total' | 'total' | 'balance' | 'amount_paid';
export type LineFigure = 'amount_before_discount' | 'discount_amount' | 'net_amount' | 'tax_amount' | 'gross_amount';

export type ClientTotalCheck =
  /** `pointer`: where the figure sits in the caller's request, in the caller's own field names. */
  | { pointer: string; sent: string | number; figure: InvoiceFigure }
  /** `line`: the 0-based place of the line in the written invoice, or its id. */
  | { pointer: string; sent: string | number; line: number | string; figure: LineFigure };

const sentLimits = { maxIntegerDigits: 15, maxFractionDigits: 10 };

function lineOf(invoice: Invoice, line: number | string): InvoiceLine | undefined {
  return typeof line === 'number' ? invoice.lines[line] : invoice.lines.find((candidate) => candidate.id === line);
}

/** The field errors of every sent figure that differs from the server's (empty when all agree). */
export function clientTotalMismatches(invoice: Invoice, checks: readonly ClientTotalCheck[]): FieldError[] {
  const mismatches: FieldError[] = [];
  for (const check of checks) {
    const serverFigure = 'line' in check ? lineOf(invoice, check.line)?.[check.figure] : invoice[check.figure];
    if (serverFigure === undefined) continue;
    const parsed = parseDecimalInput(check.sent, sentLimits);
    if ('error' in parsed || !parsed.eq(new Dec(serverFigure))) {
      mismatches.push({ pointer: check.pointer, detail: `server computes ${serverFigure}`, expected: serverFigure });
    }
  }
  return mismatches;
}

/** Throws the 422 `total-mismatch` problem naming each differing field and the server's figure. */
export function assertClientTotals(invoice: Invoice, checks: readonly ClientTotalCheck[] | undefined): void {
  if (!checks || checks.length === 0) return;
  const mismatches = clientTotalMismatches(invoice, checks);
  if (mismatches.length === 0) return;
  const first = mismatches[0];
  throw new AppError('total-mismatch', `${first.pointer} differs: ${first.detail}.`, { errors: mismatches });
}
