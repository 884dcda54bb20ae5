import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import {
  Dec,
  NO_MINOR_UNIT_CODES,
  currencyMinorUnits,
  formatAmount,
  formatDecimal,
  isCurrencyCode,
  parseDecimalInput,
  roundToCurrency,
  type RoundingMode,
} from '../../src/shared/money.js';
import {
  computeTotals,
  type Discount,
  type InvoiceTotals,
  type TaxMode,
  type TotalsLineInput,
} from '../../src/modules/invoices/domain/totals.js';

const d = (s: string): Dec => new Dec(s);

function line(
  id: string,
  quantity: string,
  unitPrice: string,
  taxRate: string | null,
  discount: { percent: string } | { amount: string } | null = null,
): TotalsLineInput {
  let disc: Discount | null = null;
  if (discount && 'percent' in discount) disc = { type: 'percent', value: d(discount.percent) };
  if (discount && 'amount' in discount) disc = { type: 'amount', value: d(discount.amount) };
  return { id, quantity: d(quantity), unitPrice: d(unitPrice), discount: disc, taxRate: taxRate === null ? null : d(taxRate) };
}

/** Every figure as the string a client would see, so expectations read like an invoice. */
function printed(t: InvoiceTotals, currency: string) {
  const f = (x: Dec) => formatAmount(x, currency);
  return {
    lines: t.lines.map((l) => [l.id, f(l.amountBeforeDiscount), f(l.discountAmount), f(l.netAmount), f(l.taxAmount), f(l.grossAmount)]),
    subtotal: f(t.subtotal),
    discountTotal: f(t.discountTotal),
    taxTotal: f(t.taxTotal),
    total: f(t.total),
    breakdown: t.taxBreakdown.map((r) => [formatDecimal(r.rate), f(r.taxableAmount), f(r.taxAmount)]),
  };
}

describe('currencies', () => {
  test('minor units from ISO 4217', () => {
    const expected: Record<string, number> = { JPY: 0, USD: 2, EUR: 2, KWD: 3, BHD: 3, CLF: 4, UYW: 4, UYI: 0 };
    for (const [code, digits] of Object.entries(expected)) assert.equal(currencyMinorUnits(code), digits, code);
  });

  test('codes whose ISO minor unit is "N.A." and unknown codes are refused', () => {
    for (const code of ['XAU', 'XDR', 'XXX', 'XTS', 'ABC', 'usd', 'US', '']) {
      assert.equal(isCurrencyCode(code), false, code);
      assert.throws(() => currencyMinorUnits(code), RangeError, code);
    }
    assert.equal(isCurrencyCode('USD'), true);
  });

  test('the N.A. list matches the ISO XML bundled with currency-codes', () => {
    // currency-codes turns "N.A." into digits 0, so the only source of truth is its raw XML.
    const xmlPath = createRequire(import.meta.url).resolve('currency-codes/iso-4217-list-one.xml');
    const xml = readFileSync(xmlPath, 'utf8');
    const na = new Set([...xml.matchAll(/<Ccy>(\w+)<\/Ccy>\s*<CcyNbr>\d+<\/CcyNbr>\s*<CcyMnrUnts>N\.A\.<\/CcyMnrUnts>/g)].map((m) => m[1]!));
    assert.deepEqual([...na].sort(), [...NO_MINOR_UNIT_CODES].sort());
  });
});

