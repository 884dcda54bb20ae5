import type { EtagMap, InvoiceSet } from './load.js';
import { invoiceIdFor, lineIdFor } from './seed.js';

/**
 * Before measuring: a seeded invoice must GET and PATCH (If-Match) through the running
 * server exactly like an invoice created through the API. Throws otherwise.
 */
export async function verifySeededInvoice(url: string, key: string, set: InvoiceSet, etags: EtagMap): Promise<void> {
  const n = set.count;
  const id = invoiceIdFor(set.tag, n);
  const headers = { authorization: `Bearer ${key}` };
  const got = await fetch(`${url}/v1/invoices/${id}`, { headers });
  const invoice = (await got.json()) as { lines?: unknown[]; version?: number; total?: string };
  if (got.status !== 200 || invoice.lines?.length !== set.linesPerInvoice) {
    throw new Error(`seeded invoice ${id}: GET ${got.status} ${JSON.stringify(invoice).slice(0, 300)}`);
  }
  const version = invoice.version!;
  const patched = await fetch(`${url}/v1/invoices/${id}`, {
    method: 'PATCH',
    headers: { ...headers, 'content-type': 'application/json', 'if-match': `"${version}"` },
    body: JSON.stringify({ memo: `verified ${Date.now()}`, line_operations: [{ op: 'update', id: lineIdFor(set.tag, n, 1), quantity: `${1 + (Date.now() % 97)}.5` }] }),
  });
  const body = await patched.text();
  if (patched.status !== 200 || patched.headers.get('etag') !== `"${version + 1}"`) {
    throw new Error(`seeded invoice ${id}: PATCH ${patched.status} etag ${patched.headers.get('etag')} ${body.slice(0, 300)}`);
  }
  etags.set(id, version + 1);
}
