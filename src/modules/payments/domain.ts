import { currencyMinorUnits, Dec, formatAmount, parseDecimalInput } from '../../shared/money.js';
import { AppError, editNotAllowed } from '../../shared/errors.js';

export type PaymentStatus = 'succeeded' | 'partially_refunded' | 'refunded';

export interface Payment {
  id: string;
  object: 'payment';
  invoice_id: string;
  amount: string;
  refunded_amount: string;
  /** amount − refunded_amount: what this payment still contributes to amount_paid. */
  net_amount: string;
  currency: string;
  date: string;
  method: string;
  reference: string | null;
  status: PaymentStatus;
  created_at: string;
  updated_at: string;
}

/** Reads a positive amount exactly, in the invoice currency's minor units at most. */
export function parsePaymentAmount(input: string | number, currency: string, pointer: string): Dec {
  const minor = currencyMinorUnits(currency);
  const parsed = parseDecimalInput(input, { maxIntegerDigits: 13, maxFractionDigits: minor });
  if ('error' in parsed) {
    throw new AppError('validation-error', `The amount is not valid: ${parsed.error} (${currency} has ${minor} decimal places).`, { errors: [{ pointer, detail: parsed.error }] });
  }
  if (parsed.lte(0)) throw new AppError('validation-error', 'The amount must be greater than 0.', { errors: [{ pointer, detail: 'must be greater than 0' }] });
  return parsed;
}

export function assertNoOverpayment(amount: Dec, balance: Dec, currency: string): void {
  if (amount.gt(balance)) {
    throw editNotAllowed('overpayment', `The payment of ${formatAmount(amount, currency)} exceeds the balance of ${formatAmount(balance, currency)}.`, [
      { pointer: '/amount', detail: `at most ${formatAmount(Dec.max(balance, 0), currency)}` },
    ]);
  }
}

/** A refund of `amount` (default: all that is left of the payment). */
export function refunded(payment: Payment, amount: Dec | undefined, now: string): { payment: Payment; amount: Dec } {
  const left = new Dec(payment.amount).minus(payment.refunded_amount);
  const refund = amount ?? left;
  if (left.lte(0) || refund.gt(left)) {
    throw editNotAllowed('refund-exceeds-payment', `Only ${formatAmount(left, payment.currency)} of payment ${payment.id} is left to refund.`, [
      { pointer: '/amount', detail: `at most ${formatAmount(left, payment.currency)}` },
    ]);
  }
  const refundedTotal = new Dec(payment.refunded_amount).plus(refund);
  const net = new Dec(payment.amount).minus(refundedTotal);
  return {
    amount: refund,
    payment: {
      ...payment,
      refunded_amount: formatAmount(refundedTotal, payment.currency),
      net_amount: formatAmount(net, payment.currency),
      status: net.isZero() ? 'refunded' : 'partially_refunded',
      updated_at: now,
    },
  };
}