describe('rounding and formatting', () => {
  test('ties by mode', () => {
    const cases: [string, RoundingMode, string][] = [
      ['0.125', 'half_up', '0.13'], ['0.125', 'half_even', '0.12'], ['0.125', 'half_down', '0.12'],
      ['0.135', 'half_even', '0.14'], ['0.121', 'up', '0.13'], ['0.129', 'down', '0.12'],
      ['-0.125', 'half_up', '-0.13'], ['-0.125', 'half_even', '-0.12'], ['-0.121', 'up', '-0.13'], ['-0.129', 'down', '-0.12'],
    ];
    for (const [x, mode, want] of cases) assert.equal(formatAmount(roundToCurrency(d(x), 'USD', mode), 'USD'), want, `${x} ${mode}`);
    assert.equal(formatAmount(roundToCurrency(d('1000.5'), 'JPY', 'half_even'), 'JPY'), '1000');
    assert.equal(formatAmount(roundToCurrency(d('1.00005'), 'CLF', 'half_up'), 'CLF'), '1.0001');
  });

  test('formatAmount', () => {
    assert.equal(formatAmount(d('1234.5'), 'USD'), '1234.50');
    assert.equal(formatAmount(d('-3'), 'KWD'), '-3.000');
    assert.equal(formatAmount(d('100'), 'JPY'), '100');
    assert.equal(formatAmount(d('-0.00'), 'USD'), '0.00');
    assert.equal(formatAmount(d('-0'), 'JPY'), '0');
    assert.equal(formatAmount(roundToCurrency(d('-0.001'), 'USD', 'half_up'), 'USD'), '0.00');
    assert.equal(formatAmount(d('1e21'), 'USD'), '1000000000000000000000.00');
    assert.equal(formatAmount(d('1e-4'), 'CLF'), '0.0001');
    assert.throws(() => formatAmount(d('1.005'), 'USD'), RangeError); // must be rounded first
  });

  test('formatDecimal', () => {
    assert.equal(formatDecimal(d('1.50')), '1.5');
    assert.equal(formatDecimal(d('2.000')), '2');
    assert.equal(formatDecimal(d('0.0001')), '0.0001');
    assert.equal(formatDecimal(d('1e-7')), '0.0000001');
    assert.equal(formatDecimal(d('1e21')), '1000000000000000000000');
    assert.equal(formatDecimal(d('-0')), '0');
  });
});

describe('parseDecimalInput', () => {
  const ok = (input: string | number, want: string) => {
    const r = parseDecimalInput(input);
    assert.ok(r instanceof Dec, `${String(input)}: ${JSON.stringify(r)}`);
    assert.equal(formatDecimal(r), want);
  };
  const refused = (input: string | number) => {
    const r = parseDecimalInput(input);
    assert.ok(!(r instanceof Dec) && typeof r.error === 'string' && r.error.length > 0, String(input));
  };

  test('accepts', () => {
    ok('12.50', '12.5');
    ok(12.5, '12.5');
    ok('1e2', '100');
    ok('1E-2', '0.01');
    ok('+5', '5');
    ok('-0', '0');
    ok('1.5000000000000', '1.5'); // trailing zeros are not significant
    ok('999999999999999', '999999999999999'); // 15 integer digits
    ok('0.0000000001', '0.0000000001'); // 10 fractional digits
    ok(0.1, '0.1'); // String(0.1) === "0.1", not the binary expansion
    ok('000123.4', '123.4');
  });

  test('refuses', () => {
    for (const bad of ['NaN', 'Infinity', '-Infinity', '', ' 1', '1 ', '0x10', '1e999999999', '1e-101', '.5', '1.', '1,5', '--1', '1e', '١٢'])
      refused(bad);
    refused('1234567890123456'); // 16 integer digits
    refused('0.12345678901'); // 11 fractional digits
    refused('1e15'); // 16 integer digits after the exponent
    refused(NaN);
    refused(Infinity);
    refused(0.1 + 0.2); // 0.30000000000000004
    refused(1e21);
  });

  test('custom limits', () => {
    assert.ok(parseDecimalInput('1.234', { maxFractionDigits: 2 }) instanceof Dec === false);
    assert.ok(parseDecimalInput('123', { maxIntegerDigits: 3 }) instanceof Dec);
    assert.ok(parseDecimalInput('1234', { maxIntegerDigits: 3 }) instanceof Dec === false);
  });
});

