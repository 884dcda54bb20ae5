// Invoices built in memory with the real totals engine, for the pure renderers' tests and the bench.
import { crc32, deflateSync } from 'node:zlib';
import { Dec, formatAmount, formatDecimal, type RoundingMode } from '../../src/shared/money.js';
import { blankPlainTextHeader } from '../../src/shared/invoice-fields.js';
import type { Invoice, InvoiceLine } from '../../src/modules/invoices/domain/model.js';
import { computeTotals, type TaxMode } from '../../src/modules/invoices/domain/totals.js';
import { emptySeller, type DocumentParty } from '../../src/modules/documents/seller.js';

export interface FixtureLine {
  description: string;
  quantity: string;
  unitPrice: string;
  taxRate: string | null;
  discount?: { type: 'percent' | 'amount'; value: string } | null;
  unit?: string | null;
}

export interface FixtureOptions {
  currency?: string;
  taxMode?: TaxMode;
  roundingMode?: RoundingMode;
  status?: Invoice['status'];
  number?: string | null;
  reference?: string | null;
  amountPaid?: string;
  lines: FixtureLine[];
}

export function buildInvoice(options: FixtureOptions): Invoice {
  const currency = options.currency ?? 'EUR';
  const taxMode = options.taxMode ?? 'exclusive';
  const roundingMode = options.roundingMode ?? 'half_up';
  const totals = computeTotals({
    currency,
    taxMode,
    roundingMode,
    lines: options.lines.map((line, index) => ({
      id: String(index),
      quantity: new Dec(line.quantity),
      unitPrice: new Dec(line.unitPrice),
      discount: line.discount ? { type: line.discount.type, value: new Dec(line.discount.value) } : null,
      taxRate: line.taxRate === null ? null : new Dec(line.taxRate),
    })),
  });
  const money = (value: Dec) => formatAmount(value, currency);
  const lines: InvoiceLine[] = options.lines.map((line, index) => {
    const amounts = totals.lines[index]!;
    return {
      id: `lin_${index}`,
      guid: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
      position: index,
      parent_line_id: null,
      description: line.description,
      quantity: line.quantity,
      unit: line.unit ?? null,
      unit_price: line.unitPrice,
      discount: line.discount ?? null,
      tax_rate: line.taxRate,
      tax_code: null,
      account_code: null,
      item_code: null,
      tracking: null,
      amount_before_discount: money(amounts.amountBeforeDiscount),
      discount_amount: money(amounts.discountAmount),
      net_amount: money(amounts.netAmount),
      tax_amount: money(amounts.taxAmount),
      gross_amount: money(amounts.grossAmount),
    };
  });
  const status = options.status ?? 'open';
  const amountPaid = options.amountPaid ?? money(new Dec(0));
  return {
    id: 'inv_fixture',
    guid: '00000000-0000-4000-8000-00000000f1c5',
    serial: 42,
    object: 'invoice',
    number: options.number === undefined ? (status === 'draft' ? null : 'INV-000042') : options.number,
    ...blankPlainTextHeader(),
    reference: options.reference ?? null,
    purchase_order: 'PO-7',
    status,
    currency,
    exchange_rate: null,
    issue_date: status === 'draft' ? null : '2026-03-01',
    due_date: '2026-03-31',
    payment_terms: { net_days: 30 },
    memo: 'Thank you for your business. Kiitos! Tack så mycket – ø, Ł, €.',
    internal_note: null,
    metadata: {},
    custom_fields: {},
    external_refs: {},
    customer_id: null,
    bill_to: {
      name: 'Järvinen & Søn Łódź Oy',
      email: 'ap@example.fi',
      tax_id: 'FI87654321',
      address: { line1: 'Mannerheimintie 1', city: 'Helsinki', postal_code: '00100', country: 'FI' },
    },
    tax_mode: taxMode,
    rounding_mode: roundingMode,
    lines,
    attachments: [],
    subtotal: money(totals.subtotal),
    discount_total: money(totals.discountTotal),
    tax_total: money(totals.taxTotal),
    total: money(totals.total),
    tax_breakdown: totals.taxBreakdown.map((row) => ({ tax_rate: formatDecimal(row.rate), taxable_amount: money(row.taxableAmount), tax_amount: money(row.taxAmount) })),
    amount_paid: amountPaid,
    amount_credited: money(new Dec(0)),
    balance: money(totals.total.minus(amountPaid)),
    version: 3,
    created_at: '2026-02-27T10:00:00.000Z',
    updated_at: '2026-03-01T10:00:00.000Z',
    finalized_at: status === 'draft' ? null : '2026-03-01T10:00:00.000Z',
    voided_at: null,
    revision_of: null,
    revised_by: null,
  };
}

export const sampleParty: DocumentParty = {
  seller: {
    ...emptySeller,
    name: 'Folio Öy Äb',
    address: { line1: 'Aleksanterinkatu 5', city: 'Helsinki', postal_code: '00100', country: 'FI' },
    vat_id: 'FI12345678',
    business_id: '1234567-8',
    ovt: '003712345678',
    iban: 'FI21 1234 5600 0007 85',
    bic: 'NDEAFIHH',
    email: 'billing@folio.example',
  },
  logo: null,
};

/** An invoice of `count` lines at 24 % (and every third at 14 %), for multi-page and bench runs. */
export function longInvoice(count: number, extra: Partial<FixtureOptions> = {}): Invoice {
  return buildInvoice({
    lines: Array.from({ length: count }, (_, index) => ({
      description: `Line ${index + 1}: työtunnit`,
      quantity: String((index % 7) + 1),
      unitPrice: `${100 + (index % 13)}.${String(index % 100).padStart(2, '0')}`,
      taxRate: index % 3 === 0 ? '14' : '24',
      unit: 'h',
    })),
    ...extra,
  });
}

/** A real, decodable PNG (a blue square), for the logo. */
export function bluePng(sizePx = 8): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(sizePx, 0);
  header.writeUInt32BE(sizePx, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(sizePx * 3, Buffer.from([30, 60, 200]))]);
  const pixels = Buffer.concat(Array.from({ length: sizePx }, () => row));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(pixels)), chunk('IEND', Buffer.alloc(0))]);
}
