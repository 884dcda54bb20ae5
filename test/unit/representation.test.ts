import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { prefersXml } from '../../src/core/representation.js';
import { parseFieldSelection, selectFields } from '../../src/http/representation.js';
import { parseXmlBody, toXmlDocument } from '../../src/http/xml.js';
import { InvoiceSchema, InvoiceWriteSchema } from '../../src/modules/invoices/schemas.js';

describe('Accept negotiation', () => {
  test('XML only when it is preferred; JSON wins ties and wildcards', () => {
    assert.equal(prefersXml(undefined), false);
    assert.equal(prefersXml('*/*'), false);
    assert.equal(prefersXml('application/json'), false);
    assert.equal(prefersXml('application/xml'), true);
    assert.equal(prefersXml('text/xml'), true);
    assert.equal(prefersXml('application/xml, */*;q=0.1'), true);
    assert.equal(prefersXml('application/json, application/xml'), false);
    assert.equal(prefersXml('application/json;q=0.5, application/xml'), true);
    assert.equal(prefersXml('application/xml;q=0'), false);
  });
});

describe('?fields= parsing', () => {
  test('known paths build a tree; unknown ones are named in the 400', () => {
    const tree = parseFieldSelection('number, total,lines.description,lines.quantity,bill_to.address.city', InvoiceSchema);
    assert.ok(tree);
    assert.deepEqual([...tree.keys()], ['number', 'total', 'lines', 'bill_to']);
    assert.throws(() => parseFieldSelection('number,nope', InvoiceSchema), /unknown field "nope"/);
    assert.throws(() => parseFieldSelection('total.amount', InvoiceSchema), /unknown field "total.amount"/);
    assert.throws(() => parseFieldSelection(',', InvoiceSchema), /fields is empty/);
    assert.equal(parseFieldSelection(undefined, InvoiceSchema), null);
  });

  test('selection keeps id and the named members only', () => {
    const tree = parseFieldSelection('lines.description', InvoiceSchema)!;
    const selected = selectFields({ id: 'inv_1', total: '1', lines: [{ id: 'lin_1', description: 'a', quantity: '1' }] }, tree);
    assert.deepEqual(selected, { id: 'inv_1', lines: [{ id: 'lin_1', description: 'a' }] });
  });
});

describe('XML mapping', () => {
  const stringMap = fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }).filter((key) => !['__proto__', 'constructor'].includes(key)), fc.string({ maxLength: 20 }), { maxKeys: 4 });

  test('what toXmlDocument writes, parseXmlBody reads back unchanged (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          memo: fc.option(fc.string({ maxLength: 40 }).map((text) => text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF\r]/g, '')), { nil: null }),
          reference: fc.string({ maxLength: 20 }).map((text) => text.replace(/[^\x20-\x7E]/g, '')),
          metadata: stringMap,
          payment_terms: fc.record({ net_days: fc.integer({ min: 0, max: 3650 }) }),
          lines: fc.array(fc.record({ description: fc.string({ maxLength: 10 }).map((text) => text.replace(/[^\x20-\x7E]/g, '')), quantity: fc.constantFrom('1', '2.5', '10') }), { maxLength: 3 }),
        }),
        (generated) => {
          const model = JSON.parse(JSON.stringify(generated)); // plain prototypes, as a parsed body has
          const xml = toXmlDocument('invoice', model);
          assert.deepEqual(parseXmlBody(xml, 'invoice', InvoiceWriteSchema), model);
        },
      ),
    );
  });

  const xmlText = (maxLength: number) => fc.string({ maxLength }).map((text) => text.replace(/[^\x20-\x7E]/g, ''));
  const countNulls = (value: unknown): number =>
    value === null ? 1 : typeof value === 'object' ? Object.values(value as object).reduce((sum: number, member) => sum + countNulls(member), 0) : 0;
  const nullableText = (maxLength: number) => fc.option(xmlText(maxLength), { nil: null });

  test('null is written xsi:nil="true" with xsi declared on the root, and reads back as null at any depth (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          memo: nullableText(20),
          metadata: fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }).filter((key) => !['__proto__', 'constructor'].includes(key)), nullableText(10), { maxKeys: 4 }),
          bill_to: fc.option(
            fc.record({
              name: nullableText(20),
              phone: nullableText(10),
              address: fc.option(fc.record({ line1: nullableText(20), city: nullableText(10) }), { nil: null }),
            }),
            { nil: null },
          ),
        }),
        (generated) => {
          const model = JSON.parse(JSON.stringify(generated));
          const xml = toXmlDocument('invoice', model);
          assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?><invoice xmlns:xsi="http:\/\/www\.w3\.org\/2001\/XMLSchema-instance"[ >]/);
          assert.doesNotMatch(xml, /[\s<]nil=/, 'nil is always in the xsi namespace');
          const nulls = countNulls(model);
          assert.equal(xml.match(/ xsi:nil="true"\/>/g)?.length ?? 0, nulls, 'one self-closed xsi:nil element per null');
          assert.deepEqual(parseXmlBody(xml, 'invoice', InvoiceWriteSchema), model);
        },
      ),
    );
  });

  test('DOCTYPE and unknown entities are refused', () => {
    assert.throws(() => parseXmlBody('<!DOCTYPE invoice><invoice/>', 'invoice', InvoiceWriteSchema), /DOCTYPE/);
    assert.throws(() => parseXmlBody('<invoice><memo>&foo;</memo></invoice>', 'invoice', InvoiceWriteSchema), /Unknown entity/);
    const deep = `<invoice><memo>${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</memo></invoice>`;
    assert.throws(() => parseXmlBody(deep, 'invoice', InvoiceWriteSchema), (error: any) => error.status === 400, 'deep nesting is a 400, not a stack overflow');
    assert.deepEqual(parseXmlBody('<invoice><memo>&#x41;&amp;#65;</memo></invoice>', 'invoice', InvoiceWriteSchema), { memo: 'A&#65;' });
  });
});