describe('computeTotals — worked examples', () => {
  test('USD exclusive: percent and amount discounts, null rate, several rates', () => {
    const t = computeTotals({
      currency: 'USD', taxMode: 'exclusive', roundingMode: 'half_up',
      lines: [
        line('a', '3', '19.99', '20', { percent: '10' }), // 59.97 − 5.997 = 53.973 → 53.97; tax 10.794 → 10.79
        line('b', '1', '100', '20', { amount: '15' }), // 85.00; tax 17.00
        line('c', '2.5', '4.10', null), // 10.25, no tax
        line('d', '1', '0.5', '5.5'), // tax 0.0275 → 0.03
      ],
    });
    assert.deepEqual(printed(t, 'USD'), {
      lines: [
        ['a', '59.97', '6.00', '53.97', '10.79', '64.76'],
        ['b', '100.00', '15.00', '85.00', '17.00', '102.00'],
        ['c', '10.25', '0.00', '10.25', '0.00', '10.25'],
        ['d', '0.50', '0.00', '0.50', '0.03', '0.53'],
      ],
      subtotal: '149.72', discountTotal: '21.00', taxTotal: '27.82', total: '177.54',
      breakdown: [['0', '10.25', '0.00'], ['5.5', '0.50', '0.03'], ['20', '138.97', '27.79']],
    });
  });

  test('inclusive vs exclusive for the same line', () => {
    const lines = [line('a', '1', '120', '20')];
    const ex = printed(computeTotals({ currency: 'USD', taxMode: 'exclusive', roundingMode: 'half_up', lines }), 'USD');
    const inc = printed(computeTotals({ currency: 'USD', taxMode: 'inclusive', roundingMode: 'half_up', lines }), 'USD');
    assert.deepEqual(ex.lines, [['a', '120.00', '0.00', '120.00', '24.00', '144.00']]);
    assert.deepEqual(inc.lines, [['a', '120.00', '0.00', '100.00', '20.00', '120.00']]);
  });

  test('USD inclusive with a percent discount', () => {
    // 119.98 − 11.998 = 107.982 → 107.98 gross; tax 107.98 × 20/120 = 17.9966… → 18.00
    const t = computeTotals({ currency: 'USD', taxMode: 'inclusive', roundingMode: 'half_up', lines: [line('a', '2', '59.99', '20', { percent: '10' })] });
    assert.deepEqual(printed(t, 'USD').lines, [['a', '119.98', '12.00', '89.98', '18.00', '107.98']]);
    assert.equal(formatAmount(t.total, 'USD'), '107.98');
  });

  test('half_up vs half_even on a 0.125 line', () => {
    const lines = [line('a', '1', '0.125', null)];
    const up = computeTotals({ currency: 'USD', taxMode: 'exclusive', roundingMode: 'half_up', lines });
    const even = computeTotals({ currency: 'USD', taxMode: 'exclusive', roundingMode: 'half_even', lines });
    assert.equal(formatAmount(up.total, 'USD'), '0.13');
    assert.equal(formatAmount(even.total, 'USD'), '0.12');
  });

  test('JPY (0 digits)', () => {
    const ex = computeTotals({ currency: 'JPY', taxMode: 'exclusive', roundingMode: 'half_even', lines: [line('a', '3', '333.5', '10')] });
    assert.deepEqual(printed(ex, 'JPY').lines, [['a', '1000', '0', '1000', '100', '1100']]); // 1000.5 → 1000 (even)
    const inc = computeTotals({ currency: 'JPY', taxMode: 'inclusive', roundingMode: 'half_up', lines: [line('a', '1', '1100', '10')] });
    assert.deepEqual(printed(inc, 'JPY').lines, [['a', '1100', '0', '1000', '100', '1100']]);
  });

  test('KWD (3 digits)', () => {
    const up = computeTotals({ currency: 'KWD', taxMode: 'exclusive', roundingMode: 'half_up', lines: [line('a', '1', '1.2345', '5')] });
    assert.deepEqual(printed(up, 'KWD').lines, [['a', '1.235', '0.000', '1.235', '0.062', '1.297']]); // tax 0.06175 → 0.062
    const even = computeTotals({ currency: 'KWD', taxMode: 'exclusive', roundingMode: 'half_even', lines: [line('a', '1', '1.2345', '5')] });
    assert.deepEqual(printed(even, 'KWD').lines, [['a', '1.234', '0.000', '1.234', '0.062', '1.296']]); // tax 0.0617 → 0.062
  });

  test('CLF (4 digits) inclusive', () => {
    // 3 × 0.33335 = 1.00005 → 1.0001; tax 1.0001 / 6 = 0.166683… → 0.1667
    const t = computeTotals({ currency: 'CLF', taxMode: 'inclusive', roundingMode: 'half_up', lines: [line('a', '3', '0.33335', '20')] });
    assert.deepEqual(printed(t, 'CLF').lines, [['a', '1.0001', '0.0000', '0.8334', '0.1667', '1.0001']]);
  });

  test('credit lines: negative quantities, amount discount reduces the magnitude', () => {
    const t = computeTotals({
      currency: 'USD', taxMode: 'exclusive', roundingMode: 'half_up',
      lines: [
        line('inv', '1', '100', '20'),
        line('credit', '-1', '49.99', '20', { amount: '5' }), // −49.99 + 5 = −44.99; tax −8.998 → −9.00
        line('tie', '-1', '0.125', null), // −0.125 → −0.13 (ties away from zero)
      ],
    });
    assert.deepEqual(printed(t, 'USD'), {
      lines: [
        ['inv', '100.00', '0.00', '100.00', '20.00', '120.00'],
        ['credit', '-49.99', '-5.00', '-44.99', '-9.00', '-53.99'],
        ['tie', '-0.13', '0.00', '-0.13', '0.00', '-0.13'],
      ],
      subtotal: '54.88', discountTotal: '-5.00', taxTotal: '11.00', total: '65.88',
      breakdown: [['0', '-0.13', '0.00'], ['20', '55.01', '11.00']],
    });
  });

  test('empty invoice and unknown currency', () => {
    const t = computeTotals({ currency: 'EUR', taxMode: 'exclusive', roundingMode: 'half_up', lines: [] });
    assert.deepEqual(printed(t, 'EUR'), { lines: [], subtotal: '0.00', discountTotal: '0.00', taxTotal: '0.00', total: '0.00', breakdown: [] });
    assert.throws(() => computeTotals({ currency: 'XAU', taxMode: 'exclusive', roundingMode: 'half_up', lines: [] }), RangeError);
  });
});

