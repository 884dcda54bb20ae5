import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser } from 'fast-xml-parser';
import { expectProblem, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';

let t: TestApp;
let api: Client;

before(async () => {
  t = await startTestApp();
  api = t.client(await t.key('xml-a'));
});
after(() => t.close());

const xmlHeaders = { 'content-type': 'application/xml' };
const sendXml = (method: string, url: string, xml: string, headers: Record<string, string> = {}) =>
  api.request(method, url, { rawBody: xml, headers: { ...xmlHeaders, ...headers } });

/** Everything but what differs between two created invoices (ids, times). */
function comparable(invoice: any) {
  const { id: _id, guid: _g, serial: _s, created_at: _c, updated_at: _u, lines, ...rest } = invoice;
  return { ...rest, lines: lines.map(({ id: _lid, guid: _lg, ...line }: any) => line) };
}

const jsonBody = {
  currency: 'EUR',
  memo: 'Fish & chips <special>',
  purchase_order: 'PO-9',
  payment_terms: { net_days: 30 },
  issue_date: '2026-03-01',
  metadata: { crm: 'A-1', 'odd key': 'x' },
  custom_fields: { region: { type: 'string', value: 'north' }, weight: { type: 'number', value: '12.5' } },
  bill_to: { name: 'Müller GmbH', address: { line1: 'Hauptstr. 1', city: 'Köln', country: 'DE' } },
  lines: [
    { description: 'Consulting', quantity: '3', unit_price: '100.00', tax_rate: '19', discount: { type: 'percent', value: '10' } },
    { description: 'Travel', quantity: '1', unit_price: '45.50', tracking: { project: 'P1' } },
  ],
};

const xmlBody = `<?xml version="1.0" encoding="UTF-8"?>
<invoice>
  <currency>EUR</currency>
  <memo>Fish &amp; chips &lt;special&gt;</memo>
  <purchase_order>PO-9</purchase_order>
  <payment_terms><net_days>30</net_days></payment_terms>
  <issue_date>2026-03-01</issue_date>
  <metadata><entry key="crm">A-1</entry><entry key="odd key">x</entry></metadata>
  <custom_fields>
    <entry key="region"><type>string</type><value>north</value></entry>
    <entry key="weight"><type>number</type><value>12.5</value></entry>
  </custom_fields>
  <bill_to><name>M&#252;ller GmbH</name><address><line1>Hauptstr. 1</line1><city>Köln</city><country>DE</country></address></bill_to>
  <lines>
    <line><description>Consulting</description><quantity>3</quantity><unit_price>100.00</unit_price><tax_rate>19</tax_rate>
      <discount><type>percent</type><value>10</value></discount></line>
    <line><description>Travel</description><quantity>1</quantity><unit_price>45.50</unit_price>
      <tracking><entry key="project">P1</entry></tracking></line>
  </lines>
</invoice>`;

describe('XML bodies', () => {
  test('an XML create gives the same invoice as the JSON equivalent', async () => {
    const fromJson = expectStatus(await api.post('/v1/invoices', jsonBody), 201);
    const fromXml = expectStatus(await sendXml('POST', '/v1/invoices', xmlBody), 201);
    assert.deepEqual(comparable(fromXml), comparable(fromJson));
    assert.equal(fromXml.memo, 'Fish & chips <special>');
    assert.equal(fromXml.total, fromJson.total);
  });

  test('an XML PATCH gives the same invoice as the JSON PATCH (null via nil="true", line operations)', async () => {
    const a = expectStatus(await api.post('/v1/invoices', jsonBody), 201);
    const b = expectStatus(await api.post('/v1/invoices', jsonBody), 201);
    const patchedJson = expectStatus(
      await api.patch(`/v1/invoices/${a.id}`, {
        memo: null,
        internal_note: 'checked',
        metadata: { crm: null, added: 'yes' },
        line_operations: [{ op: 'update', id: a.lines[1].id, quantity: '2' }, { op: 'add', description: 'Extra', quantity: '1', unit_price: '5' }],
      }, { 'if-match': '"1"' }),
      200,
    );
    const patchedXml = expectStatus(
      await sendXml('PATCH', `/v1/invoices/${b.id}`, `<invoice>
        <memo nil="true"/>
        <internal_note>checked</internal_note>
        <metadata><entry key="crm" nil="true"/><entry key="added">yes</entry></metadata>
        <line_operations>
          <operation><op>update</op><id>${b.lines[1].id}</id><quantity>2</quantity></operation>
          <operation><op>add</op><description>Extra</description><quantity>1</quantity><unit_price>5</unit_price></operation>
        </line_operations>
      </invoice>`, { 'if-match': '"1"' }),
      200,
    );
    assert.equal(patchedXml.version, 2);
    assert.equal(patchedXml.memo, null);
    assert.deepEqual(comparable(patchedXml), comparable(patchedJson));
  });

  test('an XML PUT gives the same invoice as the JSON PUT', async () => {
    const a = expectStatus(await api.post('/v1/invoices', { currency: 'EUR' }), 201);
    const b = expectStatus(await api.post('/v1/invoices', { currency: 'EUR' }), 201);
    const putJson = expectStatus(await api.put(`/v1/invoices/${a.id}`, jsonBody), 200);
    const putXml = expectStatus(await sendXml('PUT', `/v1/invoices/${b.id}`, xmlBody), 200);
    assert.deepEqual(comparable(putXml), comparable(putJson));
  });

  test('Accept: application/xml answers with the same model as XML', async () => {
    const created = expectStatus(await api.post('/v1/invoices', jsonBody), 201);
    const reply = await api.get(`/v1/invoices/${created.id}`, { accept: 'application/xml' });
    assert.equal(reply.status, 200);
    assert.match(String(reply.headers['content-type']), /^application\/xml/);
    assert.equal(reply.headers.etag, '"1"');
    const parsed = new XMLParser({ ignoreAttributes: false, parseTagValue: false }).parse(reply.text);
    assert.equal(parsed.invoice.id, created.id);
    assert.equal(parsed.invoice.total, created.total);
    assert.equal(parsed.invoice.memo, 'Fish & chips <special>');
    assert.equal(parsed.invoice.lines.line.length, 2);
    assert.equal(parsed.invoice.lines.line[0].description, 'Consulting');
    assert.deepEqual(parsed.invoice.metadata.entry.map((entry: any) => entry['@_key']), ['crm', 'odd key']);
    assert.equal(parsed.invoice.number['@_xsi:nil'], 'true');
    assert.equal(parsed.invoice['@_xmlns:xsi'], 'http://www.w3.org/2001/XMLSchema-instance');
    assert.match(reply.text, /<number xsi:nil="true"\/>/);

    // What the server writes, it reads: the XML answer sent back as a PUT body changes nothing financial.
    const xmlCreate = await sendXml('POST', '/v1/invoices', xmlBody, { accept: 'application/xml' });
    assert.equal(xmlCreate.status, 201);
    assert.match(xmlCreate.text, /^<\?xml version="1.0" encoding="UTF-8"\?><invoice xmlns:xsi="http:\/\/www.w3.org\/2001\/XMLSchema-instance">/);
  });

  test("a write's XML answer, a GET's and a GET of that version's are the same document (members in the schema's order)", async () => {
    const created = expectStatus(await api.post('/v1/invoices', jsonBody), 201);
    const patched = await api.patch(`/v1/invoices/${created.id}`, { memo: 'same order', line_operations: [{ op: 'add', description: 'Extra', unit_price: '1' }] }, { accept: 'application/xml' });
    assert.equal(patched.status, 200);
    const read = await api.get(`/v1/invoices/${created.id}`, { accept: 'application/xml' });
    assert.equal(read.text, patched.text);
    // An earlier version is rebuilt from history (another object, built in another order): same document.
    expectStatus(await api.patch(`/v1/invoices/${created.id}`, { memo: 'later' }), 200);
    const earlier = await api.get(`/v1/invoices/${created.id}?version=2`, { accept: 'application/xml' });
    assert.equal(earlier.text, patched.text);
  });

  test('malformed XML is a 400 problem: JSON by default, problem+xml when XML is asked for', async () => {
    const broken = '<invoice><memo>unclosed</invoice>';
    const asJson = await sendXml('POST', '/v1/invoices', broken);
    expectProblem(asJson, 400, 'malformed-request');
    const asXml = await sendXml('POST', '/v1/invoices', broken, { accept: 'application/xml' });
    assert.equal(asXml.status, 400);
    assert.match(String(asXml.headers['content-type']), /^application\/problem\+xml/);
    const parsed = new XMLParser({ ignoreAttributes: false }).parse(asXml.text);
    assert.equal(parsed.problem['@_xmlns'], 'urn:ietf:rfc:7807');
    assert.equal(parsed.problem.type, '/problems/malformed-request');
    expectProblem(await sendXml('POST', '/v1/invoices', '<bill><currency>EUR</currency></bill>'), 400, 'malformed-request');
  });

  test('an XML body with invalid UTF-8 is a 400, nothing written', async () => {
    const created = expectStatus(await api.post('/v1/invoices', jsonBody), 201);
    const bytes = Buffer.concat([Buffer.from('<invoice><memo>'), Buffer.from([0xc3, 0x28]), Buffer.from('</memo></invoice>')]);
    const reply = await api.request('PATCH', `/v1/invoices/${created.id}`, { rawBody: bytes, headers: xmlHeaders });
    expectProblem(reply, 400, 'malformed-request');
    assert.equal(expectStatus(await api.get(`/v1/invoices/${created.id}`), 200).version, created.version);
  });

  test('a billion-laughs document is refused (400) before any parsing or expansion', async () => {
    const laughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 ${Array.from({ length: 9 }, (_, index) => `<!ENTITY lol${index + 1} "${`&lol${index === 0 ? '' : index};`.repeat(10)}">`).join('\n ')}
]>
<invoice><currency>EUR</currency><memo>&lol9;</memo></invoice>`;
    const started = process.hrtime.bigint();
    const problem = expectProblem(await sendXml('POST', '/v1/invoices', laughs), 400, 'malformed-request');
    console.log(`# billion laughs refused in ${Number(process.hrtime.bigint() - started) / 1e6} ms`);
    assert.match(problem.detail, /DOCTYPE/);
    const external = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><invoice><memo>&xxe;</memo></invoice>`;
    expectProblem(await sendXml('POST', '/v1/invoices', external), 400, 'malformed-request');
    expectProblem(await sendXml('POST', '/v1/invoices', '<invoice><memo>&nbsp;</memo></invoice>'), 400, 'malformed-request');
  });

  test('XML field errors point at the JSON member, like JSON bodies', async () => {
    const problem = expectProblem(await sendXml('POST', '/v1/invoices', '<invoice><currency>EUR</currency><colour>red</colour></invoice>'), 400, 'validation-error');
    assert.deepEqual(problem.errors.map((error: any) => error.pointer), ['/colour']);
  });

  test('routes that have not opted in refuse XML bodies (415)', async () => {
    expectProblem(await sendXml('POST', '/v1/customers', '<customer><name>X</name></customer>'), 415, 'unsupported-media-type');
  });
});

describe('?fields=', () => {
  test('GET returns only the named fields (id always kept), nested ones by dots', async () => {
    const created = expectStatus(await api.post('/v1/invoices', jsonBody), 201);
    const reply = expectStatus(await api.get(`/v1/invoices/${created.id}?fields=number,total,lines.description`), 200);
    assert.deepEqual(reply, {
      id: created.id,
      number: null,
      total: created.total,
      lines: created.lines.map((line: any) => ({ id: line.id, description: line.description })),
    });
    const asXml = await api.get(`/v1/invoices/${created.id}?fields=total`, { accept: 'application/xml' });
    assert.equal(asXml.text, `<?xml version="1.0" encoding="UTF-8"?><invoice xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><id>${created.id}</id><total>${created.total}</total></invoice>`);
  });

  test('PATCH (and POST) responses honour fields; an unknown field is a 400 naming it and writes nothing', async () => {
    const created = expectStatus(await api.post('/v1/invoices?fields=version,status', jsonBody), 201);
    assert.deepEqual(Object.keys(created).sort(), ['id', 'status', 'version']);
    const patched = expectStatus(await api.patch(`/v1/invoices/${created.id}?fields=memo,version,bill_to.name`, { memo: 'New' }), 200);
    assert.deepEqual(patched, { id: created.id, memo: 'New', version: 2, bill_to: { name: 'Müller GmbH' } });

    const refused = expectProblem(await api.patch(`/v1/invoices/${created.id}?fields=memo,colour`, { memo: 'Newer' }), 400, 'validation-error');
    assert.match(refused.detail, /"colour"/);
    assert.deepEqual(refused.errors, [{ pointer: '/query/fields', detail: 'unknown field "colour"' }]);
    expectProblem(await api.get(`/v1/invoices/${created.id}?fields=lines.colour`), 400, 'validation-error');
    assert.equal(expectStatus(await api.get(`/v1/invoices/${created.id}`), 200).memo, 'New', 'the refused PATCH wrote nothing');
  });

  test('lifecycle transitions answer with the same representation: fields and XML', async () => {
    const draft = expectStatus(await api.post('/v1/invoices', jsonBody), 201);
    const finalized = expectStatus(await api.post(`/v1/invoices/${draft.id}/finalize?fields=status,number,version`), 200);
    assert.deepEqual(Object.keys(finalized).sort(), ['id', 'number', 'status', 'version']);
    assert.equal(finalized.status, 'open');
    expectProblem(await api.post(`/v1/invoices/${draft.id}/void?fields=colour`), 400, 'validation-error');
    assert.equal(expectStatus(await api.get(`/v1/invoices/${draft.id}`), 200).status, 'open', 'the refused void wrote nothing');
    const voided = await api.request('POST', `/v1/invoices/${draft.id}/void?fields=status`, { headers: { accept: 'application/xml' } });
    assert.equal(voided.status, 200, voided.text);
    assert.match(String(voided.headers['content-type']), /^application\/xml/);
    assert.equal(new XMLParser({ parseTagValue: false }).parse(voided.text).invoice.status, 'void');
  });

  test('the list applies fields to every item', async () => {
    const page = expectStatus(await api.get('/v1/invoices?limit=2&fields=total'), 200);
    assert.equal(page.data.length, 2);
    for (const item of page.data) assert.deepEqual(Object.keys(item).sort(), ['id', 'total']);
    assert.equal(typeof page.has_more, 'boolean');
    const asXml = await api.get('/v1/invoices?limit=2&fields=total', { accept: 'application/xml' });
    const parsed = new XMLParser({ parseTagValue: false }).parse(asXml.text);
    assert.equal(parsed.invoice_list.data.invoice.length, 2);
    assert.deepEqual(Object.keys(parsed.invoice_list.data.invoice[0]), ['id', 'total']);
    assert.equal(parsed.invoice_list.has_more, 'true');
  });
});