// ---------------------------------------------------------------------------------------------
// Property test against an independent reference written with BigInt on scaled integers.
// A generated decimal is { n, s } meaning n / 10^s; amounts in the reference are integers of
// minor units; every division is an exact rational rounded once by `roundRatio`.

type Fixed = { n: bigint; s: number };
type Ratio = { num: bigint; den: bigint }; // den > 0

const pow10 = (k: number): bigint => 10n ** BigInt(k);
const toDec = (x: Fixed): Dec => new Dec(`${x.n}e-${x.s}`);
const sub = (a: Ratio, b: Ratio): Ratio => ({ num: a.num * b.den - b.num * a.den, den: a.den * b.den });

/** num / den rounded to an integer under `mode`. */
function roundRatio(num: bigint, den: bigint, mode: RoundingMode): bigint {
  if (den < 0n) [num, den] = [-num, -den];
  const q = num / den; // BigInt division truncates toward zero
  const r = num % den;
  if (r === 0n) return q;
  const twice = 2n * (r < 0n ? -r : r);
  const away = {
    down: false,
    up: true,
    half_up: twice >= den,
    half_down: twice > den,
    half_even: twice > den || (twice === den && q % 2n !== 0n),
  }[mode];
  return away ? q + (num < 0n ? -1n : 1n) : q;
}

const toMinor = (x: Ratio, digits: number, mode: RoundingMode): bigint => roundRatio(x.num * pow10(digits), x.den, mode);

type GenDiscount = { type: 'percent' | 'amount'; value: Fixed };
type GenLine = { quantity: Fixed; unitPrice: Fixed; discount: GenDiscount | null; rate: Fixed | null };
type RefLine = { before: bigint; discount: bigint; net: bigint; tax: bigint; gross: bigint };

function referenceLine(l: GenLine, digits: number, taxMode: TaxMode, mode: RoundingMode): RefLine {
  const base: Ratio = { num: l.quantity.n * l.unitPrice.n, den: pow10(l.quantity.s + l.unitPrice.s) };
  let disc: Ratio = { num: 0n, den: 1n };
  if (l.discount?.type === 'percent') disc = { num: base.num * l.discount.value.n, den: base.den * pow10(l.discount.value.s) * 100n };
  if (l.discount?.type === 'amount') disc = { num: (base.num < 0n ? -1n : 1n) * l.discount.value.n, den: pow10(l.discount.value.s) };
  const rate = l.rate ?? { n: 0n, s: 0 };
  const before = toMinor(base, digits, mode);
  const after = toMinor(sub(base, disc), digits, mode);
  if (taxMode === 'exclusive') {
    const tax = roundRatio(after * rate.n, pow10(rate.s) * 100n, mode);
    return { before, discount: before - after, net: after, tax, gross: after + tax };
  }
  // gross × r / (100 + r) with r = n / 10^s  ⇒  gross × n / (100·10^s + n)
  const tax = roundRatio(after * rate.n, 100n * pow10(rate.s) + rate.n, mode);
  return { before, discount: before - after, net: after - tax, tax, gross: after };
}

/** Reads a figure back as minor units, asserting it has at most `digits` decimals. */
function minorOf(x: Dec, currency: string, digits: number): bigint {
  assert.ok(x.decimalPlaces() <= digits, `${formatDecimal(x)} has more than ${digits} decimals`);
  const s = formatAmount(x, currency);
  assert.match(s, digits === 0 ? /^-?\d+$/ : new RegExp(`^-?\\d+\\.\\d{${digits}}$`));
  return BigInt(s.replace('.', ''));
}

const fixed = (maxAbs: bigint, maxScale: number, allowNegative: boolean) =>
  fc.record({ n: fc.bigInt({ min: allowNegative ? -maxAbs : 0n, max: maxAbs }), s: fc.integer({ min: 0, max: maxScale }) });

const percentArb = fc
  .integer({ min: 0, max: 2 })
  .chain((s) => fc.bigInt({ min: 0n, max: 100n * pow10(s) }).map((n): Fixed => ({ n, s })));

const lineArb: fc.Arbitrary<GenLine> = fc.record({
  quantity: fixed(10_000_000n, 4, true),
  unitPrice: fixed(1_000_000_000n, 4, true),
  discount: fc.option(
    fc.oneof(
      percentArb.map((value): GenDiscount => ({ type: 'percent', value })),
      fixed(10_000_000n, 4, false).map((value): GenDiscount => ({ type: 'amount', value })),
    ),
  ),
  rate: fc.constantFrom<Fixed | null>(null, { n: 0n, s: 0 }, { n: 55n, s: 1 }, { n: 77n, s: 1 }, { n: 20n, s: 0 }, { n: 25n, s: 0 }),
});

test('computeTotals matches the BigInt reference (10,000 random invoices)', () => {
  fc.assert(
    fc.property(
      fc.array(lineArb, { minLength: 1, maxLength: 20 }),
      fc.constantFrom('JPY', 'USD', 'EUR', 'KWD', 'BHD', 'CLF'),
      fc.constantFrom<TaxMode>('exclusive', 'inclusive'),
      fc.constantFrom<RoundingMode>('half_up', 'half_even', 'half_down', 'up', 'down'),
      (genLines, currency, taxMode, roundingMode) => {
        const digits = currencyMinorUnits(currency);
        const t = computeTotals({
          currency, taxMode, roundingMode,
          lines: genLines.map((l, i) => ({
            id: `l${i}`,
            quantity: toDec(l.quantity),
            unitPrice: toDec(l.unitPrice),
            discount: l.discount && { type: l.discount.type, value: toDec(l.discount.value) },
            taxRate: l.rate && toDec(l.rate),
          })),
        });
        const m = (x: Dec) => minorOf(x, currency, digits);

        const ref = genLines.map((l) => referenceLine(l, digits, taxMode, roundingMode));
        assert.equal(t.lines.length, ref.length);
        t.lines.forEach((got, i) => {
          const want = ref[i]!;
          assert.equal(got.id, `l${i}`);
          assert.deepEqual(
            [m(got.amountBeforeDiscount), m(got.discountAmount), m(got.netAmount), m(got.taxAmount), m(got.grossAmount)],
            [want.before, want.discount, want.net, want.tax, want.gross],
            `line ${i}`,
          );
        });

        const sum = (f: (r: RefLine) => bigint) => ref.reduce((a, r) => a + f(r), 0n);
        assert.equal(m(t.subtotal), sum((r) => r.net));
        assert.equal(m(t.discountTotal), sum((r) => r.discount));
        assert.equal(m(t.taxTotal), sum((r) => r.tax));
        assert.equal(m(t.total), sum((r) => r.gross));
        // Identities on the engine's own figures.
        assert.ok(t.total.eq(t.subtotal.plus(t.taxTotal)));
        assert.ok(t.total.eq(t.lines.reduce((a, l) => a.plus(l.grossAmount), new Dec(0))));
        assert.ok(t.subtotal.eq(t.lines.reduce((a, l) => a.plus(l.netAmount), new Dec(0))));

        // Breakdown: one row per distinct rate (null → 0), ascending, sums of the rounded lines.
        const groups = new Map<string, { key: bigint; taxable: bigint; tax: bigint }>();
        genLines.forEach((l, i) => {
          const rate = l.rate ?? { n: 0n, s: 0 };
          const label = formatDecimal(toDec(rate));
          const g = groups.get(label) ?? { key: rate.n * pow10(4 - rate.s), taxable: 0n, tax: 0n };
          g.taxable += ref[i]!.net;
          g.tax += ref[i]!.tax;
          groups.set(label, g);
        });
        const wantRows = [...groups.entries()]
          .sort((a, b) => (a[1].key < b[1].key ? -1 : a[1].key > b[1].key ? 1 : 0))
          .map(([label, g]) => [label, g.taxable, g.tax]);
        const gotRows = t.taxBreakdown.map((r) => [formatDecimal(r.rate), m(r.taxableAmount), m(r.taxAmount)]);
        assert.deepEqual(gotRows, wantRows);
      },
    ),
    { numRuns: 10_000 },
  );
});
